"""A programme's story as its published messages tell it: a pure fold, no IO.

:func:`programme_history` reads the envelopes :class:`~binome_integrations.report.events.
ProgrammeEvents` collected (HR's commands, then pairing's, sessions' and notifications'
facts, each partition in order) into plain figures: who is enrolled, which pairs were
proposed, formed, rejected or dissolved, each formed pair's sessions, feedback and
objectives as sessions published them, and the notifications sent. The report
(:mod:`binome_integrations.report.build`) and the demo's extra figures are computed from it.

A pair's events are keyed by pair, so they arrive in the order they happened; joins across
topics (a pair's members from pairing, its sessions from sessions) wait until a report is
built, so the order of the topics does not matter.

The fold is incremental: :meth:`ProgrammeHistory.take` adds one envelope, and a report can
be built at any point without changing the history. The served report
(:mod:`~binome_integrations.report.read_model`) keeps one history per (tenant, programme)
and feeds it each record as it is read; :func:`programme_history` is the same fold over a
list, for a replay.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from binome_integrations.report.followup import FOLLOW_UP_TYPES, FollowUp
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import (
    DefineProgramme,
    EnrolParticipant,
    EraseParticipant,
    RejectPair,
    UpdateParticipant,
    WithdrawParticipant,
)
from binome_shared.contracts.notifications_events import NotificationSent
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    PairDissolved,
    PairFormed,
    PairProposed,
    PairRejected,
)
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages import (
    CompletionReason,
    FeedbackGiven,
    ObjectiveClosed,
    ObjectiveOutcome,
    ObjectiveSet,
    PairCompleted,
    PairFitConcernRaised,
    PairResumed,
    PairStalled,
    SessionCancelled,
    SessionCompleted,
    SessionMissed,
    SessionPlanned,
    SessionRescheduled,
    SessionScheduled,
    SessionSkipped,
)

SessionFact = SessionScheduled | SessionRescheduled | SessionCancelled | SessionMissed
SessionOutcome = SessionFact | SessionCompleted | SessionSkipped
"""The facts that move one session of a pair's plan; the last one says where it stands."""


@dataclass(kw_only=True, slots=True)
class FollowedPair:
    """A formed pair as sessions published its programme (its track, seen from outside)."""

    pair_id: str
    plan_length: int = 0
    sessions: dict[int, SessionOutcome] = field(default_factory=dict)
    """Each session of the plan by number, with the last fact about it."""
    completion: CompletionReason | None = None
    feedback: list[FeedbackGiven] = field(default_factory=list)
    objectives_set: int = 0
    objectives_met: int = 0
    fit_concern: bool = False

    @property
    def sessions_held(self) -> int:
        """Sessions reported held."""
        return sum(isinstance(fact, SessionCompleted) for fact in self.sessions.values())

    @property
    def sessions_skipped(self) -> int:
        """Sessions taken out of the plan."""
        return sum(isinstance(fact, SessionSkipped) for fact in self.sessions.values())

    @property
    def sessions_planned(self) -> int:
        """The plan's sessions, skipped ones excluded."""
        return self.plan_length - self.sessions_skipped

    def scheduled_starts(self) -> list[datetime]:
        """When the sessions still in the calendar start."""
        return [
            fact.starts_at
            for fact in self.sessions.values()
            if isinstance(fact, SessionScheduled | SessionRescheduled)
        ]

    def held_at(self) -> list[datetime]:
        """When the held sessions took place."""
        return [
            fact.held_at for fact in self.sessions.values() if isinstance(fact, SessionCompleted)
        ]


@dataclass(frozen=True, kw_only=True, slots=True)
class TrackedPair:
    """A followed pair with its members as pairing formed it."""

    formed: PairFormed
    followed: FollowedPair
    dissolved: bool

    @property
    def active(self) -> bool:
        """Neither completed nor dissolved (a dissolution after completion changes nothing)."""
        return self.followed.completion is None and not self.dissolved

    @property
    def completed_plan(self) -> bool:
        """The pair held (or skipped) every session of its plan."""
        return self.followed.completion is CompletionReason.PLAN_COMPLETED


@dataclass(kw_only=True, slots=True)
class ProgrammeHistory:
    """What the published messages say about one programme, folded."""

    definition: DefineProgramme | None = None
    roles: dict[str, ParticipantRole] = field(default_factory=dict)
    """Everyone enrolled now, with their role."""
    matched_mentees: set[str] = field(default_factory=set)
    """Mentees any committed round proposed (or formed) a pair for."""
    formed: dict[str, PairFormed] = field(default_factory=dict)
    dissolved: set[str] = field(default_factory=set)
    rounds: list[MatchingCompleted] = field(default_factory=list)
    """Committed rounds (previews left out), in order."""
    followed: dict[str, FollowedPair] = field(default_factory=dict)
    stalled: set[str] = field(default_factory=set)
    resumed: set[str] = field(default_factory=set)
    misses: list[datetime | None] = field(default_factory=list)
    """When each missed appointment was (one entry per miss)."""
    cancellations: list[datetime | None] = field(default_factory=list)
    sent_by_kind: Counter[str] = field(default_factory=Counter)
    emails_sent: int = 0
    follow_up: FollowUp = field(default_factory=FollowUp)
    """Consent, pulse check-ins and ratings by session (:mod:`.followup`)."""
    _hr_rejections: set[uuid.UUID] = field(default_factory=set)
    _rejection_causes: list[uuid.UUID | None] = field(default_factory=list)

    @property
    def formed_pairs(self) -> list[PairFormed]:
        """Pairs formed and not dissolved since."""
        return [pair for pair_id, pair in self.formed.items() if pair_id not in self.dissolved]

    @property
    def proposals_rejected(self) -> int:
        """Proposals HR turned down (not those a withdrawal or erasure superseded)."""
        return sum(cause in self._hr_rejections for cause in self._rejection_causes)

    @property
    def last_round(self) -> MatchingCompleted | None:
        """The last committed matching round."""
        return self.rounds[-1] if self.rounds else None

    def tracks(self) -> list[TrackedPair]:
        """Every pair sessions follows, with pairing's view of its members, by pair id."""
        return [
            TrackedPair(
                formed=self.formed[pair_id],
                followed=followed,
                dissolved=pair_id in self.dissolved,
            )
            for pair_id, followed in sorted(self.followed.items())
            if pair_id in self.formed
        ]

    def role_count(self, role: ParticipantRole) -> int:
        """People enrolled in ``role``."""
        return sum(1 for held in self.roles.values() if held is role)

    def take(self, envelope: Envelope[Message]) -> None:
        """Fold one envelope in; messages the report does not use are passed over."""
        data = envelope.data
        if isinstance(data, _HR_TYPES):
            self._take_hr(envelope.id, data)
        elif isinstance(data, _PAIRING_TYPES):
            self._take_pairing(envelope.causation_id, data)
        elif isinstance(data, _SESSION_TYPES):
            self._take_session(data)
        elif isinstance(data, FOLLOW_UP_TYPES):
            self.follow_up.take(data)
        elif isinstance(data, NotificationSent):
            self.sent_by_kind[data.kind] += 1
            self.emails_sent += data.channel == "email"

    def _take_hr(self, envelope_id: uuid.UUID, data: _HrCommand) -> None:
        match data:
            case DefineProgramme():
                self.definition = data
            case EnrolParticipant() if data.participant.participant_id not in self.roles:
                self.roles[data.participant.participant_id] = data.participant.role
            case UpdateParticipant() if data.participant.participant_id in self.roles:
                self.roles[data.participant.participant_id] = data.participant.role
            case WithdrawParticipant() | EraseParticipant():
                self.roles.pop(data.participant_id, None)
            case RejectPair():
                self._hr_rejections.add(envelope_id)

    def _take_pairing(self, causation: uuid.UUID | None, data: _PairingEvent) -> None:
        match data:
            case PairProposed():
                self.matched_mentees.add(data.mentee.participant_id)
            case PairFormed():
                self.matched_mentees.add(data.mentee.participant_id)
                self.formed[data.pair_id] = data
                self.follow_up.formed(data)
            case PairRejected():
                self._rejection_causes.append(causation)
            case PairDissolved():
                self.dissolved.add(data.pair_id)
            case MatchingCompleted() if not data.preview:
                self.rounds.append(data)

    def _take_session(self, data: _SessionEvent) -> None:
        pair = self.followed.setdefault(data.pair_id, FollowedPair(pair_id=data.pair_id))
        match data:
            case SessionPlanned():
                pair.plan_length = data.sessions_planned
            case SessionMissed():
                pair.sessions[data.session_number] = data
                self.misses.append(data.scheduled_at)
            case SessionCancelled():
                pair.sessions[data.session_number] = data
                self.cancellations.append(data.cancelled_starts_at)
            case SessionScheduled() | SessionRescheduled() | SessionCompleted() | SessionSkipped():
                pair.sessions[data.session_number] = data
            case FeedbackGiven():
                pair.feedback.append(data)
                self.follow_up.rated(data)
            case ObjectiveSet():
                pair.objectives_set += 1
            case ObjectiveClosed():
                pair.objectives_met += data.outcome is ObjectiveOutcome.MET
            case PairFitConcernRaised():
                pair.fit_concern = True
            case PairStalled():
                self.stalled.add(data.pair_id)
            case PairResumed():
                self.resumed.add(data.pair_id)
            case PairCompleted():
                pair.completion = data.reason


_HrCommand = (
    DefineProgramme
    | EnrolParticipant
    | UpdateParticipant
    | WithdrawParticipant
    | EraseParticipant
    | RejectPair
)
_PairingEvent = PairProposed | PairFormed | PairRejected | PairDissolved | MatchingCompleted
_SessionEvent = (
    SessionPlanned
    | SessionOutcome
    | FeedbackGiven
    | ObjectiveSet
    | ObjectiveClosed
    | PairFitConcernRaised
    | PairStalled
    | PairResumed
    | PairCompleted
)
_HR_TYPES = (
    DefineProgramme,
    EnrolParticipant,
    UpdateParticipant,
    WithdrawParticipant,
    EraseParticipant,
    RejectPair,
)
_PAIRING_TYPES = (PairProposed, PairFormed, PairRejected, PairDissolved, MatchingCompleted)
_SESSION_TYPES = (
    SessionPlanned,
    SessionScheduled,
    SessionRescheduled,
    SessionCancelled,
    SessionMissed,
    SessionCompleted,
    SessionSkipped,
    FeedbackGiven,
    ObjectiveSet,
    ObjectiveClosed,
    PairFitConcernRaised,
    PairStalled,
    PairResumed,
    PairCompleted,
)


def programme_history(envelopes: Iterable[Envelope[Message]]) -> ProgrammeHistory:
    """The fold of a programme's envelopes (one programme's only: the caller filtered)."""
    history = ProgrammeHistory()
    for envelope in envelopes:
        history.take(envelope)
    return history
