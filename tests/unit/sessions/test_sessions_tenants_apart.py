"""Tenants kept apart in the sessions service, over fakes: two tenants may use the same
programme id and the same people, hence the same pair id; each sees, changes and is told only
about its own, and a message naming what only another tenant has waits under its own tenant's
name (to be dead-lettered if that never comes)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from binome_sessions.domain import PairStatus
from binome_sessions.jobs import FollowUpJobs
from binome_sessions.prerequisites import pair_key, programme_key
from binome_shared.contracts.hr_commands import EraseParticipant
from binome_shared.contracts.pairing_events import DissolutionReason, PairDissolved
from binome_shared.contracts.sessions_messages import (
    ProgrammeProgressReported,
    ScheduleSession,
    SetObjective,
)
from binome_shared.messaging.errors import AwaitingPrerequisiteError
from binome_shared.messaging.scheduler import Job

from .service_fakes import (
    FORMED_AT,
    PROGRAMME,
    TENANT,
    Service,
    define_programme,
    make_plan,
    pair_formed,
    trackless_pair,
    unit_of_work,
)

pytestmark = pytest.mark.unit

OTHER = "autre-groupe"
SLOT = FORMED_AT + timedelta(days=2)


def test_parking_names_carry_the_tenant_and_never_collide() -> None:
    assert pair_key(TENANT, "pair-1") == "pair:groupe-exemple/pair-1"
    assert programme_key(TENANT, PROGRAMME) == "programme:groupe-exemple/prog-2027"
    assert pair_key(TENANT, "pair-1") != pair_key(OTHER, "pair-1")
    assert pair_key("a/b", "c") != pair_key("a", "b/c"), "ids may contain the separator"
    assert programme_key("a/b", "c") != programme_key("a", "b/c")


async def test_the_same_programme_id_keeps_each_tenants_own_plan() -> None:
    service = Service()
    await service.handle(define_programme(), tenant_id=TENANT)
    shorter = make_plan(sessions=[make_plan().sessions[0]])
    await service.handle(define_programme(shorter), tenant_id=OTHER)
    await service.handle(pair_formed(), tenant_id=TENANT)
    await service.handle(pair_formed(), tenant_id=OTHER)

    assert service.tracks.programmes[TENANT, PROGRAMME].plan == make_plan()
    assert len(service.tracks.track("pair-1", TENANT).sessions) == 6
    assert len(service.tracks.track("pair-1", OTHER).sessions) == 1
    assert service.released.count(programme_key(TENANT, PROGRAMME)) == 1
    assert service.released.count(programme_key(OTHER, PROGRAMME)) == 1


async def test_a_pair_is_not_planned_with_another_tenants_programme() -> None:
    service = Service()
    await service.handle(define_programme(), tenant_id=TENANT)
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.handle(pair_formed(), tenant_id=OTHER)
    assert parked.value.waiting_for == programme_key(OTHER, PROGRAMME)
    assert service.tracks.pairs == {}
    assert service.outbox.envelopes == []


async def test_a_tenants_definition_starts_only_its_own_pairs_waiting_for_a_plan() -> None:
    service = Service()
    service.tracks.pairs[TENANT, "old-pair"] = trackless_pair("old-pair")
    await service.handle(define_programme(), tenant_id=OTHER)
    assert service.tracks.pairs[TENANT, "old-pair"].track is None
    assert pair_key(TENANT, "old-pair") not in service.released
    assert service.outbox.envelopes == []


async def test_the_same_pair_id_in_two_tenants_is_two_pairs_each_told_its_own() -> None:
    service = Service()
    await service.formed(tenant_id=TENANT)
    await service.formed(tenant_id=OTHER)
    assert set(service.tracks.pairs) == {(TENANT, "pair-1"), (OTHER, "pair-1")}
    assert pair_key(TENANT, "pair-1") in service.released
    assert pair_key(OTHER, "pair-1") in service.released

    await service.handle(
        ScheduleSession(pair_id="pair-1", session_number=1, starts_at=SLOT), tenant_id=OTHER
    )
    await service.handle(
        SetObjective(pair_id="pair-1", objective_id="o1", owner="mentee", title="Publier"),
        tenant_id=TENANT,
    )

    assert service.tracks.track("pair-1", TENANT).sessions[0].scheduled_at is None
    assert service.tracks.track("pair-1", OTHER).sessions[0].scheduled_at == SLOT
    assert [o.statement for o in service.tracks.track("pair-1", TENANT).objectives] == ["Publier"]
    assert service.tracks.track("pair-1", OTHER).objectives == []
    told = [(e.tenant_id, type(e.data).__name__) for e in service.outbox.envelopes]
    assert told == [
        (TENANT, "SessionPlanned"),
        (OTHER, "SessionPlanned"),
        (OTHER, "SessionScheduled"),
        (TENANT, "ObjectiveSet"),
    ]


async def test_a_command_naming_a_pair_only_another_tenant_has_waits_for_its_own() -> None:
    service = Service()
    await service.formed(tenant_id=TENANT)
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.handle(
            ScheduleSession(pair_id="pair-1", session_number=1, starts_at=SLOT), tenant_id=OTHER
        )
    assert parked.value.waiting_for == pair_key(OTHER, "pair-1")
    assert TENANT not in parked.value.reason, "nothing said about the other tenant"
    assert service.tracks.track("pair-1", TENANT).sessions[0].scheduled_at is None
    assert service.tracks.saves == 0
    assert service.outbox.types() == ["SessionPlanned"]
    assert pair_key(OTHER, "pair-1") not in service.released, "A's formation never replays it"


async def test_a_dissolution_from_another_tenant_leaves_the_pair_alone() -> None:
    service = Service()
    await service.formed(tenant_id=TENANT)
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.handle(
            PairDissolved(pair_id="pair-1", reason=DissolutionReason.POOR_FIT), tenant_id=OTHER
        )
    assert parked.value.waiting_for == pair_key(OTHER, "pair-1")
    assert service.tracks.track("pair-1", TENANT).status is PairStatus.ACTIVE


async def test_a_pair_unfollowed_in_one_tenant_is_followed_in_the_other() -> None:
    service = Service()
    await service.handle(EraseParticipant(participant_id="E1"), tenant_id=OTHER)
    await service.formed(tenant_id=OTHER)
    await service.formed(tenant_id=TENANT)
    assert service.tracks.unfollowed == {(OTHER, "pair-1")}

    await service.handle(
        SetObjective(pair_id="pair-1", objective_id="o1", owner="mentee", title="Publier"),
        tenant_id=TENANT,
    )
    await service.handle(PairDissolved(pair_id="pair-1", reason=DissolutionReason.POOR_FIT))

    track = service.tracks.track("pair-1", TENANT)
    assert [o.statement for o in track.objectives] == ["Publier"]
    assert track.status is PairStatus.DISSOLVED


async def test_the_follow_up_reaches_the_same_pair_id_in_every_tenant_batch_after_batch() -> None:
    service = Service()
    for tenant in (TENANT, OTHER, "troisieme-groupe"):
        await service.formed(tenant_id=tenant)
    jobs = FollowUpJobs(repository=lambda conn: service.tracks, batch_size=1)
    now = FORMED_AT + timedelta(weeks=7)
    job = Job(job_id="periodic:follow-up", job_type="follow-up", due_at=now, payload={}, attempts=0)

    await jobs.follow_up(job, unit_of_work(service.outbox, now))

    stalls = [e for e in service.outbox.envelopes if type(e.data).__name__ == "PairStalled"]
    assert sorted(e.tenant_id for e in stalls) == sorted([TENANT, OTHER, "troisieme-groupe"])
    assert {e.subject for e in stalls} == {"pair-1"}
    for tenant in (TENANT, OTHER, "troisieme-groupe"):
        assert service.tracks.track("pair-1", tenant).is_stalled


async def test_the_weekly_report_counts_each_tenants_programme_apart() -> None:
    service = Service()
    for index in range(6):
        await service.formed(f"pair-{index}", mentor=f"M{index}", mentee=f"E{index}")
    for index in range(2):
        await service.formed(f"pair-{index}", tenant_id=OTHER, mentor=f"M{index}")
    await service.run_job("progress-report")

    reports = {
        e.tenant_id: e.data
        for e in service.outbox.envelopes
        if isinstance(e.data, ProgrammeProgressReported)
    }
    assert set(reports) == {TENANT, OTHER}
    assert reports[TENANT].total.people == 6
    assert reports[OTHER].total.people is None, "two people: suppressed, never merged with A's"
    assert reports[OTHER].total.suppressed
