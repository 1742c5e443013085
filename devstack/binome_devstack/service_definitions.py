"""The three services' definitions: the one place of the code base that knows them all.

The production packages never list the services: ``binome_shared`` serves any of them and
each service knows only itself. The development tools that need the whole platform (the
generated docs and Kubernetes manifests, the secured local stack's ACLs) read it here.

Les trois services, au seul endroit du code qui les connaît tous : les outils de
développement (documents et manifestes générés, ACL de la pile locale sécurisée).
"""

from __future__ import annotations

from binome_notifications.bootstrap import definition as notifications
from binome_pairing.bootstrap import definition as pairing
from binome_sessions.bootstrap import definition as sessions
from binome_shared.runtime.service import ServiceDefinition


def service_definitions() -> list[ServiceDefinition]:
    """Pairing, sessions and notifications, in the order the docs list them."""
    return [pairing(), sessions(), notifications()]
