"""Facts the pairing service publishes on ``binome.pairing.events``.

Pair-scoped events are keyed by pair (its life is read in order); round-level events by
programme. They carry employee ids and business units, never names or e-mail addresses.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from binome_shared.contracts.base import Event
from binome_shared.contracts.moments import Moment
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.text import Code, Identifier, Name, Reason, free_text
from binome_shared.contracts.topics import PAIRING_EVENTS
from binome_shared.contracts.values import Count, Fraction, LocalisedText


class NeedCovered(BaseModel):
    """One of the mentee's learning needs and the mentor's skill that answers it."""

    model_config = ConfigDict(frozen=True)

    need: Code = Field(examples=["generative_ai"])
    priority: int = Field(ge=1, le=5, description="The mentee's priority, 5 = most wanted.")
    mentor_level: int = Field(ge=0, le=5, description="The mentor's level in that skill.")


class PairImposition(BaseModel):
    """HR imposed the pair (``ImposePairs``): which rules it overrode, and why."""

    model_config = ConfigDict(frozen=True)

    overridden: list[Code] = Field(
        default_factory=list,
        max_length=20,
        description="Hard constraints the pair breaks, formed anyway on HR's override.",
        examples=[["different_department"]],
    )
    reason: Reason = Field(default="", description="HR's reason for the override, if any.")
    summary: LocalisedText = Field(description="The imposition as a person reads it.")


class PairExplanation(BaseModel):
    """Why these two people: the score, its parts and the rules that held.

    Since 1.1 of the events carrying it: ``imposed`` when HR imposed the pair."""

    model_config = ConfigDict(frozen=True)

    score: Fraction = Field(description="Weighted score in [0, 1].")
    breakdown: dict[Code, Fraction] = Field(
        max_length=20,
        description="Each soft criterion's score in [0, 1], before weighting.",
        examples=[{"needs_coverage": 0.82, "availability": 0.6, "same_site": 1.0}],
    )
    needs_covered: list[NeedCovered] = Field(default_factory=list, max_length=100)
    constraints_checked: list[Code] = Field(
        default_factory=list,
        max_length=20,
        description="Hard constraints of the programme this pair satisfies.",
        examples=[["mentor_younger", "not_in_management_chain", "shared_language"]],
    )
    summary: LocalisedText = Field(description="The explanation as a person reads it.")
    imposed: PairImposition | None = Field(
        default=None, description="Set when HR imposed the pair, with any override's reason."
    )


class PairSide(BaseModel):
    """A pair member as other services may know them: id and business unit, no more."""

    model_config = ConfigDict(frozen=True)

    participant_id: Identifier = Field(examples=["E10442"])
    business_unit: Name = Field(examples=["Assurance dommages"])


class PairEvent(Event, topic=PAIRING_EVENTS, key="pair_id"):
    """A fact about one pair, keyed by it so that the pair's story is read in order."""

    pair_id: Identifier


class MatchedPair(PairEvent):
    """What a round says of a pair it matched: a proposal and a formed pair carry the same."""

    round_id: Identifier
    mentor: PairSide
    mentee: PairSide
    explanation: PairExplanation
    mentor_trained: bool = Field(
        default=False, description="The mentor has completed the programme's training."
    )


class PairProposed(MatchedPair, type="binome.pairing.pair-proposed", version=(1, 1)):
    """A matching round proposes a pair; HR approves or rejects it (approval mode).

    1.1 added ``explanation.imposed`` (a pair HR imposed)."""


class PairFormed(MatchedPair, type="binome.pairing.pair-formed", version=(1, 1)):
    """Two people are now a pair (binôme): sessions start, introductions go out.

    1.1 added ``explanation.imposed`` (a pair HR imposed)."""


class PairRejected(PairEvent, type="binome.pairing.pair-rejected", version=(1, 0)):
    """HR refused a proposed pair; its two members are free for another proposal."""

    reason: Reason = ""


class DissolutionReason(StrEnum):
    """Why a pair ended before completing its programme."""

    WITHDRAWN = "participant_withdrawn"
    ERASED = "participant_erased"
    HR_DECISION = "hr_decision"
    POOR_FIT = "poor_fit"


class PairDissolved(PairEvent, type="binome.pairing.pair-dissolved", version=(1, 0)):
    """A formed pair ended early; its remaining member may be re-paired."""

    reason: DissolutionReason
    detail: Annotated[str, free_text(1000)] = ""


class UnmatchedParticipant(BaseModel):
    """Someone a round could not pair, and why, in words HR can act on."""

    model_config = ConfigDict(frozen=True)

    participant_id: Identifier
    role: Code = Field(examples=["mentee"])
    reason_code: Code = Field(examples=["no_feasible_mentor"])
    reason: LocalisedText


REPAIR_ROUND_PREFIX = "repair-"
"""How the round ids of the rounds pairing runs itself begin: after a pair ends (declined,
lapsed, called off, a member withdrawn) it re-pairs whoever is free, and a subscriber tells
those rounds from HR's by this prefix."""


class MatchingCompleted(
    Event, type="binome.pairing.matching-completed", version=(1, 0), topic=PAIRING_EVENTS
):
    """A matching round finished (or was previewed): counts, scores, who stayed unmatched."""

    round_id: Identifier
    preview: bool
    mentors: Count
    mentees: Count
    pairs: Count = Field(description="Pairs proposed or formed in this round.")
    pairs_kept: Count = Field(description="Existing pairs left as they were.")
    score_quantiles: dict[Code, Fraction] = Field(
        default_factory=dict,
        max_length=20,
        examples=[{"min": 0.41, "p50": 0.72, "max": 0.97, "mean": 0.71}],
    )
    unmatched: list[UnmatchedParticipant] = Field(default_factory=list, max_length=200_000)
    rejected_records: Count = Field(
        default=0, description="Participant records refused as invalid before solving."
    )


class PairChange(StrEnum):
    """How a previewed round would change a pair, compared with the current pairs."""

    KEPT = "kept"
    """Already a pair (formed or proposed), and the round keeps it."""
    NEW = "new"
    """The round would form (or propose) it."""
    BROKEN = "broken"
    """A current pair (a proposal, in a ``full`` round) the round would replace."""


class PreviewedPair(BaseModel):
    """One pair of a previewed round, explained, and whether it is kept or new."""

    model_config = ConfigDict(frozen=True)

    pair_id: Identifier = Field(description="The current pair's id, or the id it would get.")
    change: PairChange = Field(examples=["new"])
    mentor: PairSide
    mentee: PairSide
    explanation: PairExplanation


class BrokenPair(BaseModel):
    """A current pair the previewed round would not keep."""

    model_config = ConfigDict(frozen=True)

    pair_id: Identifier
    mentor_id: Identifier
    mentee_id: Identifier
    status: Code = Field(examples=["proposed"])


class MatchingPreviewed(
    Event, type="binome.pairing.matching-previewed", version=(1, 0), topic=PAIRING_EVENTS
):
    """One part of a previewed round: its pairs, explained, and the change to current pairs.

    A preview of 1,000 pairs is over a Kafka record's 1 MiB, so it comes in ``parts`` events
    (each well under the limit), keyed by programme so they arrive in order, then the
    round's ``MatchingCompleted`` (``preview: true``). The totals are in every part; the
    command's id is every part's ``causationid``, telling two previews of a round apart.
    """

    round_id: Identifier
    part: int = Field(ge=1, description="This part's number, from 1.")
    parts: int = Field(ge=1, description="How many parts the preview has.")
    kept: Count = Field(description="Pairs kept, in the whole preview.")
    new: Count = Field(description="Pairs the round would form, in the whole preview.")
    broken: Count = Field(description="Current pairs the round would end, in the whole preview.")
    pairs: list[PreviewedPair] = Field(default_factory=list, max_length=100_000)
    broken_pairs: list[BrokenPair] = Field(default_factory=list, max_length=100_000)


# --- Participant consent (issue #17) ------------------------------------------------------


class PairConsentRequested(
    MatchedPair, type="binome.pairing.pair-consent-requested", version=(1, 0)
):
    """The programme asks both people to accept this pair (after HR's approval, when HR
    approves): each answers with AcceptPair or DeclinePair before ``respond_by``. The pair is
    formed (PairFormed) once both accepted."""

    respond_by: Moment = Field(description="The deadline for both answers.")


class PairAccepted(PairEvent, type="binome.pairing.pair-accepted", version=(1, 0)):
    """One member of a pair awaiting consent accepted it (each side once)."""

    side: ParticipantRole = Field(description="Who accepted: the mentor or the mentee.")


class CallOffReason(StrEnum):
    """Why a pair awaiting consent will not go ahead."""

    DECLINED = "declined"
    NO_ANSWER = "no_answer"
    """Someone had not answered by the deadline."""
    PARTICIPANT_LEFT = "participant_left"
    """A member was withdrawn or erased before both had accepted."""


class PairCalledOff(PairEvent, type="binome.pairing.pair-called-off", version=(1, 0)):
    """A pair awaiting consent will not go ahead: both members are free and re-paired, never
    with each other again. ``declined_by`` is for HR: messages to the two people never say
    who declined."""

    reason: CallOffReason
    declined_by: ParticipantRole | None = Field(
        default=None, description="The side that declined; null when nobody declined."
    )


PAIRING_EVENT_TYPES: tuple[type[Event], ...] = (
    PairProposed,
    PairFormed,
    PairRejected,
    PairDissolved,
    MatchingCompleted,
    MatchingPreviewed,
    PairConsentRequested,
    PairAccepted,
    PairCalledOff,
)
