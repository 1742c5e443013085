"""One valid payload of every command type and of every event a service consumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from binome_shared.contracts.base import Message
from binome_shared.contracts.hr_commands import (
    AcceptPair,
    ApprovePair,
    DeclinePair,
    DissolvePair,
    EnrolParticipant,
    EraseParticipant,
    OptOut,
    RecordReportingLines,
    RejectPair,
    RequestMatching,
    SetNotificationPreferences,
    UpdateParticipant,
    WithdrawParticipant,
)
from binome_shared.contracts.imposed_pairs import ImposedPair, ImposePairs, PairOverride
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    DissolutionReason,
    PairCalledOff,
    PairConsentRequested,
    PairDissolved,
)
from binome_shared.contracts.participants import ReportingLine
from binome_shared.contracts.sessions_messages import (
    AnswerPulse,
    CancelSession,
    CompletionReason,
    GiveFeedback,
    PairCompleted,
    PairNeedsHelp,
    PairStalled,
    ParticipantRole,
    PulseAnswer,
    PulseCheckRequested,
    RecordMentorTraining,
    ReportSessionHeld,
    ReportSessionMissed,
    RescheduleSession,
    ScheduleSession,
    SetObjective,
    SkipSession,
    UpdateObjectiveProgress,
)

AT = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)


def sample_payloads() -> list[Message]:
    """Payloads built as their producers build them (HR, a calendar tool, the services)."""
    from binome_devstack.cohort_generator import generate_cohort
    from tests.unit.notifications import notifications_factories as sent

    profile = generate_cohort(mentees=1, mentors=1, seed=3).participants[0]
    simple: list[Message] = [
        EnrolParticipant(participant=profile),
        UpdateParticipant(participant=profile),
        RecordReportingLines(lines=[ReportingLine(employee_id="E1", manager_id="M1")]),
        WithdrawParticipant(participant_id="X1", reason="left the company"),
        EraseParticipant(participant_id="X1"),
        SetNotificationPreferences(participant_id="X1", opt_outs=[OptOut(channel="email")]),
        RequestMatching(round_id="round-1"),
        ApprovePair(pair_id="pair-1"),
        RejectPair(pair_id="pair-1", reason="same team"),
        DissolvePair(pair_id="pair-1", reason="moved abroad"),
        ScheduleSession(pair_id="pair-1", session_number=1, starts_at=AT),
        RescheduleSession(pair_id="pair-1", session_number=1, starts_at=AT),
        CancelSession(pair_id="pair-1", session_number=1),
        SkipSession(pair_id="pair-1", session_number=2),
        ReportSessionHeld(pair_id="pair-1", session_number=1, held_at=AT, duration_minutes=60),
        ReportSessionMissed(pair_id="pair-1", session_number=1, missed_by=ParticipantRole.MENTOR),
        SetObjective(
            pair_id="pair-1", objective_id="o-1", owner=ParticipantRole.MENTEE, title="Prompting"
        ),
        UpdateObjectiveProgress(pair_id="pair-1", objective_id="o-1", progress_percent=40),
        GiveFeedback(pair_id="pair-1", side=ParticipantRole.MENTEE, session_number=1, rating=4),
        RecordMentorTraining(pair_id="pair-1"),
        AnswerPulse(
            pair_id="pair-1", pulse_number=1, participant_id="E1", answer=PulseAnswer.NEED_HELP
        ),
        PulseCheckRequested(pair_id="pair-1", pulse_number=1, mentor_id="M1", mentee_id="E1"),
        PairNeedsHelp(pair_id="pair-1", pulse_number=1, side=ParticipantRole.MENTEE),
        PairDissolved(pair_id="pair-1", reason=DissolutionReason.HR_DECISION),
        PairStalled(pair_id="pair-1", last_session_at=AT, weeks_silent=6),
        PairCompleted(
            pair_id="pair-1",
            reason=CompletionReason.PLAN_COMPLETED,
            sessions_held=6,
            sessions_planned=6,
        ),
        ImposePairs(
            round_id="comex",
            pairs=[
                ImposedPair(mentor_id="Y1", mentee_id="E1"),
                ImposedPair(
                    mentor_id="Y2", mentee_id="E2", override=PairOverride(reason="comex choice")
                ),
            ],
        ),
    ]
    from_producers = [
        sent.define_programme(),
        sent.pair_formed(),
        sent.matching_completed(),
        sent.session_scheduled(starts_at=AT),
        sent.session_rescheduled(previous=AT, starts_at=AT + timedelta(days=7)),
        sent.session_cancelled(),
        sent.session_completed(),
        sent.pair_fit_concern_raised(),
        sent.progress_reported(),
    ]
    formed = sent.pair_formed().data
    consent: list[Message] = [
        AcceptPair(pair_id="pair-1", participant_id="X1"),
        DeclinePair(pair_id="pair-1", participant_id="X1"),
        PairConsentRequested(**dict(formed), respond_by=AT + timedelta(days=7)),
        PairCalledOff(pair_id="pair-1", reason=CallOffReason.NO_ANSWER),
    ]
    return simple + [envelope.data for envelope in from_producers] + consent
