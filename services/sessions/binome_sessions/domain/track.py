"""A pair's track through its programme: the aggregate that owns sessions, objectives and feedback.

Every command either raises :class:`CommandRejectedError` before touching anything, or changes the
state and appends the events it caused to :attr:`PairTrack.events`. Nothing here reads a clock:
``now`` is passed in, so that the same commands on the same state give the same result.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Self
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, PrivateAttr

from binome_sessions.domain.events import (
    FeedbackGiven,
    ObjectiveClosed,
    ObjectiveProgressed,
    ObjectiveSet,
    PairCompleted,
    PairFitConcernRaised,
    PairPlanStarted,
    PairResumed,
    PairStalled,
    SessionCancelled,
    SessionCompleted,
    SessionMissed,
    SessionRescheduled,
    SessionScheduled,
    SessionsDomainEvent,
    SessionSkipped,
)
from binome_sessions.domain.rejections import CommandRejectedError, RejectionCode
from binome_sessions.domain.values import (
    Absence,
    Attendance,
    CancellationReason,
    CompletionReason,
    FeedbackMoment,
    ObjectiveOutcome,
    ObjectiveStatus,
    PairStatus,
    SessionStatus,
    Side,
)
from binome_shared.contracts.session_plan import SequencePolicy, SessionPlan

MIN_SESSION_MINUTES = 1
MAX_SCHEDULED_MINUTES = 480
MAX_HELD_MINUTES = 600
MAX_LOCATION_LENGTH = 300
MAX_NOTES_LENGTH = 4000
MAX_OBJECTIVE_STATEMENT_LENGTH = 500
MAX_OBJECTIVES_PER_SIDE = 5
MIN_RATING = 1
MAX_RATING = 5
ONE_WEEK = timedelta(weeks=1)


class TrackedSession(BaseModel):
    """One themed session of the déroulé, as this pair lives it."""

    model_config = ConfigDict(extra="forbid")

    key: str
    position: int
    target_on: date
    """When the cadence says the session should happen; a hint for reminders, not a rule."""
    status: SessionStatus = SessionStatus.PLANNED
    scheduled_at: AwareDatetime | None = None
    duration_minutes: int | None = None
    held_at: AwareDatetime | None = None
    attendance: Attendance | None = None
    notes: str = ""
    times_missed: int = 0
    times_cancelled: int = 0
    location: str = ""
    revision: int = 0
    """Bumped by every reschedule and cancellation, so calendars see each change as newer."""

    def ends_at(self) -> datetime | None:
        """End of the current appointment, if the session is scheduled."""
        if self.scheduled_at is None or self.duration_minutes is None:
            return None
        return self.scheduled_at + timedelta(minutes=self.duration_minutes)


class Objective(BaseModel):
    """A precise objective one side of the pair works towards."""

    model_config = ConfigDict(extra="forbid")

    objective_id: str
    side: Side
    statement: str
    progress_percent: int = 0
    status: ObjectiveStatus = ObjectiveStatus.OPEN
    set_at: AwareDatetime
    updated_at: AwareDatetime
    closed_at: AwareDatetime | None = None


class Feedback(BaseModel):
    """A rating and comment from one side, on one session or on the whole programme."""

    model_config = ConfigDict(extra="forbid")

    author: Side
    moment: FeedbackMoment
    session_key: str | None
    rating: int
    comment: str
    good_fit: bool | None
    given_at: AwareDatetime


class PairTrack(BaseModel):
    """A pair's programme: its déroulé, objectives, feedback and follow-up state.

    Serialisable with :meth:`to_dict` / :meth:`from_dict`; the pending :attr:`events` are not
    part of the state and must be taken (:meth:`pull_events`) and stored with it.
    """

    model_config = ConfigDict(extra="forbid")

    pair_id: str
    programme_id: str
    mentor_id: str
    mentee_id: str
    mentor_business_unit: str
    mentee_business_unit: str
    plan: SessionPlan
    formed_at: AwareDatetime
    mentor_trained: bool
    status: PairStatus = PairStatus.ACTIVE
    completion_reason: CompletionReason | None = None
    closed_at: AwareDatetime | None = None
    silent_since: AwareDatetime | None = None
    """Start of the current stall's silence; set while the pair is stalled."""
    first_held_session_key: str | None = None
    sessions: list[TrackedSession]
    objectives: list[Objective] = []
    feedback: list[Feedback] = []
    version: int = 0
    """Bumped by every change, for optimistic concurrency in storage."""

    _events: list[SessionsDomainEvent] = PrivateAttr(default_factory=list)

    # ------------------------------------------------------------------ creation and storage

    @classmethod
    def start(
        cls,
        *,
        pair_id: str,
        programme_id: str,
        plan: SessionPlan,
        mentor_id: str,
        mentee_id: str,
        mentor_business_unit: str,
        mentee_business_unit: str,
        mentor_trained: bool,
        formed_at: datetime,
    ) -> PairTrack:
        """Instantiate the programme's déroulé for a newly formed pair."""
        formed_at = _as_utc(formed_at, "formed_at")
        zone = ZoneInfo(plan.time_zone)
        first_target = max(formed_at.astimezone(zone).date(), plan.starts_on)
        sessions = [
            TrackedSession(
                key=planned.key,
                position=index + 1,
                target_on=min(
                    first_target + timedelta(weeks=plan.cadence_weeks * index), plan.ends_on
                ),
            )
            for index, planned in enumerate(plan.sessions)
        ]
        track = cls(
            pair_id=pair_id,
            programme_id=programme_id,
            mentor_id=mentor_id,
            mentee_id=mentee_id,
            mentor_business_unit=mentor_business_unit,
            mentee_business_unit=mentee_business_unit,
            plan=plan,
            formed_at=formed_at,
            mentor_trained=mentor_trained,
            sessions=sessions,
        )
        track._record(
            PairPlanStarted(
                **track._event_base(formed_at),
                sessions_planned=len(sessions),
                first_session_due_on=sessions[0].target_on,
            )
        )
        return track

    def to_dict(self) -> dict[str, Any]:
        """The state as plain JSON-compatible data (pending events excluded)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild a track stored with :meth:`to_dict`."""
        return cls.model_validate(data)

    @property
    def events(self) -> list[SessionsDomainEvent]:
        """Events caused since the track was loaded, oldest first (the live list)."""
        return self._events

    def pull_events(self) -> list[SessionsDomainEvent]:
        """Take the pending events, leaving none behind."""
        pulled, self._events = self._events, []
        return pulled

    # ------------------------------------------------------------------ read-only views

    @property
    def is_stalled(self) -> bool:
        """Whether the pair is in an ongoing stall."""
        return self.silent_since is not None

    @property
    def sessions_held(self) -> int:
        """How many sessions of the déroulé were held."""
        return sum(1 for session in self.sessions if session.status is SessionStatus.HELD)

    @property
    def sessions_planned(self) -> int:
        """How many sessions the déroulé has for this pair, skipped ones excluded."""
        return sum(1 for session in self.sessions if session.status is not SessionStatus.SKIPPED)

    def session(self, session_key: str) -> TrackedSession:
        """The session with this key, or a rejection when the plan has none."""
        for session in self.sessions:
            if session.key == session_key:
                return session
        raise CommandRejectedError(code=RejectionCode.UNKNOWN_SESSION, subject=session_key)

    def session_key_at(self, position: int) -> str:
        """The key of the session at this 1-based position of the plan, or a rejection."""
        if 1 <= position <= len(self.sessions):
            return self.sessions[position - 1].key
        raise CommandRejectedError(code=RejectionCode.UNKNOWN_SESSION, subject=str(position))

    def next_session_to_hold(self) -> TrackedSession | None:
        """The first session of the déroulé neither held nor skipped."""
        return next(
            (
                session
                for session in self.sessions
                if session.status in (SessionStatus.PLANNED, SessionStatus.SCHEDULED)
            ),
            None,
        )

    def programme_opens_at(self) -> datetime:
        """First instant of the programme, in its time zone."""
        zone = ZoneInfo(self.plan.time_zone)
        return datetime.combine(self.plan.starts_on, time.min, tzinfo=zone)

    def programme_closes_at(self) -> datetime:
        """First instant after the programme's last day, in its time zone."""
        zone = ZoneInfo(self.plan.time_zone)
        return datetime.combine(self.plan.ends_on + timedelta(days=1), time.min, tzinfo=zone)

    def last_activity_at(self) -> datetime:
        """When the pair last held a session, or when its programme could first start."""
        held = [session.held_at for session in self.sessions if session.held_at is not None]
        return max(held, default=max(self.formed_at, self.programme_opens_at()))

    def stall_due_at(self) -> datetime | None:
        """When the pair will be stalled if nothing is held before; None if it cannot stall now."""
        if self.status is not PairStatus.ACTIVE or self.is_stalled:
            return None
        return self.last_activity_at() + self._stall_threshold()

    # ------------------------------------------------------------------ session life cycle

    def schedule_session(
        self,
        *,
        session_key: str,
        scheduled_at: datetime,
        now: datetime,
        duration_minutes: int | None = None,
        location: str = "",
    ) -> None:
        """Give a session an appointment (again, after a cancellation or a miss)."""
        scheduled_at = _as_utc(scheduled_at, "scheduled_at")
        now = _as_utc(now, "now")
        self._require_running()
        session = self.session(session_key)
        if session.status is SessionStatus.SCHEDULED:
            raise CommandRejectedError(
                code=RejectionCode.SESSION_ALREADY_SCHEDULED, subject=session_key
            )
        self._require_not_done(session)
        if self.plan.mentor_training_required and not self.mentor_trained:
            raise CommandRejectedError(
                code=RejectionCode.MENTOR_TRAINING_REQUIRED, subject=session_key
            )
        duration = self._appointment_duration(session, duration_minutes)
        _require_location(location, session_key)
        self._require_within_programme(scheduled_at, session_key)
        self._require_free_slot(session, scheduled_at, duration)

        session.status = SessionStatus.SCHEDULED
        session.scheduled_at = scheduled_at
        session.duration_minutes = duration
        session.location = location
        self._record(
            SessionScheduled(
                **self._event_base(now),
                session_key=session.key,
                position=session.position,
                scheduled_at=scheduled_at,
                duration_minutes=duration,
                location=location,
                revision=session.revision,
            )
        )

    def reschedule_session(
        self,
        *,
        session_key: str,
        scheduled_at: datetime,
        now: datetime,
        duration_minutes: int | None = None,
        location: str | None = None,
    ) -> None:
        """Move a scheduled session (None keeps its duration or place); no change, no event."""
        scheduled_at = _as_utc(scheduled_at, "scheduled_at")
        now = _as_utc(now, "now")
        self._require_running()
        session = self._scheduled_session(session_key)
        previous = session.scheduled_at
        assert previous is not None  # a scheduled session always has its slot
        duration = session.duration_minutes if duration_minutes is None else duration_minutes
        assert duration is not None  # a scheduled session always has its duration
        _require_session_length(duration, session_key, MAX_SCHEDULED_MINUTES)
        place = session.location if location is None else location
        _require_location(place, session_key)
        self._require_within_programme(scheduled_at, session_key)
        self._require_free_slot(session, scheduled_at, duration)
        if (previous, session.duration_minutes, session.location) == (
            scheduled_at,
            duration,
            place,
        ):
            return

        session.scheduled_at = scheduled_at
        session.duration_minutes = duration
        session.location = place
        session.revision += 1
        self._record(
            SessionRescheduled(
                **self._event_base(now),
                session_key=session.key,
                position=session.position,
                previous_scheduled_at=previous,
                scheduled_at=scheduled_at,
                duration_minutes=duration,
                location=place,
                revision=session.revision,
            )
        )

    def cancel_session(
        self, *, session_key: str, reason: CancellationReason, now: datetime
    ) -> None:
        """Cancel a scheduled appointment; the session goes back to be scheduled again."""
        now = _as_utc(now, "now")
        self._require_running()
        session = self._scheduled_session(session_key)
        self._cancel_appointment(session, reason, now)
        self._touch()

    def skip_session(self, *, session_key: str, now: datetime) -> None:
        """Take a session out of this pair's déroulé (cancelling its appointment, if any)."""
        now = _as_utc(now, "now")
        self._require_running()
        session = self.session(session_key)
        self._require_not_done(session)
        if not self.plan.sessions[session.position - 1].skippable:
            raise CommandRejectedError(
                code=RejectionCode.SESSION_NOT_SKIPPABLE, subject=session_key
            )

        if session.status is SessionStatus.SCHEDULED:
            self._cancel_appointment(session, CancellationReason.SESSION_SKIPPED, now)
        session.status = SessionStatus.SKIPPED
        self._record(
            SessionSkipped(
                **self._event_base(now), session_key=session.key, position=session.position
            )
        )
        self._complete_if_plan_done(now)

    def report_held(
        self,
        *,
        session_key: str,
        now: datetime,
        attendance: Attendance = Attendance.FULL,
        held_at: datetime | None = None,
        duration_minutes: int | None = None,
        notes: str = "",
    ) -> None:
        """Record that a scheduled session took place, at its slot unless ``held_at`` differs."""
        now = _as_utc(now, "now")
        self._require_running()
        session = self._scheduled_session(session_key)
        assert session.scheduled_at is not None  # a scheduled session always has its slot
        held_at = session.scheduled_at if held_at is None else _as_utc(held_at, "held_at")
        if held_at > now:
            raise CommandRejectedError(code=RejectionCode.HELD_IN_FUTURE, subject=session_key)
        self._require_within_programme(held_at, session_key)
        duration = session.duration_minutes if duration_minutes is None else duration_minutes
        assert duration is not None  # a scheduled session always has its duration
        _require_session_length(duration, session_key, MAX_HELD_MINUTES)
        if len(notes) > MAX_NOTES_LENGTH:
            raise CommandRejectedError(code=RejectionCode.NOTES_TOO_LONG, subject=session_key)
        self._require_sequence(session, held_at)

        session.status = SessionStatus.HELD
        session.held_at = held_at
        session.duration_minutes = duration
        session.attendance = attendance
        session.notes = notes
        session.scheduled_at = None
        if self.first_held_session_key is None:
            self.first_held_session_key = session.key
        self._record(
            SessionCompleted(
                **self._event_base(now),
                session_key=session.key,
                position=session.position,
                held_at=held_at,
                duration_minutes=duration,
                attendance=attendance,
                sessions_held=self.sessions_held,
                sessions_planned=self.sessions_planned,
            )
        )
        self._end_stall_if_active_again(now)
        self._complete_if_plan_done(now)

    def report_missed(
        self, *, session_key: str, now: datetime, missed_by: Absence = Absence.UNKNOWN
    ) -> None:
        """Record that a scheduled session did not take place; it is to be scheduled again."""
        now = _as_utc(now, "now")
        self._require_running()
        session = self._scheduled_session(session_key)
        scheduled_at = session.scheduled_at
        assert scheduled_at is not None  # a scheduled session always has its slot
        if scheduled_at > now:
            raise CommandRejectedError(code=RejectionCode.SESSION_NOT_YET_DUE, subject=session_key)

        session.status = SessionStatus.PLANNED
        session.scheduled_at = None
        session.duration_minutes = None
        session.location = ""
        session.times_missed += 1
        self._record(
            SessionMissed(
                **self._event_base(now),
                session_key=session.key,
                position=session.position,
                scheduled_at=scheduled_at,
                missed_by=missed_by,
            )
        )

    # ------------------------------------------------------------------ pair life cycle

    def record_mentor_trained(self, *, now: datetime) -> None:
        """Note that the mentor completed the programme's training (again changes nothing)."""
        _as_utc(now, "now")
        self._require_not_dissolved()
        if self.mentor_trained:
            return
        self.mentor_trained = True
        self._touch()

    def dissolve(self, *, now: datetime) -> None:
        """The pair was dissolved: cancel its appointments and refuse anything further."""
        now = _as_utc(now, "now")
        self._require_running()
        for session in self.sessions:
            if session.status is SessionStatus.SCHEDULED:
                self._cancel_appointment(session, CancellationReason.PAIR_DISSOLVED, now)
        self.status = PairStatus.DISSOLVED
        self.closed_at = now
        self.silent_since = None
        self._touch()

    def erase_free_text(self) -> None:
        """Blank every free text a person wrote (notes, comments, objective statements).

        For a GDPR erasure: ids, dates, ratings and statuses stay, so that figures hold.
        """
        for session in self.sessions:
            session.notes = ""
            session.location = ""
        for objective in self.objectives:
            objective.statement = ""
        for given in self.feedback:
            given.comment = ""
        self._touch()

    def check_stall(self, *, now: datetime) -> bool:
        """Record PairStalled if nothing was held for the threshold; once per silence."""
        now = _as_utc(now, "now")
        if self.status is not PairStatus.ACTIVE or self.is_stalled:
            return False
        silent_since = self.last_activity_at()
        silence = now - silent_since
        if silence < self._stall_threshold():
            return False
        self.silent_since = silent_since
        self._record(
            PairStalled(
                **self._event_base(now),
                silent_since=silent_since,
                last_session_at=max(
                    (s.held_at for s in self.sessions if s.held_at is not None), default=None
                ),
                weeks_without_session=silence // ONE_WEEK,
            )
        )
        return True

    def close_if_programme_ended(self, *, now: datetime) -> bool:
        """Complete a still-running pair once its programme's last day is over."""
        now = _as_utc(now, "now")
        if self.status is not PairStatus.ACTIVE or now < self.programme_closes_at():
            return False
        for session in self.sessions:
            if session.status is SessionStatus.SCHEDULED:
                self._cancel_appointment(session, CancellationReason.PROGRAMME_ENDED, now)
        self._complete(CompletionReason.PROGRAMME_ENDED, now)
        return True

    # ------------------------------------------------------------------ objectives

    def set_objective(
        self, *, objective_id: str, side: Side, statement: str, now: datetime
    ) -> None:
        """One side sets a precise objective (at most five per side)."""
        now = _as_utc(now, "now")
        self._require_running()
        if any(objective.objective_id == objective_id for objective in self.objectives):
            raise CommandRejectedError(
                code=RejectionCode.OBJECTIVE_ALREADY_EXISTS, subject=objective_id
            )
        statement = statement.strip()
        if not statement or len(statement) > MAX_OBJECTIVE_STATEMENT_LENGTH:
            raise CommandRejectedError(
                code=RejectionCode.OBJECTIVE_STATEMENT_INVALID, subject=objective_id
            )
        if sum(1 for objective in self.objectives if objective.side is side) >= (
            MAX_OBJECTIVES_PER_SIDE
        ):
            raise CommandRejectedError(code=RejectionCode.TOO_MANY_OBJECTIVES, subject=objective_id)

        self.objectives.append(
            Objective(
                objective_id=objective_id,
                side=side,
                statement=statement,
                set_at=now,
                updated_at=now,
            )
        )
        self._record(
            ObjectiveSet(
                **self._event_base(now), objective_id=objective_id, side=side, statement=statement
            )
        )

    def update_objective_progress(
        self, *, objective_id: str, progress_percent: int, now: datetime
    ) -> None:
        """Set an open objective's progress (0–100 %); the same value again changes nothing."""
        now = _as_utc(now, "now")
        self._require_not_dissolved()
        objective = self._open_objective(objective_id)
        _require_percentage(progress_percent, objective_id)
        self._progress(objective, progress_percent, now)

    def close_objective(
        self,
        *,
        objective_id: str,
        outcome: ObjectiveOutcome,
        now: datetime,
        progress_percent: int | None = None,
    ) -> None:
        """Close an open objective as met or not met, with its final progress if given.

        Also accepted after the pair completed, for the final review.
        """
        now = _as_utc(now, "now")
        self._require_not_dissolved()
        objective = self._open_objective(objective_id)
        if progress_percent is not None:
            _require_percentage(progress_percent, objective_id)
            self._progress(objective, progress_percent, now)

        objective.status = ObjectiveStatus(outcome.value)
        objective.updated_at = now
        objective.closed_at = now
        self._record(
            ObjectiveClosed(
                **self._event_base(now),
                objective_id=objective_id,
                side=objective.side,
                outcome=outcome,
                progress_percent=objective.progress_percent,
            )
        )

    # ------------------------------------------------------------------ feedback

    def give_session_feedback(
        self,
        *,
        author: Side,
        session_key: str,
        rating: int,
        now: datetime,
        comment: str = "",
        good_fit: bool | None = None,
    ) -> None:
        """One side rates a held session; after the first one it also answers the fit question."""
        now = _as_utc(now, "now")
        self._require_not_dissolved()
        settings = self.plan.feedback
        if not settings.after_each_session:
            raise CommandRejectedError(
                code=RejectionCode.FEEDBACK_NOT_REQUESTED, subject=session_key
            )
        session = self.session(session_key)
        if session.status is not SessionStatus.HELD:
            raise CommandRejectedError(
                code=RejectionCode.FEEDBACK_SESSION_NOT_HELD, subject=session_key
            )
        self._require_no_feedback_yet(author, FeedbackMoment.AFTER_SESSION, session_key)
        self._require_valid_rating_and_comment(rating, comment, session_key)
        fit_question_asked = (
            settings.fit_question_after_first_session and session_key == self.first_held_session_key
        )
        if fit_question_asked and good_fit is None:
            raise CommandRejectedError(code=RejectionCode.FIT_ANSWER_REQUIRED, subject=session_key)
        if not fit_question_asked and good_fit is not None:
            raise CommandRejectedError(
                code=RejectionCode.FIT_QUESTION_NOT_ASKED, subject=session_key
            )

        self._store_feedback(
            author=author,
            moment=FeedbackMoment.AFTER_SESSION,
            session_key=session_key,
            rating=rating,
            comment=comment,
            good_fit=good_fit,
            now=now,
        )
        if good_fit is False and self.status is PairStatus.ACTIVE:
            self._record(
                PairFitConcernRaised(
                    **self._event_base(now), raised_by=author, session_key=session_key
                )
            )

    def give_final_feedback(
        self, *, author: Side, rating: int, now: datetime, comment: str = ""
    ) -> None:
        """One side rates the whole programme, once the pair's programme is over."""
        now = _as_utc(now, "now")
        self._require_not_dissolved()
        if not self.plan.feedback.end_of_programme:
            raise CommandRejectedError(code=RejectionCode.FEEDBACK_NOT_REQUESTED)
        if self.status is not PairStatus.COMPLETED:
            raise CommandRejectedError(code=RejectionCode.FEEDBACK_BEFORE_COMPLETION)
        self._require_no_feedback_yet(author, FeedbackMoment.END_OF_PROGRAMME, None)
        self._require_valid_rating_and_comment(rating, comment, None)

        self._store_feedback(
            author=author,
            moment=FeedbackMoment.END_OF_PROGRAMME,
            session_key=None,
            rating=rating,
            comment=comment,
            good_fit=None,
            now=now,
        )

    # ------------------------------------------------------------------ internals

    def _event_base(self, now: datetime) -> dict[str, Any]:
        return {"pair_id": self.pair_id, "programme_id": self.programme_id, "occurred_at": now}

    def _record(self, event: SessionsDomainEvent) -> None:
        self._events.append(event)
        self._touch()

    def _touch(self) -> None:
        self.version += 1

    def _stall_threshold(self) -> timedelta:
        return timedelta(weeks=self.plan.stall_after_weeks)

    def _require_not_dissolved(self) -> None:
        if self.status is PairStatus.DISSOLVED:
            raise CommandRejectedError(code=RejectionCode.PAIR_DISSOLVED)

    def _require_running(self) -> None:
        self._require_not_dissolved()
        if self.status is PairStatus.COMPLETED:
            raise CommandRejectedError(code=RejectionCode.PAIR_CLOSED)

    @staticmethod
    def _require_not_done(session: TrackedSession) -> None:
        if session.status is SessionStatus.HELD:
            raise CommandRejectedError(code=RejectionCode.SESSION_ALREADY_HELD, subject=session.key)
        if session.status is SessionStatus.SKIPPED:
            raise CommandRejectedError(code=RejectionCode.SESSION_SKIPPED, subject=session.key)

    def _scheduled_session(self, session_key: str) -> TrackedSession:
        session = self.session(session_key)
        self._require_not_done(session)
        if session.status is not SessionStatus.SCHEDULED:
            raise CommandRejectedError(
                code=RejectionCode.SESSION_NOT_SCHEDULED, subject=session_key
            )
        return session

    def _appointment_duration(self, session: TrackedSession, requested: int | None) -> int:
        duration = (
            self.plan.duration_of(self.plan.sessions[session.position - 1])
            if requested is None
            else requested
        )
        _require_session_length(duration, session.key, MAX_SCHEDULED_MINUTES)
        return duration

    def _require_within_programme(self, moment: datetime, session_key: str) -> None:
        if not self.programme_opens_at() <= moment < self.programme_closes_at():
            raise CommandRejectedError(
                code=RejectionCode.OUTSIDE_PROGRAMME_DATES, subject=session_key
            )

    def _require_free_slot(
        self, session: TrackedSession, starts_at: datetime, duration_minutes: int
    ) -> None:
        ends_at = starts_at + timedelta(minutes=duration_minutes)
        for other in self.sessions:
            other_ends_at = other.ends_at()
            if other is session or other.scheduled_at is None or other_ends_at is None:
                continue
            if starts_at < other_ends_at and other.scheduled_at < ends_at:
                raise CommandRejectedError(
                    code=RejectionCode.OVERLAPPING_SESSION, subject=session.key
                )

    def _require_sequence(self, session: TrackedSession, held_at: datetime) -> None:
        if self.plan.sequence_policy is SequencePolicy.FREE:
            return
        for earlier in self.sessions[: session.position - 1]:
            in_order = earlier.status is SessionStatus.SKIPPED or (
                earlier.status is SessionStatus.HELD
                and earlier.held_at is not None
                and earlier.held_at <= held_at
            )
            if not in_order:
                raise CommandRejectedError(
                    code=RejectionCode.SEQUENCE_OUT_OF_ORDER, subject=session.key
                )

    def _cancel_appointment(
        self, session: TrackedSession, reason: CancellationReason, now: datetime
    ) -> None:
        cancelled_at = session.scheduled_at
        assert cancelled_at is not None  # only scheduled sessions are cancelled
        session.status = SessionStatus.PLANNED
        session.scheduled_at = None
        session.duration_minutes = None
        session.times_cancelled += 1
        session.location = ""
        session.revision += 1
        self._events.append(
            SessionCancelled(
                **self._event_base(now),
                session_key=session.key,
                position=session.position,
                cancelled_scheduled_at=cancelled_at,
                reason=reason,
                revision=session.revision,
            )
        )

    def _end_stall_if_active_again(self, now: datetime) -> None:
        silent_since = self.silent_since
        if silent_since is None or now - self.last_activity_at() >= self._stall_threshold():
            return
        self.silent_since = None
        self._record(
            PairResumed(
                **self._event_base(now),
                silent_since=silent_since,
                resumed_at=self.last_activity_at(),
            )
        )

    def _complete_if_plan_done(self, now: datetime) -> None:
        if all(
            session.status in (SessionStatus.HELD, SessionStatus.SKIPPED)
            for session in self.sessions
        ):
            self._complete(CompletionReason.PLAN_COMPLETED, now)

    def _complete(self, reason: CompletionReason, now: datetime) -> None:
        self.status = PairStatus.COMPLETED
        self.completion_reason = reason
        self.closed_at = now
        self.silent_since = None
        self._record(
            PairCompleted(
                **self._event_base(now),
                reason=reason,
                sessions_held=self.sessions_held,
                sessions_planned=self.sessions_planned,
                objectives_met=sum(
                    1 for objective in self.objectives if objective.status is ObjectiveStatus.MET
                ),
                objectives_set=len(self.objectives),
            )
        )

    def _open_objective(self, objective_id: str) -> Objective:
        for objective in self.objectives:
            if objective.objective_id == objective_id:
                if objective.status is not ObjectiveStatus.OPEN:
                    raise CommandRejectedError(
                        code=RejectionCode.OBJECTIVE_CLOSED, subject=objective_id
                    )
                return objective
        raise CommandRejectedError(code=RejectionCode.UNKNOWN_OBJECTIVE, subject=objective_id)

    def _progress(self, objective: Objective, progress_percent: int, now: datetime) -> None:
        previous = objective.progress_percent
        if previous == progress_percent:
            return
        objective.progress_percent = progress_percent
        objective.updated_at = now
        self._record(
            ObjectiveProgressed(
                **self._event_base(now),
                objective_id=objective.objective_id,
                side=objective.side,
                previous_percent=previous,
                progress_percent=progress_percent,
            )
        )

    def _require_no_feedback_yet(
        self, author: Side, moment: FeedbackMoment, session_key: str | None
    ) -> None:
        for given in self.feedback:
            if (given.author, given.moment, given.session_key) == (author, moment, session_key):
                raise CommandRejectedError(
                    code=RejectionCode.FEEDBACK_ALREADY_GIVEN, subject=session_key
                )

    def _require_valid_rating_and_comment(
        self, rating: int, comment: str, session_key: str | None
    ) -> None:
        if not MIN_RATING <= rating <= MAX_RATING:
            raise CommandRejectedError(code=RejectionCode.RATING_OUT_OF_RANGE, subject=session_key)
        if len(comment) > self.plan.feedback.comment_max_length:
            raise CommandRejectedError(code=RejectionCode.COMMENT_TOO_LONG, subject=session_key)

    def _store_feedback(
        self,
        *,
        author: Side,
        moment: FeedbackMoment,
        session_key: str | None,
        rating: int,
        comment: str,
        good_fit: bool | None,
        now: datetime,
    ) -> None:
        self.feedback.append(
            Feedback(
                author=author,
                moment=moment,
                session_key=session_key,
                rating=rating,
                comment=comment,
                good_fit=good_fit,
                given_at=now,
            )
        )
        self._record(
            FeedbackGiven(
                **self._event_base(now),
                author=author,
                moment=moment,
                session_key=session_key,
                rating=rating,
                has_comment=bool(comment.strip()),
            )
        )


def _as_utc(moment: datetime, name: str) -> datetime:
    """Store every instant in UTC; a naive datetime is a programming error, not a rejection."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def _require_percentage(progress_percent: int, objective_id: str) -> None:
    if not 0 <= progress_percent <= 100:
        raise CommandRejectedError(code=RejectionCode.PROGRESS_OUT_OF_RANGE, subject=objective_id)


def _require_location(location: str, session_key: str) -> None:
    if len(location) > MAX_LOCATION_LENGTH:
        raise CommandRejectedError(code=RejectionCode.LOCATION_TOO_LONG, subject=session_key)


def _require_session_length(duration_minutes: int, session_key: str, longest: int) -> None:
    if not MIN_SESSION_MINUTES <= duration_minutes <= longest:
        raise CommandRejectedError(code=RejectionCode.DURATION_OUT_OF_RANGE, subject=session_key)
