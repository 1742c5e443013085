"""The pairing engine: pure, typed, explainable and globally optimal.

Typical use::

    from binome_pairing.domain import solve, excluded_pairs

    result = solve(rules=rules, participants=profiles,
                   forbidden_pairs=excluded_pairs(rules=rules, previous_pairs=previous))

Nothing here does IO or reads a clock, so a preview is just a call (:func:`preview`).
"""

from binome_pairing.domain.engine import excluded_pairs, preview, solve
from binome_pairing.domain.results import (
    DEFAULT_TUNING,
    CandidateStrategy,
    CardinalityProof,
    CohortValidation,
    MatchingResult,
    MatchingStats,
    NeedCoverage,
    ProposedPair,
    RecordProblem,
    Severity,
    SolverTuning,
    Unmatched,
    UnmatchedReason,
)
from binome_pairing.domain.validation import parse_participants, validate_cohort

__all__ = [
    "DEFAULT_TUNING",
    "CandidateStrategy",
    "CardinalityProof",
    "CohortValidation",
    "MatchingResult",
    "MatchingStats",
    "NeedCoverage",
    "ProposedPair",
    "RecordProblem",
    "Severity",
    "SolverTuning",
    "Unmatched",
    "UnmatchedReason",
    "excluded_pairs",
    "parse_participants",
    "preview",
    "solve",
    "validate_cohort",
]
