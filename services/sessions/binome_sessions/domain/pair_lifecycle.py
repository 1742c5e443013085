"""The pair as a whole: mentor training, dissolution, stalls, the programme's end, erasure."""

from __future__ import annotations

from datetime import datetime

from binome_sessions.domain.events import PairStalled
from binome_sessions.domain.parts import ONE_WEEK, as_utc
from binome_sessions.domain.track_state import TrackState
from binome_sessions.domain.values import (
    PairStatus,
)
from binome_shared.contracts.sessions_messages import (
    CancellationReason,
    CompletionReason,
)


class PairLifecycle(TrackState):
    """What happens to the pair rather than to one of its sessions or objectives."""

    def record_mentor_trained(self, *, now: datetime) -> None:
        """Note that the mentor completed the programme's training (again changes nothing)."""
        as_utc(now, "now")
        self._require_not_dissolved()
        if self.mentor_trained:
            return
        self.mentor_trained = True
        self._touch()

    def dissolve(self, *, now: datetime) -> None:
        """The pair was dissolved: cancel its appointments and refuse anything further."""
        now = as_utc(now, "now")
        self._require_running()
        self._cancel_appointments(CancellationReason.PAIR_DISSOLVED, now)
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
        now = as_utc(now, "now")
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
                weeks_silent=silence // ONE_WEEK,
            )
        )
        return True

    def close_if_programme_ended(self, *, now: datetime) -> bool:
        """Complete a still-running pair once its programme's last day is over."""
        now = as_utc(now, "now")
        if self.status is not PairStatus.ACTIVE or now < self.programme_closes_at():
            return False
        self._cancel_appointments(CancellationReason.PROGRAMME_ENDED, now)
        self._complete(CompletionReason.PROGRAMME_ENDED, now)
        return True
