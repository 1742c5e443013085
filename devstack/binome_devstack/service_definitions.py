"""The three services' definitions (and the read-only report server's topics): the one place
of the code base that knows them all.

The production packages never list the services: ``binome_shared`` serves any of them and
each service knows only itself. The development tools that need the whole platform (the
generated docs and Kubernetes manifests, the secured local stack's ACLs) read it here.

Les trois services, au seul endroit du code qui les connaît tous : les outils de
développement (documents et manifestes générés, ACL de la pile locale sécurisée).
"""

from __future__ import annotations

from binome_integrations.report.events import REPORT_TOPICS
from binome_notifications.bootstrap import definition as notifications
from binome_pairing.bootstrap import definition as pairing
from binome_sessions.bootstrap import definition as sessions
from binome_shared.contracts.acls import ReadOnlyClient
from binome_shared.runtime.service import ServiceDefinition

REPORT = "report"
"""``binome-report serve``: its Kafka principal, Deployment and Service bear this name."""


def service_definitions() -> list[ServiceDefinition]:
    """Pairing, sessions and notifications, in the order the docs list them."""
    return [pairing(), sessions(), notifications()]


def read_only_clients() -> list[ReadOnlyClient]:
    """The report server, reading exactly the topics it replays (no group, no write)."""
    return [ReadOnlyClient(name=REPORT, topics=REPORT_TOPICS)]
