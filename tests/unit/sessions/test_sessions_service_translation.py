"""Public commands become the right domain calls; domain events become the right public facts."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from binome_sessions import domain
from binome_sessions.domain import CommandRejectedError, PairTrack
from binome_sessions.translation import (
    PUBLIC_EVENT_OF,
    ServiceRejectedError,
    command_action,
    progress_report,
    public_event,
    rejected,
)
from binome_shared.contracts import sessions_messages as public

from .service_fakes import FORMED_AT, PROGRAMME, make_plan

pytestmark = pytest.mark.unit

SLOT = FORMED_AT + timedelta(days=2)


def fresh_track(pair_id: str = "pair-1", mentee: str = "E1", unit: str = "Finance") -> PairTrack:
    track = PairTrack.start(
        pair_id=pair_id,
        programme_id=PROGRAMME,
        plan=make_plan(),
        mentor_id=f"M-{mentee}",
        mentee_id=mentee,
        mentor_business_unit="Digital",
        mentee_business_unit=unit,
        mentor_trained=True,
        formed_at=FORMED_AT,
    )
    track.pull_events()
    return track


def run(track: PairTrack, command: public.SessionCommand, now: datetime = SLOT) -> list[object]:
    command_action(command)(track, now)
    return list(track.pull_events())


def test_schedule_names_the_session_by_its_number_and_keeps_length_and_place() -> None:
    track = fresh_track()
    [event] = run(
        track,
        public.ScheduleSession(
            pair_id="pair-1",
            session_number=2,
            starts_at=SLOT,
            duration_minutes=90,
            location="Teams",
        ),
        FORMED_AT,
    )
    assert isinstance(event, domain.SessionScheduled)
    assert (event.theme_key, event.duration_minutes, event.location) == (
        "social-networks",
        90,
        "Teams",
    )


def test_reschedule_keeps_the_place_when_none_is_given() -> None:
    track = fresh_track()
    run(
        track,
        public.ScheduleSession(
            pair_id="pair-1", session_number=1, starts_at=SLOT, location="Nanterre"
        ),
        FORMED_AT,
    )
    [event] = run(
        track,
        public.RescheduleSession(
            pair_id="pair-1", session_number=1, starts_at=SLOT + timedelta(days=1)
        ),
        FORMED_AT,
    )
    assert isinstance(event, domain.SessionRescheduled)
    assert event.location == "Nanterre"
    assert event.sequence == 1


def test_cancel_carries_the_closed_reason_and_never_the_free_text() -> None:
    track = fresh_track()
    run(
        track, public.ScheduleSession(pair_id="pair-1", session_number=1, starts_at=SLOT), FORMED_AT
    )
    [event] = run(
        track,
        public.CancelSession(
            pair_id="pair-1",
            session_number=1,
            reason="Mme X est malade",
            reason_code="participant_unavailable",
        ),
        FORMED_AT,
    )
    assert isinstance(event, domain.SessionCancelled)
    assert event.reason is public.CancellationReason.PARTICIPANT_UNAVAILABLE
    published = public_event(event, track.plan)
    assert "malade" not in published.model_dump_json()
    assert published.model_dump()["reason"] == "participant_unavailable"


def test_a_miss_without_a_side_is_an_unknown_absence() -> None:
    track = fresh_track()
    run(
        track, public.ScheduleSession(pair_id="pair-1", session_number=1, starts_at=SLOT), FORMED_AT
    )
    [event] = run(
        track,
        public.ReportSessionMissed(pair_id="pair-1", session_number=1),
        SLOT + timedelta(hours=2),
    )
    assert isinstance(event, domain.SessionMissed)
    assert event.absence is public.Absence.UNKNOWN


def test_held_report_passes_attendance_time_length_and_notes() -> None:
    track = fresh_track()
    run(
        track, public.ScheduleSession(pair_id="pair-1", session_number=1, starts_at=SLOT), FORMED_AT
    )
    [event] = run(
        track,
        public.ReportSessionHeld(
            pair_id="pair-1",
            session_number=1,
            held_at=SLOT + timedelta(minutes=10),
            duration_minutes=45,
            notes="RAS",
            attendance="partial",
        ),
        SLOT + timedelta(hours=3),
    )
    assert isinstance(event, domain.SessionCompleted)
    assert (event.attendance, event.duration_minutes) == (public.Attendance.PARTIAL, 45)
    assert track.sessions[0].notes == "RAS"


def test_closing_an_objective_says_met_or_not_and_ambiguity_is_refused() -> None:
    track = fresh_track()
    run(
        track,
        public.SetObjective(
            pair_id="pair-1",
            objective_id="o1",
            owner="mentor",
            title="Comprendre les comités de direction",
        ),
    )
    events = run(
        track,
        public.UpdateObjectiveProgress(
            pair_id="pair-1", objective_id="o1", progress_percent=80, closed=True, met=False
        ),
    )
    assert [type(e).__name__ for e in events] == ["ObjectiveProgressed", "ObjectiveClosed"]
    assert events[-1].outcome is public.ObjectiveOutcome.NOT_MET  # type: ignore[attr-defined]

    for closed, met, code in [
        (True, None, "objective_outcome_required"),
        (False, True, "objective_outcome_without_closing"),
    ]:
        command = public.UpdateObjectiveProgress(
            pair_id="pair-1", objective_id="o2", progress_percent=10, closed=closed, met=met
        )
        with pytest.raises(ServiceRejectedError) as refused:
            command_action(command)(track, SLOT)
        assert refused.value.code == code
        assert code in rejected(refused.value).reason


def test_feedback_without_a_session_is_the_final_one_and_asks_no_fit_question() -> None:
    track = fresh_track()
    with pytest.raises(CommandRejectedError) as early:
        run(track, public.GiveFeedback(pair_id="pair-1", side="mentee", rating=4))
    assert early.value.code is domain.RejectionCode.FEEDBACK_BEFORE_COMPLETION
    with pytest.raises(CommandRejectedError) as fit:
        run(track, public.GiveFeedback(pair_id="pair-1", side="mentee", rating=4, good_fit=True))
    assert fit.value.code is domain.RejectionCode.FIT_QUESTION_NOT_ASKED


def test_an_unknown_session_number_is_refused_with_its_number() -> None:
    track = fresh_track()
    with pytest.raises(CommandRejectedError) as refused:
        run(track, public.SkipSession(pair_id="pair-1", session_number=9))
    error = rejected(refused.value)
    assert error.code == "unknown_session"
    assert error.reason.startswith("unknown_session [9]: This session is not part")
    assert "Cette séance ne fait pas partie" in error.reason


def test_every_domain_event_of_a_whole_story_has_its_public_fact_without_free_text() -> None:
    track = PairTrack.start(
        pair_id="pair-1",
        programme_id=PROGRAMME,
        plan=make_plan(),
        mentor_id="M1",
        mentee_id="E1",
        mentor_business_unit="Digital",
        mentee_business_unit="Finance",
        mentor_trained=True,
        formed_at=FORMED_AT,
    )
    at = FORMED_AT
    track.set_objective(
        objective_id="o1", side=public.ParticipantRole.MENTEE, statement="Poster", now=at
    )
    track.update_objective_progress(objective_id="o1", progress_percent=30, now=at)
    track.schedule_session(session_key="kick-off", scheduled_at=SLOT, now=at)
    track.reschedule_session(session_key="kick-off", scheduled_at=SLOT + timedelta(hours=1), now=at)
    track.report_missed(
        session_key="kick-off", now=SLOT + timedelta(days=1), missed_by=public.Absence.BOTH
    )
    track.schedule_session(session_key="kick-off", scheduled_at=SLOT + timedelta(days=2), now=at)
    track.cancel_session(session_key="kick-off", reason=public.CancellationReason.OTHER, now=at)
    track.check_stall(now=FORMED_AT + timedelta(weeks=7))
    track.ask_pulse_if_due(now=FORMED_AT + timedelta(weeks=7))
    track.answer_pulse(
        participant_id="E1",
        pulse_number=1,
        answer=public.PulseAnswer.NEED_HELP,
        now=FORMED_AT + timedelta(weeks=7),
    )
    held = FORMED_AT + timedelta(weeks=7, days=1)
    track.schedule_session(session_key="kick-off", scheduled_at=held, now=held)
    track.report_held(session_key="kick-off", now=held + timedelta(hours=2), notes="secret")
    track.give_session_feedback(
        author=public.ParticipantRole.MENTOR,
        session_key="kick-off",
        rating=2,
        now=held,
        comment="confidentiel",
        good_fit=False,
    )
    for key in ("social-networks", "collaborative-tools", "generative-ai", "cybersecurity-data"):
        track.skip_session(session_key=key, now=held)
    track.close_objective(objective_id="o1", outcome=public.ObjectiveOutcome.MET, now=held)
    last = held + timedelta(weeks=1)
    track.schedule_session(session_key="review", scheduled_at=last, now=last)
    track.report_held(session_key="review", now=last + timedelta(hours=1))

    events = track.pull_events()
    published = [public_event(event, track.plan) for event in events]
    names = {type(event).__name__ for event in published}
    assert names == {type_.__name__ for type_ in public.SESSIONS_EVENT_TYPES} - {
        "ProgrammeProgressReported"
    }
    for fact in published:
        body = fact.model_dump_json()
        assert "secret" not in body
        assert "confidentiel" not in body
        assert "Poster" not in body, "the objective's wording stays in the service"
        assert fact.pair_id == "pair-1"  # type: ignore[attr-defined]

    by_name = {type(fact).__name__: fact for fact in reversed(published)}  # first of each
    planned = by_name["SessionPlanned"]
    assert isinstance(planned, public.SessionPlanned)
    assert planned.first_session_due == datetime(2027, 1, 11, tzinfo=ZoneInfo("Europe/Paris"))
    scheduled = by_name["SessionScheduled"]
    assert isinstance(scheduled, public.SessionScheduled)
    assert scheduled.theme is not None
    assert scheduled.theme.en == "Kick-off and objectives"
    assert scheduled.ends_at == scheduled.starts_at + timedelta(minutes=60)
    missed = by_name["SessionMissed"]
    assert isinstance(missed, public.SessionMissed)
    assert (missed.missed_by, missed.absence) == (None, public.Absence.BOTH)
    feedback = by_name["FeedbackGiven"]
    assert isinstance(feedback, public.FeedbackGiven)
    assert (feedback.session_number, feedback.has_comment, feedback.rating) == (1, True, 2)
    completed = by_name["PairCompleted"]
    assert isinstance(completed, public.PairCompleted)
    assert (completed.sessions_held, completed.objectives_met) == (2, 1)
    objective = by_name["ObjectiveSet"]
    assert isinstance(objective, public.ObjectiveSet)
    assert (objective.schema_version.major, objective.objective_id) == (2, "o1")
    assert objective.owner is public.ParticipantRole.MENTEE
    stalled = by_name["PairStalled"]
    assert isinstance(stalled, public.PairStalled)
    assert stalled.weeks_silent == 7
    assert stalled.last_session_at is None


def test_the_report_keeps_suppressed_groups_null_and_the_total_visible() -> None:
    tracks = [fresh_track(f"p{i}", mentee=f"E{i}", unit="Finance") for i in range(6)]
    tracks.append(fresh_track("p-rh", mentee="E-rh", unit="RH"))
    progress = domain.compute_progress(programme_id=PROGRAMME, tracks=tracks)
    report = progress_report(progress, reported_at=FORMED_AT, period_start=None, plan=make_plan())
    body = json.loads(report.model_dump_json())
    assert body["total"]["people"] == 7
    groups = {group["group"]: group for group in body["groups"]}
    assert groups["RH"] == {"group": "RH", "suppressed": True, "people": None, "figures": None}
    assert groups["Finance"]["suppressed"] is True, "complementary suppression hides it too"
    assert body["programme_ends_on"] == str(date(2027, 6, 30))
    assert report.reported_at.tzinfo is UTC


PUBLIC_ONLY_FIELDS: dict[str, set[str]] = {
    "SessionPlanned": {"first_session_due"},
    "SessionScheduled": {"theme", "ends_at"},
    "SessionRescheduled": {"theme", "ends_at"},
    "SessionMissed": {"missed_by"},
    "ObjectiveProgressed": {"closed", "met"},
}
"""What a public event has that its domain event has under no name: computed, or legacy."""


def test_domain_and_public_events_name_what_they_share_alike() -> None:
    assert set(PUBLIC_EVENT_OF) == {
        type_ for type_ in vars(domain).values() if type_ in domain.SessionsDomainEvent.__args__
    }
    for domain_type, public_type in PUBLIC_EVENT_OF.items():
        domain_fields = {field.name for field in dataclasses.fields(domain_type)}
        public_only = set(public_type.model_fields) - domain_fields
        assert public_only == PUBLIC_ONLY_FIELDS.get(public_type.__name__, set()), domain_type


ENVELOPE_FIELDS = {"occurred_at", "programme_id"}
"""What every domain event has and its public fact carries in the envelope instead."""
UNPUBLISHED_FIELDS: dict[str, set[str]] = {
    "PairPlanStarted": {"first_session_due_on"},  # published as first_session_due
    "ObjectiveSet": {"title"},  # the pair's wording, left out since ObjectiveSet 2.0
}


def test_the_fields_a_domain_event_keeps_to_itself_are_known_ones() -> None:
    for domain_type, public_type in PUBLIC_EVENT_OF.items():
        domain_fields = {field.name for field in dataclasses.fields(domain_type)}
        kept = domain_fields - set(public_type.model_fields) - ENVELOPE_FIELDS
        assert kept == UNPUBLISHED_FIELDS.get(domain_type.__name__, set()), domain_type
