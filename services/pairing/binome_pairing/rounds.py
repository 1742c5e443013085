"""A round as one self-contained job: what goes to the solver and what comes back.

The job is built so that it can cross a process boundary cheaply: the participants travel as
the JSON text they are stored as (pickling 20,000 text strings takes milliseconds, pickling
20,000 validated profiles takes seconds), and they are parsed where the round is solved.
What comes back is built the same way: the new pairs as JSON text, parsed by the handler a
slice at a time, and, for their members, the two facts written beside each pair. So neither
the profiles nor ten thousand pairs ever live as objects in the service's process at once:
besides the parsing time, that keeps full garbage collections (each one a pause of the
event loop proportional to the objects alive) from being triggered by a large round.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from binome_pairing.domain import MatchingResult, ProposedPair, solve
from binome_shared.contracts.participants import ParticipantProfile, ReportingLine
from binome_shared.contracts.programme import ProgrammeRules


@dataclass(frozen=True, kw_only=True, slots=True)
class RoundProblem:
    """Everything the engine needs for one round of one programme."""

    rules: ProgrammeRules
    profiles_json: Sequence[str]
    """Enrolled participants' profiles, as stored (``ParticipantProfile`` JSON)."""
    reporting_lines: Sequence[ReportingLine]
    locked_pairs: Sequence[tuple[str, str]]
    forbidden_pairs: Collection[tuple[str, str]]
    imposed_pairs: Sequence[tuple[str, str]] = ()
    """Pairs HR imposes this round (fixed like kept ones, returned with the new ones)."""
    preview: bool = False
    """Return the kept pairs too, explained (a preview shows every pair)."""


class PairMember(NamedTuple):
    """What a pair's row and events say about one of its members (a tuple of plain values:
    the garbage collector stops tracking it)."""

    participant_id: str
    business_unit: str
    mentor_training_completed: bool
    job_grade: int
    """The person's job grade: a programme whose consent covers only senior mentees reads
    the mentee's to decide whether the pair is put to its members."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SolvedRound:
    """The engine's answer, with the pairs it formed this round as text."""

    report: MatchingResult
    """The engine's result without its pairs: counts, scores, the unmatched and why."""
    new_pairs_json: Sequence[str]
    """The pairs formed this round (kept pairs are not repeated), ``ProposedPair`` JSON:
    first the ``imposed`` ones HR imposed, then the ones the engine chose."""
    members: dict[str, PairMember]
    """The members of those pairs (and, in a preview, of the kept ones), by participant id."""
    imposed: int = 0
    """How many of the new pairs (the first ones) HR imposed."""
    kept_pairs_json: Sequence[str] = ()
    """In a preview only: the kept pairs, explained."""

    def new_pairs(self, start: int, stop: int) -> list[ProposedPair]:
        """New pairs ``start`` to ``stop`` (excluded), parsed."""
        return [ProposedPair.model_validate_json(text) for text in self.new_pairs_json[start:stop]]


class RoundSolver(Protocol):
    """Where a round is solved: in this process, or in a worker process (the service)."""

    def __call__(self, problem: RoundProblem) -> Awaitable[SolvedRound]: ...


def solve_round(problem: RoundProblem) -> SolvedRound:
    """Parse the participants and solve: the whole CPU-bound part of a round."""
    profiles = [ParticipantProfile.model_validate_json(text) for text in problem.profiles_json]
    result = solve(
        rules=problem.rules,
        participants=profiles,
        reporting_lines=problem.reporting_lines,
        locked_pairs=problem.locked_pairs,
        forbidden_pairs=problem.forbidden_pairs,
        imposed_pairs=problem.imposed_pairs,
    )
    # The engine lists kept pairs, then imposed ones, then its own: the new ones keep that order.
    new_pairs = [pair for pair in result.pairs if not pair.locked]
    kept_pairs = [pair for pair in result.pairs if pair.locked] if problem.preview else []
    in_pairs = {
        participant_id
        for pair in (*new_pairs, *kept_pairs)
        for participant_id in (pair.mentor_id, pair.mentee_id)
    }
    members = {
        profile.participant_id: PairMember(
            participant_id=profile.participant_id,
            business_unit=profile.business_unit,
            mentor_training_completed=profile.mentor_training_completed,
            job_grade=profile.job_grade,
        )
        for profile in profiles
        if profile.participant_id in in_pairs
    }
    return SolvedRound(
        report=result.model_copy(update={"pairs": []}),
        new_pairs_json=[pair.model_dump_json() for pair in new_pairs],
        members=members,
        imposed=result.stats.imposed_pairs,
        kept_pairs_json=[pair.model_dump_json() for pair in kept_pairs],
    )


async def solve_in_process(problem: RoundProblem) -> SolvedRound:
    """Solve on the caller's thread: for tests and tools that have no event loop to protect."""
    return solve_round(problem)
