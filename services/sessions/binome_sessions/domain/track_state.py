"""The state of a pair's track and what every concern of it shares: the pending events, the
read-only views, the guards on the pair's status, and the transitions more than one command
leads to (cancelling an appointment, ending a stall, completing the pair)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, PrivateAttr

from binome_sessions.domain.events import (
    PairCompleted,
    PairResumed,
    SessionCancelled,
    SessionsDomainEvent,
)
from binome_sessions.domain.parts import Feedback, Objective, PulseRound, TrackedSession
from binome_sessions.domain.rejections import CommandRejectedError, RejectionCode
from binome_sessions.domain.values import (
    ObjectiveStatus,
    PairStatus,
    SessionStatus,
)
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.contracts.sessions_messages import (
    CancellationReason,
    CompletionReason,
)


class TrackState(BaseModel):
    """A pair's programme: its déroulé, objectives, feedback and follow-up state.

    The commands live in one class per concern, each a subclass of this one, and
    :class:`~binome_sessions.domain.track.PairTrack` brings them together.
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
    pulses: list[PulseRound] = []
    """Pulse rounds asked so far, oldest first (tracks stored before pulses have none)."""
    version: int = 0
    """Bumped by every change, for optimistic concurrency in storage."""

    _events: list[SessionsDomainEvent] = PrivateAttr(default_factory=list)

    # ------------------------------------------------------------------ pending events

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

    def started_at(self) -> datetime:
        """When the pair could first meet: its formation, or its programme's first day."""
        return max(self.formed_at, self.programme_opens_at())

    def last_activity_at(self) -> datetime:
        """When the pair last held a session, or when its programme could first start."""
        held = [session.held_at for session in self.sessions if session.held_at is not None]
        return max(held, default=self.started_at())

    def stall_due_at(self) -> datetime | None:
        """When the pair will be stalled if nothing is held before; None if it cannot stall now."""
        if self.status is not PairStatus.ACTIVE or self.is_stalled:
            return None
        return self.last_activity_at() + self._stall_threshold()

    # ------------------------------------------------------------------ shared internals

    def _event_base(self, now: datetime) -> dict[str, Any]:
        return {"pair_id": self.pair_id, "programme_id": self.programme_id, "occurred_at": now}

    def _session_event_base(self, session: TrackedSession, now: datetime) -> dict[str, Any]:
        return {
            **self._event_base(now),
            "session_number": session.position,
            "theme_key": session.key,
        }

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
                **self._session_event_base(session, now),
                cancelled_starts_at=cancelled_at,
                reason=reason,
                sequence=session.revision,
            )
        )

    def _cancel_appointments(self, reason: CancellationReason, now: datetime) -> None:
        for session in self.sessions:
            if session.status is SessionStatus.SCHEDULED:
                self._cancel_appointment(session, reason, now)

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
