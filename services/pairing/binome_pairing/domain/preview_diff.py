"""How a previewed round differs from the programme's current pairs (pure).

A pair is the same pair when it has the same mentor and mentee: a kept pair, or a proposal
a ``full`` round would propose again, is *kept*; any other pair of the round is *new*; a
current pair the round does not contain is *broken* (only a proposal can be: formed pairs
are always kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class CurrentPair(Protocol):
    """A pair the programme has now (formed or proposed)."""

    @property
    def pair_id(self) -> str: ...

    @property
    def mentor_id(self) -> str: ...

    @property
    def mentee_id(self) -> str: ...


Current = TypeVar("Current", bound=CurrentPair)


@dataclass(frozen=True, kw_only=True, slots=True)
class PairDiff(Generic[Current]):
    """The round's pairs sorted into kept and new, and the current pairs it breaks."""

    kept: dict[tuple[str, str], Current]
    """Round pairs (mentor_id, mentee_id) that are current pairs, with the current pair."""
    new: list[tuple[str, str]]
    broken: list[Current]


def diff_pairs(
    current: Sequence[Current], proposed: Sequence[tuple[str, str]]
) -> PairDiff[Current]:
    """Compare the round's ``proposed`` (mentor_id, mentee_id) pairs with ``current``."""
    by_members = {(pair.mentor_id, pair.mentee_id): pair for pair in current}
    kept = {members: by_members[members] for members in proposed if members in by_members}
    new = [members for members in proposed if members not in by_members]
    broken = [pair for members, pair in by_members.items() if members not in kept]
    return PairDiff(kept=kept, new=new, broken=broken)
