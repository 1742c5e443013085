"""Pure translation between the public contracts and the domain, both ways.

- an inbound command becomes a call on the pair's track (:func:`command_action`);
- a domain event becomes the public event other services read (:func:`public_event`);
- a domain refusal becomes a dead-letter reason in English and French (:func:`rejected`);
- the progress read model becomes the report HR reads (:func:`progress_report`).
No IO and no clock here: ``now`` comes in with the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from binome_sessions import domain
from binome_sessions.domain import CommandRejectedError, PairTrack, RejectionCode
from binome_shared.contracts import sessions_messages as public
from binome_shared.contracts.base import Command, Event
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.contracts.values import LocalisedText
from binome_shared.messaging.errors import RejectedError

TrackAction = Callable[[PairTrack, datetime], None]
"""A command's effect on a pair's track, given the service's ``now``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceRejection:
    """A refusal decided by the service before the domain is asked (an ambiguous command)."""

    code: str
    reason: LocalisedText


OBJECTIVE_OUTCOME_REQUIRED = ServiceRejection(
    code="objective_outcome_required",
    reason=LocalisedText(
        fr="Pour clore un objectif, indiquez s'il est atteint (met) ou non.",
        en="To close an objective, say whether it was met or not (met).",
    ),
)
OUTCOME_WITHOUT_CLOSING = ServiceRejection(
    code="objective_outcome_without_closing",
    reason=LocalisedText(
        fr="Un objectif n'est dit atteint ou non qu'au moment de le clore (closed).",
        en="Whether an objective was met is only said when closing it (closed).",
    ),
)
UNKNOWN_PAIR = ServiceRejection(
    code="unknown_pair",
    reason=LocalisedText(
        fr="Ce binôme est inconnu : aucun baromètre ne lui a été demandé.",
        en="This pair is unknown: no pulse check-in was asked of it.",
    ),
)
PAIR_NOT_IN_PROGRAMME = ServiceRejection(
    code="pair_not_in_programme",
    reason=LocalisedText(
        fr="Ce binôme n'appartient pas au programme indiqué par la commande.",
        en="This pair does not belong to the programme the command names.",
    ),
)


class ServiceRejectedError(Exception):
    """Raised by a :data:`TrackAction` for a :class:`ServiceRejection`; it reads as the
    domain's :class:`CommandRejectedError` does (``code``, ``reason``, ``subject``)."""

    def __init__(self, rejection: ServiceRejection, subject: str | None = None) -> None:
        super().__init__(f"{rejection.code}: {rejection.reason.en}")
        self.code = rejection.code
        self.reason = rejection.reason
        self.subject = subject


def rejected(error: CommandRejectedError | ServiceRejectedError) -> RejectedError:
    """The dead-letter form of a refusal: a stable code and ``code: English / français``."""
    code = str(error.code)
    about = f" [{error.subject}]" if error.subject else ""
    return RejectedError(code, f"{code}{about}: {error.reason.en} / {error.reason.fr}")


def service_rejection(rejection: ServiceRejection, subject: str | None = None) -> RejectedError:
    """The dead-letter form of a refusal the service decides itself."""
    return rejected(ServiceRejectedError(rejection, subject))


# --- commands → domain calls -------------------------------------------------------------


def command_action(command: Command) -> TrackAction:  # noqa: PLR0911 - one case per command
    """What a public command does to the pair's track; raises TypeError for other messages."""
    match command:
        case public.ScheduleSession():
            return lambda track, now: track.schedule_session(
                session_key=track.session_key_at(command.session_number),
                scheduled_at=command.starts_at,
                now=now,
                duration_minutes=command.duration_minutes,
                location=command.location,
            )
        case public.RescheduleSession():
            return lambda track, now: track.reschedule_session(
                session_key=track.session_key_at(command.session_number),
                scheduled_at=command.starts_at,
                now=now,
                duration_minutes=command.duration_minutes,
                location=command.location,
            )
        case public.CancelSession():
            return lambda track, now: track.cancel_session(
                session_key=track.session_key_at(command.session_number),
                reason=public.CancellationReason(command.reason_code),
                now=now,
            )
        case public.SkipSession():
            return lambda track, now: track.skip_session(
                session_key=track.session_key_at(command.session_number), now=now
            )
        case public.ReportSessionHeld():
            return lambda track, now: track.report_held(
                session_key=track.session_key_at(command.session_number),
                now=now,
                attendance=command.attendance,
                held_at=command.held_at,
                duration_minutes=command.duration_minutes,
                notes=command.notes,
            )
        case public.ReportSessionMissed():
            absence = (
                public.Absence.UNKNOWN
                if command.missed_by is None
                else public.Absence(command.missed_by.value)
            )
            return lambda track, now: track.report_missed(
                session_key=track.session_key_at(command.session_number),
                now=now,
                missed_by=absence,
            )
        case public.SetObjective():
            return lambda track, now: track.set_objective(
                objective_id=command.objective_id,
                side=command.owner,
                statement=command.title,
                now=now,
            )
        case public.UpdateObjectiveProgress():
            return _objective_progress(command)
        case public.GiveFeedback():
            return _feedback(command)
        case public.RecordMentorTraining():
            return lambda track, now: track.record_mentor_trained(now=now)
        case public.AnswerPulse():
            return lambda track, now: track.answer_pulse(
                participant_id=command.participant_id,
                pulse_number=command.pulse_number,
                answer=command.answer,
                now=now,
            )
    raise TypeError(f"not a sessions command: {type(command).__name__}")


def _objective_progress(command: public.UpdateObjectiveProgress) -> TrackAction:
    if command.closed and command.met is None:
        rejection = OBJECTIVE_OUTCOME_REQUIRED
    elif not command.closed and command.met is not None:
        rejection = OUTCOME_WITHOUT_CLOSING
    elif command.closed:
        outcome = public.ObjectiveOutcome.MET if command.met else public.ObjectiveOutcome.NOT_MET
        return lambda track, now: track.close_objective(
            objective_id=command.objective_id,
            outcome=outcome,
            now=now,
            progress_percent=command.progress_percent,
        )
    else:
        return lambda track, now: track.update_objective_progress(
            objective_id=command.objective_id, progress_percent=command.progress_percent, now=now
        )

    def refuse(track: PairTrack, now: datetime) -> None:
        del track, now
        raise ServiceRejectedError(rejection, command.objective_id)

    return refuse


def _feedback(command: public.GiveFeedback) -> TrackAction:
    author = command.side
    session_number = command.session_number
    if session_number is None:

        def final(track: PairTrack, now: datetime) -> None:
            if command.good_fit is not None:
                raise CommandRejectedError(code=RejectionCode.FIT_QUESTION_NOT_ASKED)
            track.give_final_feedback(
                author=author, rating=command.rating, now=now, comment=command.comment
            )

        return final
    return lambda track, now: track.give_session_feedback(
        author=author,
        session_key=track.session_key_at(session_number),
        rating=command.rating,
        now=now,
        comment=command.comment,
        good_fit=command.good_fit,
    )


# --- domain events → public events -------------------------------------------------------

PUBLIC_EVENT_OF: dict[type[domain.PairEvent], type[Event]] = {
    domain.PairPlanStarted: public.SessionPlanned,
    domain.SessionScheduled: public.SessionScheduled,
    domain.SessionRescheduled: public.SessionRescheduled,
    domain.SessionCancelled: public.SessionCancelled,
    domain.SessionSkipped: public.SessionSkipped,
    domain.SessionCompleted: public.SessionCompleted,
    domain.SessionMissed: public.SessionMissed,
    domain.ObjectiveSet: public.ObjectiveSet,
    domain.ObjectiveProgressed: public.ObjectiveProgressed,
    domain.ObjectiveClosed: public.ObjectiveClosed,
    domain.FeedbackGiven: public.FeedbackGiven,
    domain.PairFitConcernRaised: public.PairFitConcernRaised,
    domain.PairStalled: public.PairStalled,
    domain.PairResumed: public.PairResumed,
    domain.PairCompleted: public.PairCompleted,
    domain.PulseRequested: public.PulseCheckRequested,
    domain.PulseAnswered: public.PulseAnswered,
    domain.PairNeedsHelp: public.PairNeedsHelp,
}
"""The public fact each domain event becomes. A domain field the public event does not
declare is not published: an objective's title stays here (``ObjectiveSet`` 2.0)."""


def public_event(event: domain.SessionsDomainEvent, plan: SessionPlan) -> Event:
    """The public fact for a domain event (free text left out), read with the pair's plan.

    Domain and public events name what they share alike: the public event takes every field
    of the same name, and :func:`_differences` spells out the rest.
    """
    public_type = PUBLIC_EVENT_OF[type(event)]
    differences = _differences(event, plan)
    shared = {
        name: getattr(event, name)
        for name in public_type.model_fields
        if name not in differences and hasattr(event, name)
    }
    return public_type.model_validate(shared | differences)


def _differences(event: domain.SessionsDomainEvent, plan: SessionPlan) -> dict[str, object]:
    """What the public event says otherwise than the domain event, or adds from the plan."""
    match event:
        case domain.PairPlanStarted():
            zone = ZoneInfo(plan.time_zone)
            return {
                "first_session_due": datetime.combine(event.first_session_due_on, time.min, zone)
            }
        case domain.AppointmentEvent():
            return {
                "theme": plan.sessions[event.session_number - 1].title,
                "ends_at": event.starts_at + timedelta(minutes=event.duration_minutes),
            }
        case domain.SessionCancelled():
            return {"reason": event.reason.value}  # published as a code of the closed list
        case domain.SessionMissed():
            # The older field names one side only: both, or unknown, is null there.
            side = event.absence.value
            return {
                "missed_by": public.ParticipantRole(side)
                if side in set(public.ParticipantRole)
                else None
            }
    return {}


# --- progress read model → HR report -----------------------------------------------------


def progress_report(
    progress: domain.ProgrammeProgress,
    *,
    reported_at: datetime,
    period_start: datetime | None,
    plan: SessionPlan | None,
) -> public.ProgrammeProgressReported:
    """The published (and served) form of a programme's progress, suppressions kept."""
    return public.ProgrammeProgressReported(
        reported_at=reported_at,
        period_start=period_start,
        grouped_by=progress.grouped_by,
        suppression_threshold=progress.suppression_threshold,
        total=progress.total,
        groups=list(progress.groups),
        programme_ends_on=None if plan is None else plan.ends_on,
    )
