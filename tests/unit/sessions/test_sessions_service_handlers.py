"""The service's handlers and jobs, wired as bootstrap wires them, over in-memory fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from binome_sessions.bootstrap import definition
from binome_sessions.domain import PairStatus, SessionStatus
from binome_sessions.prerequisites import pair_key, programme_key
from binome_shared.contracts.hr_commands import EraseParticipant
from binome_shared.contracts.pairing_events import DissolutionReason, PairDissolved
from binome_shared.contracts.sessions_messages import (
    SESSION_COMMAND_TYPES,
    PairCompleted,
    ReportSessionHeld,
    ScheduleSession,
    SessionPlanned,
    SetObjective,
    UpdateObjectiveProgress,
)
from binome_shared.messaging.errors import AwaitingPrerequisiteError, RejectedError

from .service_fakes import (
    FORMED_AT,
    PROGRAMME,
    TENANT,
    Service,
    define_programme,
    make_plan,
    pair_formed,
    trackless_pair,
)

pytestmark = pytest.mark.unit


def test_every_sessions_command_and_the_inputs_it_follows_are_routed() -> None:
    routes = definition().routes
    assert set(SESSION_COMMAND_TYPES) <= set(routes)
    assert {type_.__name__ for type_ in routes} >= {
        "DefineProgramme",
        "PairFormed",
        "PairDissolved",
        "EraseParticipant",
    }
    assert {job.job_type for job in definition().periodic_jobs} == {"follow-up", "progress-report"}
    assert "/programmes/progress" in definition().programme_data_routes


async def test_a_pair_formed_before_its_programme_is_parked_for_the_programme() -> None:
    service = Service()
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.handle(pair_formed())
    assert parked.value.waiting_for == programme_key(TENANT, PROGRAMME)
    assert service.tracks.pairs == {}


async def test_defining_the_programme_releases_what_waits_for_it() -> None:
    service = Service()
    await service.handle(define_programme())
    assert service.released == [programme_key(TENANT, PROGRAMME)]
    assert service.tracks.programmes[TENANT, PROGRAMME].tenant_id == TENANT


async def test_a_formed_pair_gets_the_plan_and_announces_it() -> None:
    service = Service()
    await service.formed(mentor_trained=False)
    track = service.tracks.track("pair-1")
    assert next(s.key for s in track.sessions) == "kick-off"
    assert track.mentor_trained is False
    assert service.outbox.types() == ["SessionPlanned"]
    planned = service.outbox.envelopes[0]
    assert isinstance(planned.data, SessionPlanned)
    assert planned.data.sessions_planned == 6
    assert planned.subject == "pair-1"
    assert planned.causation_id is not None
    assert pair_key(TENANT, "pair-1") in service.released


async def test_a_second_formation_of_the_same_pair_changes_nothing() -> None:
    service = Service()
    await service.formed()
    await service.handle(pair_formed())
    assert service.outbox.types() == ["SessionPlanned"]


async def test_a_pair_recorded_before_plans_existed_starts_when_its_programme_is_defined() -> None:
    service = Service()
    service.tracks.pairs[TENANT, "old-pair"] = trackless_pair("old-pair")
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.handle(
            ScheduleSession(
                pair_id="old-pair", session_number=1, starts_at=FORMED_AT + timedelta(days=3)
            )
        )
    assert parked.value.waiting_for == programme_key(TENANT, PROGRAMME)

    await service.handle(define_programme())
    assert service.tracks.track("old-pair").mentee_business_unit == "RH"
    assert service.outbox.types() == ["SessionPlanned"]
    assert pair_key(TENANT, "old-pair") in service.released


async def test_a_command_for_a_pair_not_formed_yet_is_parked_for_that_pair() -> None:
    service = Service()
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.handle(
            ScheduleSession(pair_id="pair-7", session_number=1, starts_at=FORMED_AT)
        )
    assert parked.value.waiting_for == pair_key(TENANT, "pair-7")


async def test_a_domain_refusal_becomes_a_rejection_with_both_languages() -> None:
    service = Service()
    await service.formed()
    service.now = FORMED_AT + timedelta(days=1)
    with pytest.raises(RejectedError) as refused:
        await service.handle(
            ReportSessionHeld(
                pair_id="pair-1", session_number=1, held_at=FORMED_AT, duration_minutes=60
            )
        )
    assert refused.value.code == "session_not_scheduled"
    assert refused.value.reason == (
        "session_not_scheduled [kick-off]: This session is not scheduled: schedule it first. / "
        "Cette séance n'est pas planifiée : planifiez-la d'abord."
    )
    assert service.tracks.saves == 0
    assert service.outbox.types() == ["SessionPlanned"]


async def test_a_command_naming_another_programme_is_refused() -> None:
    service = Service()
    await service.formed()
    with pytest.raises(RejectedError) as refused:
        await service.handle(
            ScheduleSession(
                pair_id="pair-1", session_number=1, starts_at=FORMED_AT + timedelta(days=2)
            ),
            programme_id="another-programme",
        )
    assert refused.value.code == "pair_not_in_programme"


async def test_a_command_that_changes_nothing_stores_and_publishes_nothing() -> None:
    service = Service()
    await service.formed()
    await service.handle(
        SetObjective(
            pair_id="pair-1",
            objective_id="o1",
            owner="mentee",
            title="Publier un post LinkedIn par mois",
        )
    )
    await service.handle(
        UpdateObjectiveProgress(pair_id="pair-1", objective_id="o1", progress_percent=40)
    )
    saves = service.tracks.saves
    await service.handle(
        UpdateObjectiveProgress(pair_id="pair-1", objective_id="o1", progress_percent=40)
    )
    assert service.tracks.saves == saves
    assert service.outbox.types() == ["SessionPlanned", "ObjectiveSet", "ObjectiveProgressed"]


async def test_dissolution_cancels_appointments_and_later_commands_are_refused() -> None:
    service = Service()
    await service.formed()
    await service.handle(
        ScheduleSession(pair_id="pair-1", session_number=1, starts_at=FORMED_AT + timedelta(days=7))
    )
    await service.handle(PairDissolved(pair_id="pair-1", reason=DissolutionReason.POOR_FIT))
    assert service.tracks.track("pair-1").status is PairStatus.DISSOLVED
    assert service.outbox.types()[-1] == "SessionCancelled"
    assert service.outbox.envelopes[-1].data.reason == "pair_dissolved"

    await service.handle(PairDissolved(pair_id="pair-1", reason=DissolutionReason.POOR_FIT))
    with pytest.raises(RejectedError) as refused:
        await service.handle(
            ScheduleSession(
                pair_id="pair-1", session_number=2, starts_at=FORMED_AT + timedelta(days=30)
            )
        )
    assert refused.value.code == "pair_dissolved"


async def test_erasure_blanks_the_free_text_of_the_persons_pairs_only() -> None:
    service = Service()
    await service.formed("pair-1", mentor="M1", mentee="E1")
    await service.formed("pair-2", mentor="M2", mentee="E2")
    for pair_id in ("pair-1", "pair-2"):
        await service.handle(
            SetObjective(
                pair_id=pair_id,
                objective_id="o1",
                owner="mentee",
                title="Animer une réunion en visio",
            )
        )
    await service.handle(EraseParticipant(participant_id="E1"))
    assert service.tracks.track("pair-1").objectives[0].statement == ""
    assert service.tracks.track("pair-2").objectives[0].statement == "Animer une réunion en visio"
    assert service.tracks.track("pair-1").objectives[0].objective_id == "o1"


async def test_the_follow_up_reports_a_stall_once_and_closes_pairs_when_the_programme_ends() -> (
    None
):
    service = Service()
    await service.formed()
    service.now = FORMED_AT + timedelta(weeks=7)
    await service.run_job("follow-up")
    service.now += timedelta(days=1)
    await service.run_job("follow-up")
    assert service.outbox.types().count("PairStalled") == 1

    service.now = FORMED_AT + timedelta(weeks=30)
    await service.run_job("follow-up")
    completed = service.outbox.envelopes[-1].data
    assert isinstance(completed, PairCompleted)
    assert completed.reason == "programme_ended"
    assert service.tracks.track("pair-1").status is PairStatus.COMPLETED


async def test_a_full_plan_held_completes_the_pair() -> None:
    service = Service()
    await service.handle(define_programme(make_plan(stall_after_weeks=6)))
    await service.handle(pair_formed())
    for number in range(1, 7):
        starts_at = FORMED_AT + timedelta(weeks=3 * (number - 1), days=1)
        await service.handle(
            ScheduleSession(pair_id="pair-1", session_number=number, starts_at=starts_at)
        )
        service.now = starts_at + timedelta(hours=2)
        await service.handle(
            ReportSessionHeld(
                pair_id="pair-1", session_number=number, held_at=starts_at, duration_minutes=60
            )
        )
    track = service.tracks.track("pair-1")
    assert all(session.status is SessionStatus.HELD for session in track.sessions)
    assert service.outbox.types()[-2:] == ["SessionCompleted", "PairCompleted"]
    assert service.outbox.envelopes[-1].data.reason == "plan_completed"


async def test_the_weekly_report_publishes_each_programmes_progress() -> None:
    service = Service()
    for index in range(6):
        await service.formed(f"pair-{index}", mentor=f"M{index}", mentee=f"E{index}")
    await service.run_job("progress-report")
    report = service.outbox.envelopes[-1]
    assert report.type == "binome.sessions.programme-progress-reported"
    assert report.programme_id == PROGRAMME
    assert report.partition_key() == PROGRAMME
    assert report.data.total.people == 6
    assert report.data.groups[0].group == "Finance"
