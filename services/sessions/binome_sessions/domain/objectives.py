"""A pair's objectives: set by one side, progressed, then closed as met or not met."""

from __future__ import annotations

from datetime import datetime

from binome_sessions.domain.events import ObjectiveClosed, ObjectiveProgressed, ObjectiveSet
from binome_sessions.domain.parts import (
    MAX_OBJECTIVE_STATEMENT_LENGTH,
    MAX_OBJECTIVES_PER_SIDE,
    Objective,
    as_utc,
    require_percentage,
)
from binome_sessions.domain.rejections import CommandRejectedError, RejectionCode
from binome_sessions.domain.track_state import TrackState
from binome_sessions.domain.values import (
    ObjectiveStatus,
)
from binome_shared.contracts.sessions_messages import (
    ObjectiveOutcome,
    ParticipantRole,
)


class ObjectiveTracking(TrackState):
    """The objectives each side of the pair works towards."""

    def set_objective(
        self, *, objective_id: str, side: ParticipantRole, statement: str, now: datetime
    ) -> None:
        """One side sets a precise objective (at most five per side)."""
        now = as_utc(now, "now")
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
                **self._event_base(now), objective_id=objective_id, owner=side, title=statement
            )
        )

    def update_objective_progress(
        self, *, objective_id: str, progress_percent: int, now: datetime
    ) -> None:
        """Set an open objective's progress (0–100 %); the same value again changes nothing."""
        now = as_utc(now, "now")
        self._require_not_dissolved()
        objective = self._open_objective(objective_id)
        require_percentage(progress_percent, objective_id)
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
        now = as_utc(now, "now")
        self._require_not_dissolved()
        objective = self._open_objective(objective_id)
        if progress_percent is not None:
            require_percentage(progress_percent, objective_id)
            self._progress(objective, progress_percent, now)

        objective.status = ObjectiveStatus(outcome.value)
        objective.updated_at = now
        objective.closed_at = now
        self._record(
            ObjectiveClosed(
                **self._event_base(now),
                objective_id=objective_id,
                owner=objective.side,
                outcome=outcome,
                progress_percent=objective.progress_percent,
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
                owner=objective.side,
                previous_percent=previous,
                progress_percent=progress_percent,
            )
        )
