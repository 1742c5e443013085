"""A pair's track through its programme: the aggregate that owns sessions, objectives and feedback.

Every command either raises :class:`CommandRejectedError` before touching anything, or changes the
state and appends the events it caused to :attr:`PairTrack.events`. Nothing here reads a clock:
``now`` is passed in, so that the same commands on the same state give the same result.

:class:`PairTrack` is the one class callers use; its commands are written by concern, one
module each: ``scheduling`` (appointments and attendance), ``objectives``, ``feedback`` and
``pair_lifecycle`` (training, dissolution, stalls, the programme's end, erasure) and ``pulse``
(pulse check-ins), over the
shared state and transitions of ``track_state``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Self
from zoneinfo import ZoneInfo

from binome_sessions.domain.events import PairPlanStarted
from binome_sessions.domain.feedback import FeedbackCollection
from binome_sessions.domain.objectives import ObjectiveTracking
from binome_sessions.domain.pair_lifecycle import PairLifecycle
from binome_sessions.domain.parts import Feedback, Objective, TrackedSession, as_utc
from binome_sessions.domain.pulse import PulseCheckIns
from binome_sessions.domain.scheduling import SessionScheduling
from binome_shared.contracts.session_plan import SessionPlan

__all__ = ["Feedback", "Objective", "PairTrack", "TrackedSession"]


class PairTrack(
    SessionScheduling, ObjectiveTracking, FeedbackCollection, PairLifecycle, PulseCheckIns
):
    """A pair's programme: its déroulé, objectives, feedback and follow-up state.

    Serialisable with :meth:`to_dict` / :meth:`from_dict`; the pending :attr:`events` are not
    part of the state and must be taken (:meth:`pull_events`) and stored with it.
    """

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
        formed_at = as_utc(formed_at, "formed_at")
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
