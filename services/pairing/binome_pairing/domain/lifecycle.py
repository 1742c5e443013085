"""Where a participant and a pair stand in a programme, and the rules that read it.

The statuses are stored as their values (``participants.status``, ``pairs.status``); a pair
goes proposed → formed | rejected | superseded, and formed → dissolved; in a programme that
asks for the participants' consent, a pair awaits it (after HR's approval, if HR approves)
before it is formed: awaiting_consent → formed | called_off | superseded.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from binome_shared.contracts.hr_commands import MatchingScope
from binome_shared.contracts.participants import ParticipantRole


class ParticipantStatus(StrEnum):
    """A person's standing in a programme (absent: never enrolled)."""

    ENROLLED = "enrolled"
    WITHDRAWN = "withdrawn"
    ERASED = "erased"


class PairStatus(StrEnum):
    """Where a pair stands."""

    PROPOSED = "proposed"
    """Awaiting HR's approval (approval mode)."""
    FORMED = "formed"
    REJECTED = "rejected"
    """HR refused it: these two are never proposed together again."""
    SUPERSEDED = "superseded"
    """A proposal replaced by a later round, or ended by a member's departure."""
    DISSOLVED = "dissolved"
    """A formed pair that ended early."""
    AWAITING_CONSENT = "awaiting_consent"
    """Waiting for both members to accept it (the programme asks for their consent)."""
    CALLED_OFF = "called_off"
    """A member declined, or someone had not answered by the deadline: these two are never
    proposed together again."""


ACTIVE_PAIR_STATUSES = (PairStatus.PROPOSED, PairStatus.FORMED, PairStatus.AWAITING_CONSENT)
"""A pair in any of these statuses holds its two members."""

NEVER_AGAIN_STATUSES = (PairStatus.REJECTED, PairStatus.CALLED_OFF)
"""Pairs whose two members are never proposed together again, whatever the programme says
about repeats: HR refused them, or one of them declined (or did not answer)."""

_PAIR_NAMESPACE = uuid.UUID("0b6c3c8e-5f7e-4d8a-9a51-3f0d2c7e9b14")


def kept_pair_statuses(scope: MatchingScope) -> tuple[PairStatus, ...]:
    """The pairs a round keeps as they are: formed ones always, proposals unless the round
    starts over (``FULL``)."""
    # People already asked for their consent keep their pair until they answer: a round
    # never takes back a question put to them.
    if scope is MatchingScope.UNMATCHED:
        return (PairStatus.FORMED, PairStatus.PROPOSED, PairStatus.AWAITING_CONSENT)
    return (PairStatus.FORMED, PairStatus.AWAITING_CONSENT)


def new_pair_status(*, formed_at_once: bool, consent_asked: bool = False) -> PairStatus:
    """A new pair is proposed to HR (approval mode); otherwise it is put to its members when
    the programme asks for their consent, else formed at once."""
    if not formed_at_once:
        return PairStatus.PROPOSED
    return PairStatus.AWAITING_CONSENT if consent_asked else PairStatus.FORMED


def pair_id_for(programme_id: str, round_id: str, members: tuple[str, str]) -> str:
    """The id of the pair of ``members`` (mentor, mentee): the same for the same round and
    members, so a round solved again after a crash names its pairs the same way."""
    mentor_id, mentee_id = members
    key = f"{programme_id}:{round_id}:{mentor_id}:{mentee_id}"
    return "pair-" + uuid.uuid5(_PAIR_NAMESPACE, key).hex[:16]


def role_in_pair(participant_id: str, *, mentor_id: str) -> ParticipantRole:
    """The role ``participant_id`` holds in a pair whose mentor is ``mentor_id``."""
    return ParticipantRole.MENTOR if participant_id == mentor_id else ParticipantRole.MENTEE
