"""Hostile field values in every kind of command, in bursts with valid commands, on the
real platform: what the contracts let through, PostgreSQL and Python must take too, or
every service refuses it alike; nothing is lost, nothing crashes, nothing stops."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from tests.support.edges.cases import Case, Verdict, newer_minor
from tests.support.edges.corpus import ONE_MB
from tests.support.edges.hostile import (
    BASES,
    BURSTS,
    HOSTILE_VALUES,
    body_of,
    extended,
    leaf_paths,
    object_paths,
    programme,
    replaced,
    schedule,
    short,
)
from tests.support.edges.ledger import report
from tests.support.edges.stage import EdgeStage

pytestmark = pytest.mark.e2e

REFUSE = Verdict.REFUSE


async def test_values_the_database_cannot_store_are_refused_by_every_reader(
    edge_stage: EdgeStage,
) -> None:
    stage = edge_stage
    hostile = [
        replaced(
            stage.enrolment("nul-department"),
            ("participant", "department"),
            "RH\x00",
            verdict=REFUSE,
        ),
        replaced(
            programme(stage, "year-9999-plan"),
            ("session_plan", "ends_on"),
            "9999-12-31",
            verdict=REFUSE,
        ),
        replaced(
            schedule(stage, "year-1-start"),
            ("starts_at",),
            "0001-01-01T00:30:00+01:00",
            verdict=REFUSE,
        ),
        replaced(stage.objective("1mb-pair-id"), ("pair_id",), "p" * ONE_MB, verdict=REFUSE),
        newer_minor(stage.objective("objective-1.9")),
    ]
    cases = [case for bad in hostile for case in (bad, stage.enrolment(), stage.objective())]

    await stage.send(cases)

    problems = await stage.problems(cases)
    problems += await stage.still_serving()
    assert not problems, report(problems)


def _pick(data: st.DataObject, choices: list[Any], label: str) -> Any:
    """One of ``choices``, drawn as an index so that the draw does not depend on how many
    there are (a base command's shape varies with the profile it copies)."""
    return choices[data.draw(st.integers(min_value=0, max_value=999), label=label) % len(choices)]


def _mutations(data: st.DataObject, stage: EdgeStage, count: int) -> list[Case]:
    """``count`` commands, each with one field made hostile (or one unknown field added)."""
    cases: list[Case] = []
    seen: set[tuple[str, object, str]] = set()
    while len(cases) < count:
        kind = data.draw(st.sampled_from(sorted(BASES)), label="message")
        base = BASES[kind](stage)
        document = body_of(base)
        if data.draw(st.integers(0, 9), label="extra field?") == 0:
            path = _pick(data, list(object_paths(document)), "object")
            change = ("extra field", path, "(an unknown field added)")
            mutated = extended(base, path, "surprise")
        else:
            path = _pick(data, list(leaf_paths(document)), "field")
            value = _pick(data, HOSTILE_VALUES, "value")
            change = (kind, path, short(value))
            mutated = replaced(base, path, value)
        if change in seen:
            continue  # the same hostile id twice would be a duplicate, not a hostile value
        seen.add(change)
        note(f"{mutated.label}: {kind} {'.'.join(map(str, path)) or '(body)'} := {change[2]}")
        cases.append(mutated)
    return cases


@settings(BURSTS, max_examples=3)
@given(data=st.data())
async def test_hostile_fields_in_a_burst_are_judged_alike_and_lose_nothing(
    edge_stage: EdgeStage, data: st.DataObject
) -> None:
    stage = edge_stage
    hostile = _mutations(data, stage, count=8)
    cases = [case for bad in hostile for case in (bad, stage.enrolment())]
    cases.append(newer_minor(stage.enrolment("enrol-1.9")))

    await stage.send(cases)

    problems = await stage.problems(cases)
    problems += await stage.still_serving()
    assert not problems, report(problems)
