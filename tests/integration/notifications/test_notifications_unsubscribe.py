"""RFC 8058 one-click unsubscribe and the preferences page, on the real service: the links
found in a real e-mail (SMTP sink) change the person's opt-outs through the same
SetNotificationPreferences handler an HR platform uses, and later e-mails respect them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from binome_devstack.notifications.smtp_sink import SmtpSink
from tests.integration.notifications.test_notifications_service_delivery import (
    body_text,
    publish,
    read_mail,
    start_notifications,
    stored_count,
)
from tests.support.action_links import ActionLinkIssuer, outcome
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess
from tests.support.waiting import eventually
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

OPT_OUTS = """
SELECT opt_outs FROM notification_preferences WHERE tenant_id = $1 AND participant_id = $2
"""


async def opt_outs(database: ProvisionedDatabase) -> list[dict[str, str | None]]:
    raw = await database.fetchval("notifications", OPT_OUTS, make.TENANT, make.MENTEE)
    return [] if raw is None else list(json.loads(raw))


async def introduced(
    service_factory: Any, sink: SmtpSink, kafka: Kafka, tmp_path: Path
) -> tuple[ServiceProcess, Any]:
    issuer = ActionLinkIssuer()
    service = start_notifications(service_factory, sink, **issuer.signing_env())
    # Its own pages: the base URL of the notifications links is the process itself.
    await service.wait_ready()
    await publish(kafka, make.define_programme(), *make.enrol_pair(), make.pair_formed())
    await eventually(lambda: stored_count(sink), 2)
    [laurent] = [m for m in read_mail(sink) if "laurent.girard" in str(m["To"])]
    return service, laurent


def on(service: ServiceProcess, url: str) -> str:
    """The link's path and query on the running process (the e-mail names the public host)."""
    return service.url + url[url.index("/actions") :]


async def test_one_click_unsubscribe_then_the_preferences_page(
    database: ProvisionedDatabase,
    kafka: Kafka,
    service_factory: Any,
    mail_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    service, laurent = await introduced(service_factory, mail_sink, kafka, tmp_path)
    assert laurent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = on(service, str(laurent["List-Unsubscribe"]).strip("<>"))
    [preferences] = re.findall(r"https?://\S+/actions\?token=\S+", body_text(laurent))

    async with httpx.AsyncClient(timeout=10) as client:
        # What a mail client does (RFC 8058 §3.2): a POST with this body, no cookies, no page.
        one_click = await client.post(unsubscribe, content=b"List-Unsubscribe=One-Click")
        assert (one_click.status_code, outcome(one_click)) == (200, "recorded")
        assert await opt_outs(database) == [{"kind": "introduction", "channel": "email"}]
        again = await client.post(unsubscribe, content=b"List-Unsubscribe=One-Click")
        assert outcome(again) == "already_recorded"

        page = await client.get(on(service, preferences))
        assert page.status_code == 200
        assert '<html lang="en">' in page.text
        assert 'value="introduction" checked' in page.text
        assert 'value="session_reminder">' in page.text
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token is not None
        changed = await client.post(
            service.url + "/actions",
            data={"token": token.group(1), "opt_out": ["session_reminder", "feedback_request"]},
        )
        assert (changed.status_code, outcome(changed)) == (200, "recorded")
        assert await opt_outs(database) == [
            {"kind": "feedback_request", "channel": "email"},
            {"kind": "session_reminder", "channel": "email"},
        ]
        # The preferences link is not once-only: it changes them again.
        cleared = await client.post(service.url + "/actions", data={"token": token.group(1)})
        assert outcome(cleared) == "recorded"
        assert await opt_outs(database) == []


async def test_an_unsubscribe_link_tampered_with_does_nothing(
    database: ProvisionedDatabase,
    kafka: Kafka,
    service_factory: Any,
    mail_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    service, laurent = await introduced(service_factory, mail_sink, kafka, tmp_path)
    unsubscribe = on(service, str(laurent["List-Unsubscribe"]).strip("<>"))
    head, _, signature = unsubscribe.rpartition(".")
    tampered = f"{head}.{signature[::-1]}"
    async with httpx.AsyncClient(timeout=10) as client:
        refused = await client.post(tampered, content=b"List-Unsubscribe=One-Click")
    assert (refused.status_code, outcome(refused)) == (403, "invalid")
    assert await opt_outs(database) == []
