"""Consent asked of part of a programme, on the real broker and Postgres: with
``from_mentee_job_grade``, the pairs of the senior mentees are put to their members (their
deadline stored) while the others are formed at once (automatic) or simply approved (HR
approves); a decline's repair round applies the same scope. Every event is counted."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest

from binome_shared.contracts.hr_commands import (
    AcceptPair,
    ApprovePair,
    DeclinePair,
    DefineProgramme,
    EnrolParticipant,
    RequestMatching,
)
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    PairCalledOff,
    PairConsentRequested,
    PairFormed,
)
from binome_shared.contracts.programme import ApprovalMode, ParticipantConsent
from binome_shared.contracts.topics import PAIRING_EVENTS
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes
from tests.support.programmes import hr_command, programme_definition
from tests.support.waiting import eventually
from tests.unit.pairing.pairing_builders import mentee, mentor, need, rules, skill

pytestmark = pytest.mark.integration

AUTOMATIC, APPROVED = "prog-cadres-auto", "prog-cadres-rh"
EXECUTIVE_GRADE = 16
"""The consent's threshold: mentees of this grade and above are asked."""
ROUNDS = "SELECT rounds_run FROM programmes WHERE programme_id = $1"
PAIRS = """
SELECT p.mentee_id, p.mentor_id, p.pair_id, p.status, c.respond_by IS NOT NULL AS asked
FROM pairs p LEFT JOIN pair_consents c USING (tenant_id, pair_id)
WHERE p.programme_id = $1 AND p.status <> 'called_off' ORDER BY p.mentee_id
"""
# E1 and E2 are executives (grades 17 and 16, the threshold), E3 a manager (12); each has
# one best mentor, and M4 is the spare data mentor.
PEOPLE = [
    mentor("M1", skills=[skill("data", 5)]),
    mentor("M2", skills=[skill("generative_ai", 5)]),
    mentor("M3", skills=[skill("social_networks", 5)]),
    mentor("M4", skills=[skill("data", 3)]),
    mentee("E1", job_grade=17, learning_needs=[need("data", 5)]),
    mentee("E2", job_grade=EXECUTIVE_GRADE, learning_needs=[need("generative_ai", 5)]),
    mentee("E3", job_grade=12, learning_needs=[need("social_networks", 5)]),
]


def scoped(approval: ApprovalMode) -> DefineProgramme:
    consent = ParticipantConsent(respond_within_hours=48, from_mentee_job_grade=EXECUTIVE_GRADE)
    return programme_definition(
        rules().model_copy(update={"approval_mode": approval, "participant_consent": consent})
    )


async def send(kafka: Kafka, programme_id: str, *commands: Any) -> None:
    for command in commands:
        await kafka.publish(hr_command(command, programme_id=programme_id))


async def pairs(database: ProvisionedDatabase, programme_id: str) -> dict[str, tuple[Any, ...]]:
    """Each live pair by mentee: (mentor, pair id, status, whether its members were asked)."""
    rows = await database.fetch("pairing", PAIRS, programme_id)
    return {row["mentee_id"]: tuple(row)[1:] for row in rows}


async def test_only_the_executives_pairs_are_put_to_their_members_on_the_real_stack(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing")
    await pairing.wait_ready()
    for programme_id, approval in (
        (AUTOMATIC, ApprovalMode.AUTOMATIC),
        (APPROVED, ApprovalMode.HR_APPROVES),
    ):
        await send(kafka, programme_id, scoped(approval))
        await send(kafka, programme_id, *[EnrolParticipant(participant=p) for p in PEOPLE])
        await send(kafka, programme_id, RequestMatching(round_id="r1"))
    for programme_id in (AUTOMATIC, APPROVED):
        await eventually(partial(database.fetchval, "pairing", ROUNDS, programme_id), 1)

    # Automatic: the executives' pairs await their answers, the manager's is formed.
    first = await pairs(database, AUTOMATIC)
    assert {mentee_id: (row[0], row[2], row[3]) for mentee_id, row in first.items()} == {
        "E1": ("M1", "awaiting_consent", True),
        "E2": ("M2", "awaiting_consent", True),
        "E3": ("M3", "formed", False),
    }
    # E1 declines: re-paired with the spare mentor and asked again; E2's pair is accepted.
    await send(
        kafka,
        AUTOMATIC,
        DeclinePair(pair_id=first["E1"][1], participant_id="E1"),
        AcceptPair(pair_id=first["E2"][1], participant_id="M2"),
        AcceptPair(pair_id=first["E2"][1], participant_id="E2"),
    )
    await eventually(lambda: database.fetchval("pairing", ROUNDS, AUTOMATIC), 2)
    await eventually(
        lambda: database.fetchval(
            "pairing", "SELECT status FROM pairs WHERE pair_id = $1", first["E2"][1]
        ),
        "formed",
    )
    after = await pairs(database, AUTOMATIC)
    assert {mentee_id: (row[0], row[2], row[3]) for mentee_id, row in after.items()} == {
        "E1": ("M4", "awaiting_consent", True),
        "E2": ("M2", "formed", True),
        "E3": ("M3", "formed", False),
    }

    # HR approves: every pair is proposed first; approving asks only the executives' pairs.
    proposed = await pairs(database, APPROVED)
    assert {row[2] for row in proposed.values()} == {"proposed"}
    await send(kafka, APPROVED, *[ApprovePair(pair_id=row[1]) for row in proposed.values()])
    await eventually(
        lambda: database.fetchval(
            "pairing",
            "SELECT count(*) FROM pairs WHERE programme_id = $1 AND status <> 'proposed'",
            APPROVED,
        ),
        3,
    )
    approved = await pairs(database, APPROVED)
    assert {mentee_id: (row[2], row[3]) for mentee_id, row in approved.items()} == {
        "E1": ("awaiting_consent", True),
        "E2": ("awaiting_consent", True),
        "E3": ("formed", False),
    }

    events = await read_envelopes(kafka, PAIRING_EVENTS, expect=20)
    by_programme = {
        programme_id: Counter(
            type(e.data).__name__ for e in events if e.programme_id == programme_id
        )
        for programme_id in (AUTOMATIC, APPROVED)
    }
    assert by_programme[AUTOMATIC] == {
        "PairConsentRequested": 3,  # E1 and E2 in the first round, E1 again after the repair
        "PairFormed": 2,  # E3 at once, E2 once both accepted
        "PairAccepted": 2,
        "PairCalledOff": 1,
        "MatchingCompleted": 2,
    }
    assert by_programme[APPROVED] == {
        "PairProposed": 3,
        "MatchingCompleted": 1,
        "PairConsentRequested": 2,
        "PairFormed": 1,
    }
    automatic = [e.data for e in events if e.programme_id == AUTOMATIC]
    asked = [e for e in automatic if isinstance(e, PairConsentRequested)]
    assert sorted(e.mentee.participant_id for e in asked) == ["E1", "E1", "E2"]
    [called_off] = [e for e in automatic if isinstance(e, PairCalledOff)]
    assert (called_off.pair_id, called_off.reason) == (first["E1"][1], CallOffReason.DECLINED)
    formed = sorted(e.mentee.participant_id for e in automatic if isinstance(e, PairFormed))
    assert formed == ["E2", "E3"]
