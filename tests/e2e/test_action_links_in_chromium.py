"""A person acts from an e-mail, in headless Chromium, on the real stack: sessions and
notifications as processes, real Kafka and PostgreSQL, the SMTP sink's ``.eml`` files. The
"it took place" link of a real invitation, clicked, becomes SessionCompleted on Kafka; the
feedback form of the feedback request that follows, filled and sent, becomes FeedbackGiven;
a second click says "already recorded"; a tampered link shows the error page. With pairing:
the "accept" link of a real consent request, clicked, becomes PairAccepted on Kafka."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest

from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_shared.contracts.pairing_events import PairAccepted
from binome_shared.contracts.sessions_messages import ScheduleSession
from binome_shared.contracts.topics import PAIRING_EVENTS, SESSIONS_EVENTS
from binome_shared.contracts.values import Language
from tests.integration.notifications.test_notifications_service_delivery import (
    body_text,
    publish,
    read_mail,
)
from tests.integration.pairing.test_pairing_consent import ROUNDS, start_consent_round
from tests.integration.sessions.test_sessions_service_flow import set_clock
from tests.support.action_links import ActionLinkIssuer, outcome
from tests.support.chromium import BROWSER_ABSENT, HeadlessChromium, chromium_present
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess, read_envelopes
from tests.support.waiting import eventually
from tests.unit.notifications import notifications_factories as make
from tests.unit.pairing.pairing_builders import mentee, mentor, need, skill

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not chromium_present(), reason=BROWSER_ABSENT),
]

SLOT = make.NOW + timedelta(days=2)
AFTER = SLOT + timedelta(hours=2)
T = TypeVar("T")


def laurents(sink: SmtpSink, subject: str) -> list[EmailMessage]:
    """Laurent Girard's e-mails (the mentee, in English) whose subject says ``subject``."""
    return [
        message
        for message in read_mail(sink)
        if "laurent.girard" in str(message["To"]) and subject in str(message["Subject"])
    ]


async def count(sink: SmtpSink, subject: str) -> int:
    return len(laurents(sink, subject))


def link_after(label: str, message: EmailMessage) -> str:
    found = re.search(re.escape(label) + r": (\S+)", body_text(message))
    assert found is not None, f"no {label!r} link in {body_text(message)}"
    return found.group(1)


async def in_browser(call: Callable[..., T], *arguments: Any) -> T:
    """A browser step off the event loop (the SMTP sink runs on it)."""
    return await asyncio.to_thread(call, *arguments)


async def sending(
    service_factory: Any,
    sink: SmtpSink,
    issuer: ActionLinkIssuer,
    performers: dict[str, str],
    **env: str,
) -> ServiceProcess:
    """Notifications, ready, e-mailing to ``sink`` with links signed for ``performers``."""
    notifications: ServiceProcess = service_factory(
        "notifications",
        BINOME_SMTP_HOST="127.0.0.1",
        BINOME_SMTP_PORT=str(sink.port),
        BINOME_SMTP_FROM="binome@binome.example.com",
        BINOME_ACTION_LINK_BASE_URLS=json.dumps(
            {**performers, "notifications": "http://notifications.invalid"}
        ),
        **issuer.signing_env(),
        **env,
    )
    await notifications.wait_ready()
    return notifications


async def started(
    service_factory: Any, sink: SmtpSink, issuer: ActionLinkIssuer
) -> tuple[ServiceProcess, ServiceProcess]:
    sessions: ServiceProcess = service_factory(
        "sessions", BINOME_CLOCK="simulated", **issuer.verifying_env()
    )
    await sessions.wait_ready()
    notifications = await sending(
        service_factory, sink, issuer, {"sessions": sessions.url}, BINOME_CLOCK="simulated"
    )
    for service in (sessions, notifications):
        await set_clock(service, make.NOW)
    return sessions, notifications


async def test_a_person_reports_the_session_and_rates_it_from_the_e_mails(
    database: ProvisionedDatabase,
    kafka: Kafka,
    service_factory: Any,
    mail_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    sessions, notifications = await started(service_factory, mail_sink, ActionLinkIssuer())
    formed = make.pair_formed().data.model_copy(update={"mentor_trained": True})
    await publish(
        kafka,
        make.define_programme(),
        *make.enrol_pair(),
        make.envelope(formed, source="/binome/pairing"),
    )
    await eventually(
        lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs WHERE state IS NOT NULL"),
        1,
    )
    await publish(
        kafka,
        make.envelope(
            ScheduleSession(pair_id="pair-1", session_number=1, starts_at=SLOT),
            source="/hr/test-platform",
        ),
    )
    await eventually(lambda: count(mail_sink, "Session confirmed"), 1)
    [invitation] = laurents(mail_sink, "Session confirmed")
    took_place = link_after("It took place", invitation)
    assert took_place.startswith(f"{sessions.url}/actions?token=")
    await set_clock(sessions, AFTER)

    with HeadlessChromium(tmp_path / "chromium") as browser:
        page = await in_browser(browser.open, took_place)
        assert '<html lang="en">' in page
        assert "Do you confirm this session took place?" in page
        done = await in_browser(browser.click, "button[type=submit]")
        assert outcome(done) == "recorded", done

        facts = await read_envelopes(kafka, SESSIONS_EVENTS, expect=3)
        completed = [e for e in facts if type(e.data).__name__ == "SessionCompleted"]
        assert [(e.data.pair_id, e.data.session_number) for e in completed] == [("pair-1", 1)]

        second = await in_browser(browser.open, took_place)
        assert outcome(second) == "already_recorded"
        assert "Already recorded" in second

        head, _, signature = took_place.rpartition(".")
        tampered = await in_browser(browser.open, f"{head}.{signature[:-6]}AAAAAA")
        assert outcome(tampered) == "invalid"
        assert "Lien non valide" in tampered
        assert "Invalid link" in tampered

        # SessionCompleted made notifications ask for feedback: the form, filled and sent.
        await set_clock(notifications, AFTER)
        await eventually(lambda: count(mail_sink, "How did your session"), 1)
        [request] = laurents(mail_sink, "How did your session")
        form = await in_browser(browser.open, link_after("Give your feedback", request))
        assert "Is this pair a good fit for you?" in form  # after the first session
        await in_browser(browser.check, 'input[name="rating"][value="4"]')
        await in_browser(browser.check, 'input[name="good_fit"][value="yes"]')
        sent = await in_browser(browser.click, "button[type=submit]")
        assert outcome(sent) == "recorded", sent

    facts = await read_envelopes(kafka, SESSIONS_EVENTS, expect=4)
    given = [e.data for e in facts if type(e.data).__name__ == "FeedbackGiven"]
    assert [(f.rating, f.side.value, f.session_number) for f in given] == [(4, "mentee", 1)]
    assert len([e for e in facts if type(e.data).__name__ == "SessionCompleted"]) == 1


async def test_a_person_accepts_a_proposed_pair_from_the_consent_e_mail(
    database: ProvisionedDatabase,
    kafka: Kafka,
    service_factory: Any,
    mail_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    issuer = ActionLinkIssuer()
    pairing: ServiceProcess = service_factory("pairing", **issuer.verifying_env())
    await pairing.wait_ready()
    await sending(service_factory, mail_sink, issuer, {"pairing": pairing.url})
    people = [
        mentor("M1", full_name="Inès Martin", skills=[skill("data", 5)]),
        mentee(
            "E1",
            full_name="Laurent Girard",
            email="laurent.girard@example.com",
            preferred_language=Language.EN,
            learning_needs=[need("data", 5)],
        ),
    ]
    await start_consent_round(kafka, people)
    await eventually(lambda: database.fetchval("pairing", ROUNDS), 1)
    await eventually(lambda: count(mail_sink, "Would you pair with"), 1)
    [request] = laurents(mail_sink, "Would you pair with")
    accept = link_after("Accept", request)
    assert accept.startswith(f"{pairing.url}/actions?token=")

    with HeadlessChromium(tmp_path / "chromium") as browser:
        page = await in_browser(browser.open, accept)
        assert '<html lang="en">' in page
        assert "Do you accept this pair?" in page
        done = await in_browser(browser.click, "button[type=submit]")
        assert outcome(done) == "recorded", done
        second = await in_browser(browser.open, accept)
        assert outcome(second) == "already_recorded"

    facts = await read_envelopes(kafka, PAIRING_EVENTS, expect=3)
    accepted = [e.data for e in facts if isinstance(e.data, PairAccepted)]
    assert [a.side.value for a in accepted] == ["mentee"]
