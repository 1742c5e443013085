"""Benchmark of the pairing engine on generated, realistic cohorts of a French group.

Each size runs in its own subprocess, so its peak memory (max RSS from ``getrusage``) is its
own. For each size it prints the cohort generation time, the solve time, the peak memory,
the number of pairs, the optimality proof, and, where computable, the gap of the total score
to the exact optimum (an independent dense ``linear_sum_assignment`` over every feasible
pair, in another subprocess). ``--large-path`` also solves each size with the settings the
engine uses above its exact-pricing limit (two-hour availability blocks, no pricing), to show
that path's gap where the exact optimum is still computable.

    .venv/bin/python benchmarks/pairing_solver.py --sizes 1000x1100,10000x10000 --seed 2027
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
from scipy.optimize import linear_sum_assignment

from binome_pairing.cohort_generator import generate_cohort
from binome_pairing.domain import DEFAULT_TUNING, solve
from binome_pairing.domain.encoding import encode_cohort
from binome_pairing.domain.evaluation import feasible, pair_scores

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


def run_solve(mentees: int, mentors: int, seed: int, *, large_path: bool) -> dict[str, Any]:
    """Generate and solve one cohort in this process; figures as a dict."""

    started = time.perf_counter()
    cohort = generate_cohort(mentees=mentees, mentors=mentors, seed=seed)
    generated = time.perf_counter()
    rss_before_solve = _peak_rss_mib()
    cpu_before_solve = _cpu_seconds()
    tuning = (
        replace(DEFAULT_TUNING, all_feasible_max_cells=0, exact_availability_max_cells=0)
        if large_path
        else DEFAULT_TUNING
    )
    result = solve(
        rules=cohort.rules,
        participants=cohort.participants,
        reporting_lines=cohort.reporting_lines,
        tuning=tuning,
    )
    solved = time.perf_counter()
    cpu_solve = _cpu_seconds() - cpu_before_solve
    stats = result.stats
    return {
        "mentees": mentees,
        "mentors": mentors,
        "path": "large" if large_path else "default",
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
        "total_score": stats.total_score,
        "candidate_edges": stats.candidate_edges,
        "strategy": str(stats.strategy),
        "cardinality_proof": str(stats.cardinality_proof),
        "optimality_proof": str(stats.optimality_proof),
        "pricing_rounds": stats.pricing_rounds,
        "score_p50": stats.score_quantiles.get("p50"),
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
        f"(bound {figures['upper_bound']}) | total {figures['total_score']:.3f} | "
        f"edges {figures['candidate_edges']} | {figures['optimality_proof']}, "
        f"{figures['cardinality_proof']}, pricing rounds {figures['pricing_rounds']}"
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
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-large", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reference-child", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        mentees, mentors = _parse_size(arguments.child)
        figures = run_solve(mentees, mentors, arguments.seed, large_path=arguments.child_large)
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
        if computable and not arguments.no_reference:
            reference = _child(["--reference-child", size, *seed])
        paths = [False, True] if arguments.large_path else [False]
        for large in paths:
            figures = _child(["--child", size, *seed, *(["--child-large"] if large else [])])
            if "error" in figures:
                print(f"{size}: failed: {figures['error']}")
                continue
            _report({**figures, **reference})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
