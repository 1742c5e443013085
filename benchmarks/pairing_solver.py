"""Benchmark of the pairing engine on generated, realistic cohorts of a French group.

Each size runs in its own subprocess, so its peak memory (max RSS from ``getrusage``) is its
own. For each size it prints the cohort generation time, the solve time, the peak memory,
the number of pairs, the optimality proof, and, where computable, the gap of the total score
to the exact optimum (an independent dense ``linear_sum_assignment`` over every feasible
pair, in another subprocess). ``--large-path`` also solves each size with the settings the
engine uses above its exact-pricing limit (two-hour availability blocks, no pricing), to show
that path's gap where the exact optimum is still computable.

``--duplicated`` solves instead the cohorts real HR exports look like: a few groups of
people with identical profiles (same department, languages, birth year, skills, needs and
availability), German speakers scarce on both sides, mentors with one or two places. Every
pair of a group ties with every other, the case where short candidate lists once named the
same few mentors for everybody. Their maximum number of pairs is computed independently by
a maximum flow between the groups (people of a group are interchangeable, and these
cohorts have no pair excluded one by one), and printed beside the engine's count and proof.

    .venv/bin/python benchmarks/pairing_solver.py --sizes 1000x1100,10000x10000 --seed 2027
    .venv/bin/python benchmarks/pairing_solver.py --duplicated --sizes 2000x2000,10000x10000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import maximum_flow

from binome_devstack.cohort_generator import PROGRAMME_START, generate_cohort
from binome_pairing.domain import DEFAULT_TUNING, solve
from binome_pairing.domain.encoding import encode_cohort
from binome_pairing.domain.evaluation import feasible, pair_scores
from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole
from binome_shared.contracts.programme import HardConstraints, MinimumAgeGap, ProgrammeRules

DEFAULT_SIZES = "1000x1100,10000x10000,100000x100000"
REFERENCE_MAX_CELLS = 160_000_000
"""Dense reference: mentees × mentor places float64, about 1.3 GB at this size."""


def _parse_size(text: str) -> tuple[int, int]:
    mentees, _, mentors = text.lower().partition("x")
    return int(mentees), int(mentors)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# (share of the side, fields): mentees first, then mentors (with their places).
MENTEE_GROUPS: tuple[tuple[float, dict[str, Any]], ...] = (
    (0.30, {"department": "Ventes", "languages": ["fr"], "birth_year": 1970}),
    (0.25, {"department": "Finance", "languages": ["fr", "en"], "birth_year": 1968}),
    (0.20, {"department": "Data", "languages": ["en"], "birth_year": 1975}),
    (0.15, {"department": "Ventes", "languages": ["de"], "birth_year": 1972}),
    (0.10, {"department": "Data", "languages": ["fr"], "birth_year": 1990}),
)
MENTOR_GROUPS: tuple[tuple[float, dict[str, Any]], ...] = (
    (0.40, {"department": "Data", "languages": ["fr", "en"], "birth_year": 1998, "capacity": 1}),
    (0.20, {"department": "Ventes", "languages": ["fr"], "birth_year": 1999, "capacity": 2}),
    (0.20, {"department": "Marketing", "languages": ["en"], "birth_year": 1997, "capacity": 1}),
    (0.05, {"department": "Finance", "languages": ["de", "fr"], "birth_year": 2000, "capacity": 1}),
    (0.15, {"department": "Finance", "languages": ["fr"], "birth_year": 2003, "capacity": 1}),
)
"""German-only mentees (15 %) outnumber German-speaking mentors (5 %); mentees born in
1990 only have the mentors born in 2003: the maximum is below the simple upper bound."""

DUPLICATED_RULES = ProgrammeRules(
    starts_on=PROGRAMME_START,
    constraints=HardConstraints(
        mentor_younger=MinimumAgeGap(years=12),
        not_in_management_chain=True,
        different_department=True,
        shared_language=True,
        mentor_trained=True,
    ),
)


def _group_sizes(total: int, groups: tuple[tuple[float, dict[str, Any]], ...]) -> list[int]:
    sizes = [int(share * total) for share, _ in groups]
    sizes[0] += total - sum(sizes)
    return sizes


def _templates(role: ParticipantRole) -> list[ParticipantProfile]:
    """One profile per group of ``role``: everyone in the group is a copy of it."""
    mentee_side = role is ParticipantRole.MENTEE
    groups = MENTEE_GROUPS if mentee_side else MENTOR_GROUPS
    topic = (
        {"learning_needs": [{"topic": "generative_ai", "priority": 4}]}
        if mentee_side
        else {"skills": [{"topic": "generative_ai", "level": 4}]}
    )
    common = {
        "full_name": "Camille Martin",
        "email": "camille.martin@groupe.example",
        "business_unit": "Groupe",
        "job_grade": 10,
        "site": "Paris La Défense",
        "mentor_training_completed": True,
        "availability": [{"weekday": "tuesday", "start": "08:00", "end": "10:00"}],
    }
    return [
        ParticipantProfile.model_validate(
            {**common, **fields, **topic, "participant_id": f"{role}{index}", "role": role}
        )
        for index, (_, fields) in enumerate(groups)
    ]


def duplicated_cohort(mentees: int, mentors: int) -> list[ParticipantProfile]:
    """A few groups of identical people (see ``MENTEE_GROUPS`` and ``MENTOR_GROUPS``)."""
    people: list[ParticipantProfile] = []
    for role, total, groups in (
        (ParticipantRole.MENTEE, mentees, MENTEE_GROUPS),
        (ParticipantRole.MENTOR, mentors, MENTOR_GROUPS),
    ):
        prefix = "E" if role is ParticipantRole.MENTEE else "Y"
        sizes = _group_sizes(total, groups)
        for template, size in zip(_templates(role), sizes, strict=True):
            for _ in range(size):
                person_id = f"{prefix}{len(people):07d}"
                update = {"participant_id": person_id, "email": f"{person_id.lower()}@x.example"}
                people.append(template.model_copy(update=update))
    return people


def group_maximum(mentees: int, mentors: int) -> int:
    """The maximum number of pairs, by a maximum flow source → mentee groups → mentor
    groups → sink: people of a group are interchangeable, so this is exact."""
    mentee_templates = _templates(ParticipantRole.MENTEE)
    mentor_templates = _templates(ParticipantRole.MENTOR)
    encoded = encode_cohort(
        rules=DUPLICATED_RULES, mentees=mentee_templates, mentors=mentor_templates
    )
    allowed = feasible(
        encoded, np.arange(len(mentee_templates))[:, None], np.arange(len(mentor_templates))
    )
    mentee_sizes = _group_sizes(mentees, MENTEE_GROUPS)
    places = [
        size * int(fields["capacity"])
        for size, (_, fields) in zip(
            _group_sizes(mentors, MENTOR_GROUPS), MENTOR_GROUPS, strict=True
        )
    ]
    first_mentor_group = len(mentee_sizes)
    source = first_mentor_group + len(places)
    sink = source + 1
    arcs = [(source, group, size) for group, size in enumerate(mentee_sizes)]
    arcs += [(first_mentor_group + group, sink, size) for group, size in enumerate(places)]
    arcs += [
        (int(mentee_group), first_mentor_group + int(mentor_group), mentees)
        for mentee_group, mentor_group in zip(*np.nonzero(allowed), strict=True)
    ]
    tails, heads, capacities = (np.array(column) for column in zip(*arcs, strict=True))
    graph = sp.csr_array((capacities.astype(np.int32), (tails, heads)), shape=(sink + 1, sink + 1))
    return int(maximum_flow(graph, source, sink).flow_value)


def run_solve(
    mentees: int, mentors: int, seed: int, *, large_path: bool, duplicated: bool = False
) -> dict[str, Any]:
    """Generate and solve one cohort in this process; figures as a dict."""

    started = time.perf_counter()
    if duplicated:
        rules, participants, lines = DUPLICATED_RULES, duplicated_cohort(mentees, mentors), []
    else:
        cohort = generate_cohort(mentees=mentees, mentors=mentors, seed=seed)
        rules, participants, lines = cohort.rules, cohort.participants, cohort.reporting_lines
    generated = time.perf_counter()
    rss_before_solve = _peak_rss_mib()
    cpu_before_solve = _cpu_seconds()
    tuning = (
        replace(DEFAULT_TUNING, all_feasible_max_cells=0, exact_availability_max_cells=0)
        if large_path
        else DEFAULT_TUNING
    )
    result = solve(rules=rules, participants=participants, reporting_lines=lines, tuning=tuning)
    solved = time.perf_counter()
    cpu_solve = _cpu_seconds() - cpu_before_solve
    stats = result.stats
    return {
        "mentees": mentees,
        "mentors": mentors,
        "path": ("large" if large_path else "default") + (", duplicated" if duplicated else ""),
        "generate_s": round(generated - started, 2),
        "solve_s": round(solved - generated, 2),
        # The machine is shared: CPU seconds (all threads) and the load put wall time in context.
        "solve_cpu_s": round(cpu_solve, 2),
        "load_1min": round(os.getloadavg()[0], 2),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "rss_before_solve_mib": round(rss_before_solve, 1),
        "pairs": stats.pairs,
        "unmatched_mentees": stats.unmatched_mentees,
        "upper_bound": stats.max_new_pairs_upper_bound,
        "missing_at_most": stats.pairs_missing_at_most,
        "augmenting_searches": stats.augmenting_searches,
        "total_score": stats.total_score,
        "candidate_edges": stats.candidate_edges,
        "strategy": str(stats.strategy),
        "cardinality_proof": str(stats.cardinality_proof),
        "optimality_proof": str(stats.optimality_proof),
        "pricing_rounds": stats.pricing_rounds,
        "score_p50": stats.score_quantiles.get("p50"),
        **({"independent_maximum": group_maximum(mentees, mentors)} if duplicated else {}),
    }


def run_reference(mentees: int, mentors: int, seed: int) -> dict[str, Any]:
    """The exact optimum by dense assignment over every feasible pair (mentor places as columns)."""

    cohort = generate_cohort(mentees=mentees, mentors=mentors, seed=seed)
    started = time.perf_counter()
    encoded = encode_cohort(
        rules=cohort.rules,
        mentees=cohort.mentees,
        mentors=cohort.mentors,
        reporting_lines=cohort.reporting_lines,
    )
    place_mentor = np.repeat(np.arange(mentors), encoded.mentors.capacity)
    infeasible_cost = 4.0 * mentees + 4.0  # above any gain in score: count comes first
    cost = np.empty((mentees, place_mentor.shape[0]), dtype=np.float64)
    step = max(1, 4_000_000 // mentors)
    columns = np.arange(mentors)[np.newaxis, :]
    for first in range(0, mentees, step):
        rows = np.arange(first, min(first + step, mentees))[:, np.newaxis]
        block = np.where(
            feasible(encoded, rows, columns),
            2.0 - pair_scores(encoded, rows, columns),
            infeasible_cost,
        )
        cost[first : first + block.shape[0]] = block[:, place_mentor]
    row_index, column_index = linear_sum_assignment(cost)
    chosen = cost[row_index, column_index]
    real = chosen < infeasible_cost
    return {
        "reference_pairs": int(real.sum()),
        "reference_total": float((2.0 - chosen[real]).sum()),
        "reference_s": round(time.perf_counter() - started, 2),
        "reference_peak_rss_mib": round(_peak_rss_mib(), 1),
    }


def _child(arguments: list[str]) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, *arguments], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1:]}
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def _report(figures: dict[str, Any]) -> None:
    print(
        f"{figures['mentees']:>7} x {figures['mentors']:<7} [{figures['path']}] "
        f"generate {figures['generate_s']:>6.2f} s | solve {figures['solve_s']:>7.2f} s "
        f"(CPU {figures['solve_cpu_s']:.1f} s, load {figures['load_1min']:.1f}) | "
        f"peak RSS {figures['peak_rss_mib'] / 1024:>5.2f} GiB | pairs {figures['pairs']} "
        f"(proven maximum {figures['upper_bound']} by {figures['cardinality_proof']}, "
        f"{figures['augmenting_searches']} augmenting search(es); missing at most "
        f"{figures['missing_at_most']}) | total {figures['total_score']:.3f} | "
        f"edges {figures['candidate_edges']} | {figures['optimality_proof']}, "
        f"pricing rounds {figures['pricing_rounds']}"
    )
    if "independent_maximum" in figures:
        verdict = "equal" if figures["independent_maximum"] == figures["pairs"] else "DIFFERENT"
        print(
            f"{'':>17} independent maximum (flow between identical groups) "
            f"{figures['independent_maximum']}: {verdict}"
        )
    if "reference_total" in figures:
        gap = (
            100 * (figures["reference_total"] - figures["total_score"]) / figures["reference_total"]
        )
        print(
            f"{'':>17} exact optimum {figures['reference_total']:.3f} with "
            f"{figures['reference_pairs']} pairs ({figures['reference_s']:.1f} s dense) -> "
            f"gap {gap:.4f} %"
        )
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--child``/``--reference-child``, one measurement)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="MENTEESxMENTORS, comma-separated")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--no-reference", action="store_true", help="skip the exact optimum")
    parser.add_argument("--large-path", action="store_true", help="also time the large-cohort path")
    parser.add_argument(
        "--duplicated", action="store_true", help="cohorts of a few groups of identical profiles"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-large", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reference-child", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        mentees, mentors = _parse_size(arguments.child)
        figures = run_solve(
            mentees,
            mentors,
            arguments.seed,
            large_path=arguments.child_large,
            duplicated=arguments.duplicated,
        )
        print(json.dumps(figures))
        return 0
    if arguments.reference_child:
        mentees, mentors = _parse_size(arguments.reference_child)
        print(json.dumps(run_reference(mentees, mentors, arguments.seed)))
        return 0
    for size in arguments.sizes.split(","):
        mentees, mentors = _parse_size(size)
        seed = ["--seed", str(arguments.seed)]
        reference: dict[str, Any] = {}
        computable = mentees * mentors * 1.3 <= REFERENCE_MAX_CELLS
        if computable and not arguments.no_reference and not arguments.duplicated:
            reference = _child(["--reference-child", size, *seed])
        paths = [False, True] if arguments.large_path else [False]
        for large in paths:
            figures = _child(
                [
                    "--child",
                    size,
                    *seed,
                    *(["--child-large"] if large else []),
                    *(["--duplicated"] if arguments.duplicated else []),
                ]
            )
            if "error" in figures:
                print(f"{size}: failed: {figures['error']}")
                continue
            _report({**figures, **reference})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
