"""Participant consent in the pairing service, on the real broker and Postgres, with the
service's clock simulated: a pair both members accept is formed; a decline calls its pair
off and re-pairs the freed mentee elsewhere (never with the declined partner); silence past
the deadline is caught by the periodic sweep; late, foreign and other tenants' answers are
dead-lettered with their codes. Every event the service publishes is counted."""

from __future__ import annotations

import email
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import (
    AcceptPair,
    DeclinePair,
    EnrolParticipant,
    RequestMatching,
)
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    MatchingCompleted,
    PairAccepted,
    PairCalledOff,
    PairConsentRequested,
    PairFormed,
)
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.programme import ApprovalMode, ParticipantConsent
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS
from binome_shared.contracts.values import Language
from tests.integration.sessions.test_sessions_service_flow import set_clock
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes
from tests.support.programmes import HR_SOURCE, hr_command, programme_definition
from tests.support.waiting import eventually
from tests.unit.pairing.pairing_builders import mentee, mentor, need, rules, skill

pytestmark = pytest.mark.integration

PROGRAMME = "prog-accord"
OTHER_TENANT = "autre-groupe"
ASKED_AT = datetime(2028, 3, 1, 8, 0, tzinfo=UTC)
"""After the machine's real time: a simulated clock only moves forward."""
WITHIN = timedelta(hours=48)
ROUNDS = "SELECT rounds_run FROM programmes WHERE tenant_id = 'groupe-exemple'"
STATUS = "SELECT status FROM pairs WHERE pair_id = $1"
PAIRS = "SELECT mentor_id, pair_id FROM pairs WHERE round_id = $1 ORDER BY mentor_id"


def of_type(envelopes: list[Any], kind: type) -> list[Any]:
    return [envelope.data for envelope in envelopes if isinstance(envelope.data, kind)]


async def send(kafka: Kafka, *commands: Any, tenant_id: str | None = None) -> None:
    for command in commands:
        envelope = hr_command(command, programme_id=PROGRAMME)
        if tenant_id is not None:
            envelope = Envelope.new(
                command,
                source=HR_SOURCE,
                time=envelope.time,
                tenant_id=tenant_id,
                programme_id=PROGRAMME,
            )
        await kafka.publish(envelope)


async def start_consent_round(
    kafka: Kafka, people: list[Any], *, tenant_id: str | None = None
) -> None:
    """The consent programme, its people enrolled and matching round ``r1`` asked for."""
    await send(kafka, consent_programme(), tenant_id=tenant_id)
    enrolments = [EnrolParticipant(participant=person) for person in people]
    await send(kafka, *enrolments, tenant_id=tenant_id)
    await send(kafka, RequestMatching(round_id="r1"), tenant_id=tenant_id)


def consent_programme() -> Any:
    return programme_definition(
        rules().model_copy(
            update={
                "approval_mode": ApprovalMode.AUTOMATIC,
                "participant_consent": ParticipantConsent(respond_within_hours=48),
            }
        )
    )


async def test_consent_forms_calls_off_re_pairs_and_refuses_on_the_real_stack(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing", BINOME_CLOCK="simulated")
    await pairing.wait_ready()
    await set_clock(pairing, ASKED_AT)
    # M1 suits E1 (data), M2 suits E2 (AI); M3 is everyone's second choice.
    people = [
        mentor("M1", skills=[skill("data", 5)]),
        mentor("M2", skills=[skill("generative_ai", 5)]),
        mentor("M3", skills=[skill("data", 2), skill("generative_ai", 2)]),
        mentee("E1", learning_needs=[need("data", 5)]),
        mentee("E2", learning_needs=[need("generative_ai", 5)]),
    ]
    await start_consent_round(kafka, people)
    await eventually(lambda: database.fetchval("pairing", ROUNDS), 1)
    first = dict(await database.fetch("pairing", PAIRS, "r1"))
    assert set(first) == {"M1", "M2"}
    formed, declined = first["M1"], first["M2"]

    # Both accept pair (M1, E1), M1 twice; E2 declines (M2, E2) after M2 accepted.
    await send(
        kafka,
        AcceptPair(pair_id=formed, participant_id="E1"),
        AcceptPair(pair_id=formed, participant_id="M1"),
        AcceptPair(pair_id=formed, participant_id="M1"),
        AcceptPair(pair_id=declined, participant_id="M2"),
        DeclinePair(pair_id=declined, participant_id="E2"),
    )
    await eventually(lambda: database.fetchval("pairing", STATUS, formed), "formed")
    await eventually(lambda: database.fetchval("pairing", ROUNDS), 2)
    assert await database.fetchval("pairing", STATUS, declined) == "called_off"
    [repaired] = await database.fetch(
        "pairing", "SELECT pair_id, mentor_id, mentee_id FROM pairs WHERE round_id LIKE 'repair-%'"
    )
    assert (repaired["mentor_id"], repaired["mentee_id"]) == ("M3", "E2")
    repaired_id = repaired["pair_id"]

    # M3 accepts, E2 stays silent; a member outside the pair, another tenant: refused.
    await send(
        kafka,
        AcceptPair(pair_id=repaired_id, participant_id="M3"),
        AcceptPair(pair_id=formed, participant_id="M2"),
    )
    await send(kafka, consent_programme(), tenant_id=OTHER_TENANT)
    await send(kafka, AcceptPair(pair_id=formed, participant_id="E1"), tenant_id=OTHER_TENANT)
    await eventually(
        lambda: database.fetchval(
            "pairing",
            "SELECT mentor_answer FROM pair_consents WHERE pair_id = $1",
            repaired_id,
        ),
        "accepted",
    )

    # The deadline passes: the sweep calls the pair off; a late answer is refused.
    await set_clock(pairing, ASKED_AT + WITHIN + timedelta(minutes=20))
    await eventually(lambda: database.fetchval("pairing", STATUS, repaired_id), "called_off")
    await eventually(lambda: database.fetchval("pairing", ROUNDS), 3)
    await send(kafka, AcceptPair(pair_id=repaired_id, participant_id="E2"))

    dead = await kafka.read_all(HR_COMMANDS.dead_letter_name(kafka.prefix), expect=3)
    codes = Counter(dict(record.headers)["binome_dlq_code"].decode() for record in dead)
    assert codes == {"not_pair_member": 1, "unknown_pair": 1, "consent_deadline_passed": 1}

    events = await read_envelopes(kafka, PAIRING_EVENTS, expect=12)
    assert Counter(type(e.data).__name__ for e in events) == {
        "PairConsentRequested": 3,  # two in the first round, one in the decline's repair
        "MatchingCompleted": 3,  # the first round and both repair rounds
        "PairAccepted": 4,  # E1 and M1 (once: the second is a no-op), M2 before E2 declined, M3
        "PairFormed": 1,
        "PairCalledOff": 2,
    }
    assert {e.tenant_id for e in events} == {"groupe-exemple"}
    [formed_event] = of_type(events, PairFormed)
    assert formed_event.pair_id == formed
    accepted = sorted((e.pair_id, e.side) for e in of_type(events, PairAccepted))
    assert accepted == sorted(
        [
            (formed, ParticipantRole.MENTEE),
            (formed, ParticipantRole.MENTOR),
            (declined, ParticipantRole.MENTOR),
            (repaired_id, ParticipantRole.MENTOR),
        ]
    )
    calls_off = {e.pair_id: (e.reason, e.declined_by) for e in of_type(events, PairCalledOff)}
    assert calls_off == {
        declined: (CallOffReason.DECLINED, ParticipantRole.MENTEE),
        repaired_id: (CallOffReason.NO_ANSWER, None),
    }
    asked = {e.pair_id: e.respond_by for e in of_type(events, PairConsentRequested)}
    assert asked == dict.fromkeys((formed, declined, repaired_id), ASKED_AT + WITHIN)
    rounds = of_type(events, MatchingCompleted)
    last = next(r for r in rounds if r.pairs == 0)
    assert sorted(u.participant_id for u in last.unmatched) == ["E2", "M2", "M3"], (
        "E2 is offered neither the partner it declined nor the one who waited in vain"
    )
    assert last.pairs_kept == 1, "the formed pair stays as it is"


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[SmtpSink]:
    async with SmtpSink(directory=tmp_path / "mail") as running:
        yield running


def mail_by_recipient(sink: SmtpSink) -> dict[str, list[EmailMessage]]:
    """The .eml files the sink stored, parsed, by address, in the order they arrived."""
    found: dict[str, list[EmailMessage]] = {}
    for path in sorted(sink.directory.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(message, EmailMessage)
        found.setdefault(str(message["To"]), []).append(message)
    return found


def plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def test_both_members_are_asked_by_e_mail_and_told_neutrally_when_it_will_not_go_ahead(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, sink: SmtpSink
) -> None:
    pairing = service_factory("pairing")
    notifications = service_factory(
        "notifications",
        BINOME_SMTP_HOST="127.0.0.1",
        BINOME_SMTP_PORT=str(sink.port),
        BINOME_SMTP_FROM="binome@binome.example.com",
        BINOME_PUBLIC_BASE_URL="https://rh.example.com",
    )
    await pairing.wait_ready()
    await notifications.wait_ready()
    people = [
        mentor("M1", full_name="Inès Martin", skills=[skill("data", 5)]),
        mentor("M2", full_name="Hugo Petit", skills=[skill("data", 2)]),
        mentee(
            "E1",
            full_name="Laurent Girard",
            preferred_language=Language.EN,
            learning_needs=[need("data", 5)],
        ),
    ]
    await start_consent_round(kafka, people)
    await eventually(lambda: database.fetchval("pairing", ROUNDS), 1)
    first = await database.fetchval("pairing", "SELECT pair_id FROM pairs WHERE mentor_id = 'M1'")
    await eventually(lambda: _count(sink), 3)  # both members, and HR's round summary

    await send(kafka, DeclinePair(pair_id=first, participant_id="E1"))
    await eventually(lambda: _count(sink), 8, timeout=90)

    mail = mail_by_recipient(sink)
    ines = mail["Inès Martin <m1@example.com>"]
    hugo = mail["Hugo Petit <m2@example.com>"]
    laurent = mail["Laurent Girard <e1@example.com>"]
    assert [m["Subject"] for m in ines] == [
        "Acceptez-vous de former un binôme avec Laurent Girard dans le programme "
        "« Mentorat inversé 2027 » ?",
        "Le binôme proposé avec Laurent Girard ne se fera pas",
    ]
    assert f"https://rh.example.com/pairs/{first}/consent/decline" in plain(ines[0])
    assert sorted(m["Subject"] for m in laurent) == sorted(
        [
            'Would you pair with Inès Martin in the "Mentorat inversé 2027" programme?',
            "The proposed pairing with Inès Martin will not go ahead",
            'Would you pair with Hugo Petit in the "Mentorat inversé 2027" programme?',
        ]
    )
    [called_off_to_laurent] = [m for m in laurent if "will not go ahead" in m["Subject"]]
    for message in (ines[1], called_off_to_laurent):
        text = plain(message).lower()
        assert "declin" not in text
        assert "décli" not in text
    assert [m["Subject"] for m in hugo] == [
        "Acceptez-vous de former un binôme avec Laurent Girard dans le programme "
        "« Mentorat inversé 2027 » ?"
    ]
    kinds = await fetch_notifications(database)
    assert kinds == {"consent_request": 4, "pairing_called_off": 2, "matching_summary": 2}
    hr = mail["Claire Dubois <claire.dubois@example.com>"]
    assert len(hr) == 2, "HR gets each round's summary, no e-mail per call-off"


async def _count(sink: SmtpSink) -> int:
    return len(list(sink.directory.glob("*.eml")))


async def fetch_notifications(database: ProvisionedDatabase) -> Counter[str]:
    rows = await database.fetch("notifications", "SELECT kind FROM deliveries")
    return Counter(row["kind"] for row in rows)
