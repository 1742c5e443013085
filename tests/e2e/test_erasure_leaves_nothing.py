"""GDPR erasure after a whole programme: nothing of the person is left in any column.

A small programme runs through the three services (two pairs, two sessions each, feedback
with comments, an objective per mentee, completion); then HR resends one mentee's
enrolment, and she starts a second programme (paired, an objective, a session booked).
Her second programme's session is booked at a place that names her, and a pair of hers in a
programme the other services have not seen defined yet is announced, with a session booked
for it: those messages wait, parked, in sessions and notifications. Then she is erased, and
once every service has handled the erasure, every text, JSON and byte column of the three
schemas (the messaging core's outbox, parked and processed messages and scheduled jobs
included) is searched for her name, her e-mail address, what she wrote and the places that
name her. The other mentee, not erased, is searched for alike and must be found: the scan sees
the columns that hold such data. The proofs count the places and parked messages erased.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import EnrolParticipant, EraseParticipant
from binome_shared.contracts.pairing_events import PairSide
from binome_shared.contracts.sessions_messages import (
    ParticipantRole,
    ScheduleSession,
    SetObjective,
)
from tests.support.column_scan import scan
from tests.support.erasure_wait import PRIVACY_TOPIC, proven_everywhere
from tests.support.lifecycle_platform import (
    LifeCyclePlatform,
)
from tests.support.lifecycle_play import TenantRun, form_pairs, play_programme
from tests.support.platform import ProvisionedDatabase
from tests.support.tenant_cast import TENANT_A, TenantCast
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.e2e

CAST = replace(TENANT_A, pairs=2)
ERASED = "M1"
KEPT = "M2"
SECOND_PROGRAMME = "prog-suite-2028"
NOT_YET_DEFINED = "prog-pas-encore-2029"
AWAITED_PAIR = "pair-pas-encore"
PLACES = {
    "session place": f"Bureau {CAST.marker} pres de {ERASED}",
    "parked session place": f"Chez {ERASED} {CAST.marker}, 3 impasse des Tilleuls",
}


def traces_of(cast: TenantCast, person: str) -> dict[str, str]:
    """What identifies ``person`` or is hers, by what it is (ASCII, see column_scan)."""
    return {
        "name": cast.name_of(person),
        "e-mail": cast.email_of(person),
        "feedback comment": f"Remarque {cast.marker} de {person},",
        "objective title": f"Objectif {cast.marker} de {person}:",
    }


async def still_in_flight(platform: LifeCyclePlatform, run: TenantRun) -> TenantRun:
    """What a tenant has going on about her when the erasure comes, besides the finished
    programme: HR sent her enrolment again (refused as a duplicate: its dead-letter copy
    sits in pairing's outbox), and she is in a second programme, paired, with an objective
    of hers and a session booked a fortnight ahead (its reminders, naming her to her
    mentor, are pending)."""
    profiles = {profile.participant_id: profile for profile in CAST.profiles()}
    partner = next(p.mentor.participant_id for p in run.pairs if p.mentee.participant_id != ERASED)
    suite = TenantRun(replace(CAST, pairs=1), SECOND_PROGRAMME)
    await platform.send(
        [
            run.hr(EnrolParticipant(participant=profiles[ERASED]), at=platform.now),
            suite.hr(CAST.definition(name="Mentorat inversé, saison 2"), at=platform.now),
            *[
                suite.hr(EnrolParticipant(participant=profiles[person]), at=platform.now)
                for person in (ERASED, partner)
            ],
        ]
    )
    await form_pairs(platform, [suite])
    [pair] = suite.pairs
    starts = platform.now + timedelta(days=14)
    await platform.send(
        [
            suite.calendar(
                ScheduleSession(
                    pair_id=pair.pair_id,
                    session_number=1,
                    starts_at=starts,
                    location=PLACES["session place"],
                ),
                at=platform.now,
            ),
            suite.calendar(
                SetObjective(
                    pair_id=pair.pair_id,
                    objective_id="objective-suite",
                    owner=ParticipantRole.MENTEE,
                    title=CAST.objective_title(ERASED),
                ),
                at=platform.now,
            ),
        ]
    )
    await platform.settle()
    return suite


async def waiting_about_her(platform: LifeCyclePlatform, run: TenantRun, partner: str) -> None:
    """A pair of hers that pairing announced in a programme sessions and notifications have
    not seen defined yet (their HR commands lag behind pairing's events), and its first
    session, booked at her home: sessions parks both (the pair until its programme is
    defined, the session until its pair is followed), notifications parks the pair. Parked,
    they would be dead-lettered a week later, her place with them."""
    formed = make.pair_formed(AWAITED_PAIR).data.model_copy(
        update={
            "mentor": PairSide(participant_id=partner, business_unit="Digital"),
            "mentee": PairSide(participant_id=ERASED, business_unit="Finance"),
        }
    )
    announced: Envelope[Any] = Envelope.new(
        formed,
        source="/binome/pairing",
        time=platform.now,
        tenant_id=run.tenant_id,
        programme_id=NOT_YET_DEFINED,
    )
    booked = run.calendar(
        ScheduleSession(
            pair_id=AWAITED_PAIR,
            session_number=1,
            starts_at=platform.now + timedelta(days=7),
            location=PLACES["parked session place"],
        ),
        at=platform.now,
    )
    await platform.send([announced, booked.model_copy(update={"programme_id": NOT_YET_DEFINED})])
    await platform.settle()


async def erasure_counts(platform: LifeCyclePlatform, erase: Envelope[Any]) -> dict[str, Any]:
    """What each service's proof of the erasure counts, by service."""
    records = await platform.kafka.read_all(f"{platform.kafka.prefix}{PRIVACY_TOPIC}", expect=3)
    proofs = [json.loads(record.value) for record in records]
    assert len(proofs) == 3, proofs
    return {proof["service"]: proof["erased"] for proof in proofs}


async def test_an_erased_mentee_is_found_in_no_column_of_any_service(
    lifecycle_platform: LifeCyclePlatform, database: ProvisionedDatabase
) -> None:
    platform = lifecycle_platform
    run = TenantRun(CAST, "prog-effacement-2028")
    await play_programme(platform, [run])
    suite = await still_in_flight(platform, run)
    partner = suite.pairs[0].mentor.participant_id
    await waiting_about_her(platform, run, partner)
    assert not platform.problems, platform.problems
    assert len(run.pairs) == CAST.pairs
    assert CAST.comment(ERASED, 1).startswith(traces_of(CAST, ERASED)["feedback comment"])
    assert CAST.objective_title(ERASED).startswith(traces_of(CAST, ERASED)["objective title"])
    [resent] = [letter.code for letter in platform.dead_letters.letters]
    assert resent == "duplicate_participant"

    erased, kept = {**traces_of(CAST, ERASED), **PLACES}, traces_of(CAST, KEPT)
    _, before = await scan(database.admin(), list(erased.values()))
    held = {finding.column.label for finding in before}
    # The scenario puts her where the issue found erasure falling short: the outbox, a
    # pending e-mail to her mentor naming her, her second programme, her session's place as
    # notifications keeps it, a session parked for a pair of hers.
    assert {
        "pairing.outbox.value",
        "notifications.deliveries.message",
        "notifications.sessions.location",
        "sessions.parked_messages.value",
    } <= held, held

    her_sessions = await database.fetchval(
        "notifications",
        "SELECT count(*) FROM sessions JOIN pairs USING (tenant_id, pair_id) "
        "WHERE $1 IN (pairs.mentor_id, pairs.mentee_id)",
        ERASED,
    )
    assert her_sessions >= 3, "two of her first pair's sessions, one of her second pair's"
    erase = run.hr(EraseParticipant(participant_id=ERASED), at=platform.now)
    await platform.send([erase])
    # Each service's proof commits with its erasure: three proofs, the erasure is done.
    await proven_everywhere(platform.kafka, erase)
    await platform.settle()
    counts = await erasure_counts(platform, erase)
    # Sessions: the awaited pair and its session; notifications: the awaited pair, and the
    # sessions of her pairs (their dates and places).
    assert counts["sessions"].get("parked_messages") == 2, counts
    assert counts["notifications"].get("parked_messages") == 1, counts
    assert counts["notifications"].get("session_revisions") == her_sessions, counts

    columns, findings = await scan(database.admin(), [*erased.values(), *kept.values()])
    left = [str(finding) for finding in findings if finding.needle in erased.values()]
    kept_found = {finding.needle for finding in findings}
    unseen = [f"{what} {needle!r}" for what, needle in kept.items() if needle not in kept_found]
    problems = [f"{ERASED}'s data left: {finding}" for finding in left]
    problems += [f"the scan misses {KEPT} (not erased): {what}" for what in unseen]
    problems += [
        f"dead letter {d.service}: {d.code}: {d.reason}"
        for d in platform.dead_letters.letters[1:]  # the first is the resent enrolment's
    ]
    assert len(columns) > 20, [column.label for column in columns]
    scanned = f"{len(columns)} columns scanned, she was in {len(held)} before: {sorted(held)}"
    assert not problems, f"{len(problems)} problem(s), {scanned}:\n  " + ("\n  ".join(problems))
