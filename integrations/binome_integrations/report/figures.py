"""Numbers derived from a report for display: score histogram bins and summary statistics."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

HISTOGRAM_BINS = 10


@dataclass(frozen=True, kw_only=True, slots=True)
class Bin:
    """Scores in ``[low, high)`` (the last bin also holds 1.0)."""

    low: float
    high: float
    count: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ScoreSummary:
    """Minimum, median, mean and maximum of the pairing scores."""

    minimum: float
    median: float
    mean: float
    maximum: float


def histogram(scores: Sequence[float], *, bins: int = HISTOGRAM_BINS) -> list[Bin]:
    """Equal-width bins over 0–1, every bin present even when empty."""
    counts = [0] * bins
    for score in scores:
        counts[min(int(score * bins), bins - 1)] += 1
    return [
        Bin(low=index / bins, high=(index + 1) / bins, count=count)
        for index, count in enumerate(counts)
    ]


def summarise(scores: Sequence[float]) -> ScoreSummary | None:
    """The scores' summary, or None when there is none."""
    if not scores:
        return None
    return ScoreSummary(
        minimum=min(scores),
        median=statistics.median(scores),
        mean=statistics.fmean(scores),
        maximum=max(scores),
    )
