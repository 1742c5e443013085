"""Access, portability and proof of erasure across the three services, on the real broker and
Postgres with the services as real processes: a small programme runs (pairing forms a pair,
sessions follows it, notifications writes to its members), then one person is exported with
``binome-export``, then erased, twice, and someone unknown is erased too."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_integrations.personal_data_export import gather_export
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import EnrolParticipant, EraseParticipant, RequestMatching
from binome_shared.contracts.privacy_events import ErasingService, ErasureCompleted
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.contracts.sessions_messages import (
    GiveFeedback,
    ParticipantRole,
    ReportSessionHeld,
    ScheduleSession,
    SetObjective,
)
from binome_shared.contracts.topics import PRIVACY_EVENTS
from tests.integration.sessions.test_sessions_service_flow import set_clock
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess, read_envelopes
from tests.support.programmes import TENANT, hr_command, programme_definition
from tests.support.tokens import TokenIssuer, bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

PROGRAMME = "prog-privacy"
OTHER_TENANT = "autre-groupe"
FEEDBACK = "Séance très utile : j'ai enfin compris les outils de mon équipe."
OBJECTIVE = "Publier une vidéo interne avant l'été"
NOTES = "Démonstration de l'outil de montage"
SERVICES = ("pairing", "sessions", "notifications")


async def start_platform(
    service_factory: Any, sink: SmtpSink, idp: TokenIssuer
) -> dict[str, ServiceProcess]:
    mail = {
        "BINOME_SMTP_HOST": "127.0.0.1",
        "BINOME_SMTP_PORT": str(sink.port),
        "BINOME_SMTP_FROM": "binome@binome.example.com",
    }
    started = {
        "pairing": service_factory("pairing", **idp.service_env()),
        # Simulated: a session is reported held only once its time has come.
        "sessions": service_factory("sessions", BINOME_CLOCK="simulated", **idp.service_env()),
        "notifications": service_factory("notifications", **mail, **idp.service_env()),
    }
    await asyncio.gather(*(service.wait_ready() for service in started.values()))
    return started


def pair_message(data: Message, at: datetime) -> Envelope[Any]:
    return hr_command(data, programme_id=PROGRAMME, time=at)


async def run_small_programme(
    kafka: Kafka, database: ProvisionedDatabase, sessions: ServiceProcess
) -> tuple[str, str, str]:
    """One round, then a held first session with the mentee's objective and feedback: the
    mentee's id, her e-mail address and her pair's id."""
    cohort = generate_cohort(mentees=3, mentors=5, seed=7)
    rules = cohort.rules.model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC})
    for command in (
        programme_definition(rules),
        *(EnrolParticipant(participant=person) for person in cohort.participants),
        RequestMatching(round_id="r1"),
    ):
        await kafka.publish(hr_command(command, programme_id=PROGRAMME))
    followed = "SELECT count(*) FROM pairs WHERE state IS NOT NULL"
    await eventually(lambda: database.fetchval("sessions", followed), 3, timeout=120)
    pair_id, mentee = await _one_pair(database)
    held_at = datetime.combine(rules.starts_on, datetime.min.time(), UTC) + timedelta(days=1)
    await set_clock(sessions, held_at + timedelta(hours=2))
    for command in (
        SetObjective(
            pair_id=pair_id, objective_id="o1", owner=ParticipantRole.MENTEE, title=OBJECTIVE
        ),
        ScheduleSession(pair_id=pair_id, session_number=1, starts_at=held_at),
        ReportSessionHeld(
            pair_id=pair_id, session_number=1, held_at=held_at, duration_minutes=60, notes=NOTES
        ),
        GiveFeedback(
            pair_id=pair_id,
            side=ParticipantRole.MENTEE,
            session_number=1,
            rating=5,
            comment=FEEDBACK,
            good_fit=True,
        ),
    ):
        await kafka.publish(pair_message(command, held_at))
    feedback = "SELECT jsonb_array_length(state -> 'feedback') FROM pairs WHERE pair_id = $1"
    await eventually(lambda: database.fetchval("sessions", feedback, pair_id), 1, timeout=60)
    introduced = "SELECT count(*) > 0 FROM deliveries WHERE recipient_id = $1 AND kind = $2"
    await eventually(
        lambda: database.fetchval("notifications", introduced, mentee, "introduction"), True
    )
    email = next(p.email for p in cohort.participants if p.participant_id == mentee)
    return mentee, email, pair_id


async def _one_pair(database: ProvisionedDatabase) -> tuple[str, str]:
    [row] = await database.fetch(
        "pairing",
        "SELECT pair_id, mentee_id FROM pairs WHERE status = 'formed' ORDER BY pair_id LIMIT 1",
    )
    return row["pair_id"], row["mentee_id"]


def export_with_the_cli(
    platform: dict[str, ServiceProcess], token: str, person: str, output: Path
) -> dict[str, Any]:
    """``binome-export`` as an HR gateway runs it: the token in the environment."""
    env = {
        **os.environ,
        "BINOME_EXPORT_TOKEN": token,
        **{f"BINOME_{name.upper()}_URL": service.url for name, service in platform.items()},
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "binome_integrations.personal_data_export",
            person,
            "--output",
            str(output),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return document


async def export(platform: dict[str, ServiceProcess], token: str, person: str) -> dict[str, Any]:
    urls = {name: service.url for name, service in platform.items()}
    async with httpx.AsyncClient(timeout=30) as client:
        return await gather_export(person, token=token, urls=urls, client=client)


def records(document: dict[str, Any]) -> dict[str, int]:
    """How many records each section of each service holds."""
    return {
        f"{service}.{kind}": len(entries)
        for service in SERVICES
        for kind, entries in document[service].items()
        if kind != "erased_at"
    }


async def erase(kafka: Kafka, person: str, *, proofs_so_far: int) -> list[ErasureCompleted]:
    """Erase ``person`` and return the proofs this erasure published (all of them: the topic
    is read until it holds three more, then a while longer for any extra)."""
    await kafka.publish(hr_command(EraseParticipant(participant_id=person), programme_id=PROGRAMME))
    expected = proofs_so_far + 3
    published = await read_envelopes(kafka, PRIVACY_EVENTS, expect=expected, timeout=90)
    assert len(published) == expected, [e.data for e in published]
    proofs = [envelope.data for envelope in published[proofs_so_far:]]
    assert all(isinstance(proof, ErasureCompleted) for proof in proofs)
    return sorted(proofs, key=lambda proof: proof.service)


async def test_an_export_holds_her_data_for_her_tenant_only_and_nothing_once_she_is_erased(
    database: ProvisionedDatabase,
    kafka: Kafka,
    service_factory: Any,
    mail_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    idp = TokenIssuer()
    platform = await start_platform(service_factory, mail_sink, idp)
    mentee, email, pair_id = await run_small_programme(kafka, database, platform["sessions"])
    token = idp.token(TENANT)

    mine = export_with_the_cli(platform, token, mentee, tmp_path / "export.json")
    assert (mine["participant_id"], mine["tenant_id"]) == (mentee, TENANT)
    assert datetime.fromisoformat(mine["generated_at"]).tzinfo is not None
    [enrolment] = mine["pairing"]["enrolments"]
    assert enrolment["profile"]["email"] == email
    assert [pair["pair_id"] for pair in mine["pairing"]["pairs"]] == [pair_id]
    assert mine["pairing"]["pairs"][0]["explanation"]["score"] > 0
    assert [pair["pair_id"] for pair in mine["sessions"]["pairs"]] == [pair_id]
    assert [given["comment"] for given in mine["sessions"]["feedback"]] == [FEEDBACK]
    assert [objective["statement"] for objective in mine["sessions"]["objectives"]] == [OBJECTIVE]
    assert NOTES in [session["notes"] for session in mine["sessions"]["sessions"]]
    assert [address["email"] for address in mine["notifications"]["addresses"]] == [email]
    assert {d["kind"] for d in mine["notifications"]["deliveries"]} >= {"introduction"}
    assert all(mine[service]["erased_at"] is None for service in SERVICES)

    stranger = await export(platform, idp.token(OTHER_TENANT), mentee)
    assert stranger["tenant_id"] == OTHER_TENANT
    assert set(records(stranger).values()) == {0}, "another tenant's token gets nothing of hers"
    assert email not in json.dumps(stranger)
    assert FEEDBACK not in json.dumps(stranger)
    for service in platform.values():
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
            anonymous = await client.get("/personal-data", params={"participant_id": mentee})
            no_id = await client.get("/personal-data", headers=bearer(token))
        assert (anonymous.status_code, no_id.status_code) == (401, 400), service.name
        assert mentee not in anonymous.text
    unknown = await export(platform, token, "personne-inconnue")
    assert set(records(unknown).values()) == {0}
    assert records(unknown).keys() == records(mine).keys(), "every section, empty"

    await erase(kafka, mentee, proofs_so_far=0)
    after = await export(platform, token, mentee)
    assert set(records(after).values()) == {0}
    assert all(after[service]["erased_at"] is not None for service in SERVICES)
    assert email not in json.dumps(after)
    assert FEEDBACK not in json.dumps(after)


async def test_each_erasure_is_proven_once_by_each_service_and_a_repeat_changes_nothing(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, mail_sink: SmtpSink
) -> None:
    idp = TokenIssuer()
    platform = await start_platform(service_factory, mail_sink, idp)
    mentee, _, _ = await run_small_programme(kafka, database, platform["sessions"])
    services = sorted(ErasingService)

    first = await erase(kafka, mentee, proofs_so_far=0)
    assert [proof.service for proof in first] == services
    assert {(proof.participant_id, proof.already_erased) for proof in first} == {(mentee, False)}
    counts = {str(proof.service): proof.erased for proof in first}
    # The relayed PairFormed names her: its outbox copy is forgotten (message_copies).
    assert counts["pairing"] == {"enrolments": 1, "pairs_ended": 1, "message_copies": 1}
    # The events sessions relayed about her pair name the pair (a session's place with it):
    # their outbox copies are forgotten too; how many were relayed by the time of the
    # erasure depends on timing, at least the first (the pair's session was held before).
    sessions_copies = counts["sessions"].pop("message_copies", 0)
    assert sessions_copies >= 1, counts["sessions"]
    assert counts["sessions"] == {
        "pair_tracks": 1,
        "session_texts": 1,
        "objectives": 1,
        "feedback": 1,
    }
    assert counts["notifications"]["addresses"] == 1
    assert counts["notifications"]["deliveries"] >= 1
    # Its NotificationSent events name her too, but how many the relay had sent by the time
    # of the erasure (and so are forgotten copies) depends on timing: not counted here.
    erased_at = {proof.service: proof.erased_at for proof in first}

    again = await erase(kafka, mentee, proofs_so_far=3)
    assert [proof.service for proof in again] == services
    assert all(proof.already_erased and proof.erased == {} for proof in again)
    assert {proof.service: proof.erased_at for proof in again} == erased_at, "the first time"

    nobody = await erase(kafka, "personne-inconnue", proofs_so_far=6)
    assert [proof.service for proof in nobody] == services
    assert {(p.participant_id, p.already_erased) for p in nobody} == {("personne-inconnue", False)}
    assert all(proof.erased == {} for proof in nobody), "nothing held, nothing counted"
