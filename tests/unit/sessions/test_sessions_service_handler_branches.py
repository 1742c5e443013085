"""Every handler branch not covered by the wiring tests: each session command through its
handler, the service's own refusals, parking, and what changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from binome_sessions.domain import PairStatus
from binome_sessions.jobs import FollowUpJobs
from binome_sessions.prerequisites import pair_key, programme_key
from binome_shared.contracts import sessions_messages as public
from binome_shared.contracts.hr_commands import EraseParticipant
from binome_shared.contracts.pairing_events import DissolutionReason, PairDissolved
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.messaging.errors import AwaitingPrerequisiteError, RejectedError
from binome_shared.messaging.scheduler import Job

from .service_fakes import (
    FORMED_AT,
    PROGRAMME,
    TENANT,
    Service,
    define_programme,
    envelope,
    make_plan,
    pair_formed,
    trackless_pair,
    unit_of_work,
)

pytestmark = pytest.mark.unit

SLOT = FORMED_AT + timedelta(days=2)


async def send(service: Service, command: public.SessionCommand) -> list[str]:
    """Handle ``command``; the public facts it caused, each checked to name it as its cause."""
    before = len(service.outbox.envelopes)
    wrapped = envelope(command)
    uow_now = service.now
    await service.handle_envelope(wrapped)
    caused = service.outbox.envelopes[before:]
    assert all(fact.causation_id == wrapped.id for fact in caused)
    assert all(fact.subject == "pair-1" and fact.time == uow_now for fact in caused)
    return [type(fact.data).__name__ for fact in caused]


async def test_each_session_command_reaches_the_track_and_publishes_its_facts() -> None:
    service = Service()
    await service.handle(define_programme(make_plan(mentor_training_required=True)))
    await service.handle(pair_formed(mentor_trained=False))
    with pytest.raises(RejectedError) as refused:
        await send(
            service, public.ScheduleSession(pair_id="pair-1", session_number=1, starts_at=SLOT)
        )
    assert refused.value.code == "mentor_training_required"

    saves = service.tracks.saves
    assert await send(service, public.RecordMentorTraining(pair_id="pair-1")) == []
    assert service.tracks.saves == saves + 1, "a change without a public fact is still stored"
    assert service.tracks.track("pair-1").mentor_trained is True

    one = public.ScheduleSession(pair_id="pair-1", session_number=1, starts_at=SLOT)
    later = SLOT + timedelta(hours=1)
    assert await send(service, one) == ["SessionScheduled"]
    moved = public.RescheduleSession(pair_id="pair-1", session_number=1, starts_at=later)
    assert await send(service, moved) == ["SessionRescheduled"]
    called_off = public.CancelSession(
        pair_id="pair-1", session_number=1, reason_code="participant_unavailable"
    )
    assert await send(service, called_off) == ["SessionCancelled"]
    cancelled = service.outbox.envelopes[-1].data
    assert isinstance(cancelled, public.SessionCancelled)
    assert (cancelled.reason, cancelled.cancelled_starts_at) == ("participant_unavailable", later)

    assert await send(service, one) == ["SessionScheduled"]
    service.now = SLOT + timedelta(hours=2)
    missed_by_mentee = public.ReportSessionMissed(
        pair_id="pair-1", session_number=1, missed_by=ParticipantRole.MENTEE
    )
    assert await send(service, missed_by_mentee) == ["SessionMissed"]
    missed = service.outbox.envelopes[-1].data
    assert isinstance(missed, public.SessionMissed)
    assert (missed.missed_by, missed.absence) == (ParticipantRole.MENTEE, "mentee")

    again = public.ScheduleSession(
        pair_id="pair-1", session_number=1, starts_at=SLOT + timedelta(days=1)
    )
    assert await send(service, again) == ["SessionScheduled"]
    service.now = SLOT + timedelta(days=1, hours=2)
    held = public.ReportSessionHeld(
        pair_id="pair-1", session_number=1, held_at=again.starts_at, duration_minutes=60
    )
    assert await send(service, held) == ["SessionCompleted"]
    poor_fit = public.GiveFeedback(
        pair_id="pair-1", side=ParticipantRole.MENTEE, session_number=1, rating=2, good_fit=False
    )
    assert await send(service, poor_fit) == ["FeedbackGiven", "PairFitConcernRaised"]
    assert await send(service, public.SkipSession(pair_id="pair-1", session_number=2)) == [
        "SessionSkipped"
    ]
    objective = public.SetObjective(
        pair_id="pair-1", objective_id="o1", owner=ParticipantRole.MENTOR, title="Décider vite"
    )
    assert await send(service, objective) == ["ObjectiveSet"]
    met = public.UpdateObjectiveProgress(
        pair_id="pair-1", objective_id="o1", progress_percent=100, closed=True, met=True
    )
    assert await send(service, met) == ["ObjectiveProgressed", "ObjectiveClosed"]


@pytest.mark.parametrize(
    ("closed", "met", "code"),
    [
        (True, None, "objective_outcome_required"),
        (False, True, "objective_outcome_without_closing"),
    ],
)
async def test_an_ambiguous_objective_update_is_refused_by_the_service_in_both_languages(
    closed: bool, met: bool | None, code: str
) -> None:
    service = Service()
    await service.formed()
    await service.handle(
        public.SetObjective(pair_id="pair-1", objective_id="o1", owner="mentee", title="Publier")
    )
    saves, published = service.tracks.saves, len(service.outbox.envelopes)
    with pytest.raises(RejectedError) as refused:
        await service.handle(
            public.UpdateObjectiveProgress(
                pair_id="pair-1", objective_id="o1", progress_percent=50, closed=closed, met=met
            )
        )
    assert refused.value.code == code
    assert refused.value.reason.startswith(f"{code} [o1]: ")
    assert " / " in refused.value.reason, "English, then French"
    assert (service.tracks.saves, len(service.outbox.envelopes)) == (saves, published)


async def test_a_dissolution_of_a_pair_not_formed_yet_is_parked_for_that_pair() -> None:
    service = Service()
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.handle(PairDissolved(pair_id="pair-9", reason=DissolutionReason.POOR_FIT))
    assert parked.value.waiting_for == pair_key(TENANT, "pair-9")


async def test_a_completed_pair_is_not_dissolved_afterwards() -> None:
    service = Service()
    await service.formed()
    service.now = FORMED_AT + timedelta(weeks=30)
    await service.run_job("follow-up")
    published, saves = len(service.outbox.envelopes), service.tracks.saves

    await service.handle(PairDissolved(pair_id="pair-1", reason=DissolutionReason.POOR_FIT))

    assert service.tracks.track("pair-1").status is PairStatus.COMPLETED
    assert (len(service.outbox.envelopes), service.tracks.saves) == (published, saves)


async def test_erasure_leaves_pairs_without_a_track_and_other_people_alone() -> None:
    service = Service()
    service.tracks.pairs[TENANT, "old-pair"] = trackless_pair(
        "old-pair", programme_id="prog-without-plan-yet"
    )
    await service.formed("pair-1", mentor="M1", mentee="E1")
    saves = service.tracks.saves

    await service.handle(EraseParticipant(participant_id="E9"))
    await service.handle(EraseParticipant(participant_id="nobody"))
    await service.handle(EraseParticipant(participant_id="E1"), tenant_id="another-group")

    assert service.tracks.saves == saves
    assert service.outbox.types() == ["SessionPlanned"] + ["ErasureCompleted"] * 3, (
        "an erasure publishes nothing but its proof"
    )
    proofs = [e.data for e in service.outbox.envelopes[1:]]
    assert [(p.participant_id, p.erased) for p in proofs] == [
        ("E9", {}),
        ("nobody", {}),
        ("E1", {}),
    ], "pairs without a track, and other tenants' pairs, are not counted"


async def test_a_redefined_programme_plans_new_pairs_while_earlier_pairs_keep_their_plan() -> None:
    service = Service()
    await service.formed("pair-1", mentor="M1", mentee="E1")
    shorter = make_plan(sessions=[make_plan().sessions[0]])
    await service.handle(define_programme(shorter))
    await service.handle(pair_formed("pair-2", mentor="M2", mentee="E2"))

    assert len(service.tracks.track("pair-1").sessions) == 6
    assert len(service.tracks.track("pair-2").sessions) == 1
    assert service.tracks.programmes[TENANT, PROGRAMME].plan == shorter
    assert service.released.count(programme_key(TENANT, PROGRAMME)) == 2


async def test_the_follow_up_goes_through_every_due_pair_batch_after_batch() -> None:
    service = Service()
    for index in range(5):
        await service.formed(f"pair-{index}", mentor=f"M{index}", mentee=f"E{index}")
    jobs = FollowUpJobs(repository=lambda conn: service.tracks, batch_size=2)
    now = FORMED_AT + timedelta(weeks=7)
    job = Job(job_id="periodic:follow-up", job_type="follow-up", due_at=now, payload={}, attempts=0)

    await jobs.follow_up(job, unit_of_work(service.outbox, now))
    await jobs.follow_up(job, unit_of_work(service.outbox, now + timedelta(hours=1)))

    stalled = {e.subject for e in service.outbox.envelopes if e.type.endswith("pair-stalled")}
    assert stalled == {f"pair-{index}" for index in range(5)}
    assert service.outbox.types().count("PairStalled") == 5, "once each, across both runs"
