"""Hostile field values, and valid commands of every kind to put them in, one field at a time.

The values are those that pass a loose contract but not PostgreSQL or Python: control
characters, lone surrogates, 1 MB strings, years 1 and 9999 with offsets, integers beyond
64 bits, values of the wrong JSON type, and unknown extra fields. Hypothesis picks the
message, the field (any leaf of its JSON body) and the value; the services must agree on
the result and none may crash on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, settings

from binome_shared.contracts.hr_commands import OptOut, SetNotificationPreferences
from binome_shared.contracts.sessions_messages import ScheduleSession
from tests.support.edges.cases import Case, Probe, Verdict, case_of, with_json
from tests.support.edges.corpus import ONE_MB
from tests.support.edges.stage import FORMED_AT, PAIR, EdgeStage
from tests.support.programmes import programme_definition

Path = tuple[str | int, ...]

BURSTS = settings(
    deadline=None,
    derandomize=True,  # the same bursts on every run: a failure is a regression, not luck
    phases=[Phase.explicit, Phase.generate],  # shrinking would replay bursts for minutes
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one platform serves every burst of the test
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)
"""How a test sends bursts of hostile messages to one running platform (give ``max_examples``)."""

CONTROL_TEXTS = ["\x00", "avant\x00après", "\r\n", "\x1b[2J", "\x7f", "\x08\x0b\x0c", "\u2028"]
ODD_TEXTS = ["\ud800", "a\udfffb", "", " ", "x" * ONE_MB, "é" * 50_000, "\ufeff", "😀" * 1000]
EXTREME_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999+00:00",
    "0001-01-01",
    "9999-12-31",
    "2027-02-30",
    "2027-01-12T09:00:00",
]
HUGE_NUMBERS: list[Any] = [2**63, -(2**63) - 1, 10**40, -1, 0, 1e308, -0.0]
WRONG_TYPES: list[Any] = [None, [], {}, True, [None], {"": None}]
HOSTILE_VALUES: list[Any] = [
    *CONTROL_TEXTS,
    *ODD_TEXTS,
    *EXTREME_TIMES,
    *HUGE_NUMBERS,
    *WRONG_TYPES,
]


def short(value: Any) -> str:
    """A value as a failure message can show it."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}…({len(text)} chars)"


def leaf_paths(node: Any, path: Path = ()) -> Iterator[Path]:
    """Every leaf of a JSON document (empty lists and objects count as leaves)."""
    if isinstance(node, dict) and node:
        for name, child in node.items():
            yield from leaf_paths(child, (*path, name))
    elif isinstance(node, list) and node:
        for index, child in enumerate(node):
            yield from leaf_paths(child, (*path, index))
    else:
        yield path


def object_paths(node: Any, path: Path = ()) -> Iterator[Path]:
    """Every object of a JSON document, where an unknown field can be added."""
    if isinstance(node, dict):
        yield path
        for name, child in node.items():
            yield from object_paths(child, (*path, name))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from object_paths(child, (*path, index))


def _at(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


def replaced(case: Case, path: Path, value: Any, *, verdict: Verdict = Verdict.EITHER) -> Case:
    """The case with the body's field at ``path`` set to ``value``."""

    def change(body: dict[str, Any]) -> None:
        _at(body, path[:-1])[path[-1]] = value

    changed = with_json(case, change, verdict=verdict)
    return changed if verdict is not Verdict.ACCEPT else _keeping_probes(changed, case)


def extended(case: Case, path: Path, name: str) -> Case:
    """The case with an unknown field ``name`` added to the object at ``path``."""

    def change(body: dict[str, Any]) -> None:
        _at(body, path)[name] = "added"

    return with_json(case, change, verdict=Verdict.EITHER)


def _keeping_probes(changed: Case, original: Case) -> Case:
    return replace(changed, probes=original.probes, event_id=original.event_id)


def body_of(case: Case) -> Any:
    assert case.value is not None
    return json.loads(case.value)


# --- the valid commands hostile values go into ------------------------------------------


def programme(stage: EdgeStage, stem: str = "programme") -> Case:
    """A valid DefineProgramme of a programme of its own (so a hostile definition never
    replaces the burst's programme): one programme row in each of the three services."""
    label = stage.labels.next(stem)
    return case_of(
        label,
        stage.command(programme_definition(stage.cohort.rules), programme_id=label),
        verdict=Verdict.ACCEPT,
        prefix=stage.prefix,
        probes=tuple(
            Probe(
                service,
                "SELECT count(*) FROM programmes WHERE programme_id = $1",
                (label,),
                "programme row",
            )
            for service in ("pairing", "sessions", "notifications")
        ),
    )


def schedule(stage: EdgeStage, stem: str = "schedule") -> Case:
    """A ScheduleSession of the pair's first session (judged, not necessarily accepted:
    a burst may schedule it twice)."""
    label = stage.labels.next(stem)
    command = ScheduleSession(
        pair_id=PAIR, session_number=1, starts_at=FORMED_AT + timedelta(days=1, hours=1)
    )
    return case_of(label, stage.command(command), verdict=Verdict.EITHER, prefix=stage.prefix)


def preferences(stage: EdgeStage, stem: str = "preferences") -> Case:
    label = stage.labels.next(stem)
    command = SetNotificationPreferences(
        participant_id=label[:100], opt_outs=[OptOut(kind="session_reminder", channel="email")]
    )
    return case_of(label, stage.command(command), verdict=Verdict.ACCEPT, prefix=stage.prefix)


BASES: dict[str, Callable[[EdgeStage], Case]] = {
    "EnrolParticipant": lambda stage: stage.enrolment("h-enrol"),
    "SetObjective": lambda stage: stage.objective("h-objective"),
    "RequestMatching": lambda stage: stage.preview_round("h-round"),
    "DefineProgramme": programme,
    "ScheduleSession": schedule,
    "SetNotificationPreferences": preferences,
}
