"""A pair's sessions: their appointments and whether they were held, missed or skipped."""

from __future__ import annotations

from datetime import datetime, timedelta

from binome_sessions.domain.events import (
    SessionCompleted,
    SessionMissed,
    SessionRescheduled,
    SessionScheduled,
    SessionSkipped,
)
from binome_sessions.domain.parts import (
    MAX_HELD_MINUTES,
    MAX_NOTES_LENGTH,
    MAX_SCHEDULED_MINUTES,
    TrackedSession,
    as_utc,
    require_location,
    require_session_length,
)
from binome_sessions.domain.rejections import CommandRejectedError, RejectionCode
from binome_sessions.domain.track_state import TrackState
from binome_sessions.domain.values import (
    SessionStatus,
)
from binome_shared.contracts.session_plan import SequencePolicy
from binome_shared.contracts.sessions_messages import (
    Absence,
    Attendance,
    CancellationReason,
)


class SessionScheduling(TrackState):
    """Scheduling and attendance: the life cycle of each themed session of the déroulé."""

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
        scheduled_at = as_utc(scheduled_at, "scheduled_at")
        now = as_utc(now, "now")
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
        self._require_bookable(session, scheduled_at, duration, location)

        session.status = SessionStatus.SCHEDULED
        session.scheduled_at = scheduled_at
        session.duration_minutes = duration
        session.location = location
        self._record(
            SessionScheduled(
                **self._session_event_base(session, now),
                starts_at=scheduled_at,
                duration_minutes=duration,
                location=location,
                sequence=session.revision,
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
        scheduled_at = as_utc(scheduled_at, "scheduled_at")
        now = as_utc(now, "now")
        self._require_running()
        session = self._scheduled_session(session_key)
        previous = session.scheduled_at
        assert previous is not None  # a scheduled session always has its slot
        duration = session.duration_minutes if duration_minutes is None else duration_minutes
        assert duration is not None  # a scheduled session always has its duration
        require_session_length(duration, session_key, MAX_SCHEDULED_MINUTES)
        place = session.location if location is None else location
        self._require_bookable(session, scheduled_at, duration, place)
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
                **self._session_event_base(session, now),
                previous_starts_at=previous,
                starts_at=scheduled_at,
                duration_minutes=duration,
                location=place,
                sequence=session.revision,
            )
        )

    def cancel_session(
        self, *, session_key: str, reason: CancellationReason, now: datetime
    ) -> None:
        """Cancel a scheduled appointment; the session goes back to be scheduled again."""
        now = as_utc(now, "now")
        self._require_running()
        session = self._scheduled_session(session_key)
        self._cancel_appointment(session, reason, now)
        self._touch()

    def skip_session(self, *, session_key: str, now: datetime) -> None:
        """Take a session out of this pair's déroulé (cancelling its appointment, if any)."""
        now = as_utc(now, "now")
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
        self._record(SessionSkipped(**self._session_event_base(session, now)))
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
        now = as_utc(now, "now")
        self._require_running()
        session = self._scheduled_session(session_key)
        assert session.scheduled_at is not None  # a scheduled session always has its slot
        held_at = session.scheduled_at if held_at is None else as_utc(held_at, "held_at")
        if held_at > now:
            raise CommandRejectedError(code=RejectionCode.HELD_IN_FUTURE, subject=session_key)
        self._require_within_programme(held_at, session_key)
        duration = session.duration_minutes if duration_minutes is None else duration_minutes
        assert duration is not None  # a scheduled session always has its duration
        require_session_length(duration, session_key, MAX_HELD_MINUTES)
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
                **self._session_event_base(session, now),
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
        now = as_utc(now, "now")
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
                **self._session_event_base(session, now),
                scheduled_at=scheduled_at,
                absence=missed_by,
            )
        )

    # ------------------------------------------------------------------ internals

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
        require_session_length(duration, session.key, MAX_SCHEDULED_MINUTES)
        return duration

    def _require_bookable(
        self, session: TrackedSession, starts_at: datetime, duration_minutes: int, location: str
    ) -> None:
        """The rules every appointment keeps, new or moved: a valid place, within the
        programme's dates, overlapping no other session of the pair."""
        require_location(location, session.key)
        self._require_within_programme(starts_at, session.key)
        self._require_free_slot(session, starts_at, duration_minutes)

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
