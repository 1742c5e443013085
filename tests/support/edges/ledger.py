"""What became of each case, counted on the real stack, and the judgement of it.

Per case and per service that reads it, three traces are counted: the service's
``processed_messages`` row for the case's id (an accepted message's effect commits with
it), its copies on the dead-letter topics (told apart by the consumer group header), and a
``parked_messages`` row (a message waiting for what it is about). A sound platform leaves
exactly one: an effect, one dead letter with a code and a reason, or a parking.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer

from binome_shared.contracts.topics import ALL_TOPICS
from tests.support.edges.cases import CASE_HEADER, SERVICES, Case, Verdict
from tests.support.platform import ProvisionedDatabase
from tests.support.stage_watch import first_headers

_PROCESSED = "SELECT event_id, outcome FROM processed_messages WHERE event_id = ANY($1::uuid[])"
_PARKED = "SELECT event_id FROM parked_messages WHERE event_id = ANY($1::uuid[])"


@dataclass(frozen=True)
class DeadLetter:
    """One copy on a ``.dlq`` topic, as the reliable consumer wrote it."""

    case: str | None
    service: str
    code: str
    reason: str


class DeadLetters:
    """Reads every dead-letter topic of the test's prefix from its start, as it fills."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self._prefix = prefix
        self._consumer = AIOKafkaConsumer(
            *[topic.dead_letter_name(prefix) for topic in ALL_TOPICS],
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_bytes=8 * 1024 * 1024,
            max_partition_fetch_bytes=2 * 1024 * 1024,
        )
        self.seen: list[DeadLetter] = []

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def poll(self) -> None:
        batches = await self._consumer.getmany(timeout_ms=100)
        for records in batches.values():
            self.seen.extend(self._read(record) for record in records)

    def _read(self, record: object) -> DeadLetter:
        headers = first_headers(record)

        def text(name: str) -> str:
            return headers.get(name, b"").decode("utf-8", errors="replace")

        group = text("binome_dlq_consumer_group").removeprefix(self._prefix)
        return DeadLetter(
            case=text(CASE_HEADER) or None,
            service=group.removeprefix("binome-") or "(no consumer group header)",
            code=text("binome_dlq_code"),
            reason=text("binome_dlq_reason"),
        )

    def of(self, label: str, service: str) -> list[DeadLetter]:
        return [dead for dead in self.seen if dead.case == label and dead.service == service]


@dataclass(frozen=True)
class Traces:
    """Everything one service did with one case."""

    processed: str | None
    dead_letters: tuple[DeadLetter, ...]
    parked: bool

    @property
    def settled(self) -> bool:
        """Done, dead-lettered or parked: a rejection still in the outbox is not settled."""
        return self.processed == "done" or bool(self.dead_letters) or self.parked


Observed = Mapping[tuple[str, str], Traces]


async def observe(
    cases: Sequence[Case], database: ProvisionedDatabase, dead_letters: DeadLetters
) -> Observed:
    ids = [case.event_id for case in cases if case.event_id is not None]
    processed: dict[str, dict[uuid.UUID, str]] = {}
    parked: dict[str, set[uuid.UUID]] = {}
    for service in SERVICES:
        conn = await database.connect(service)
        try:
            processed[service] = {
                row["event_id"]: row["outcome"] for row in await conn.fetch(_PROCESSED, ids)
            }
            parked[service] = {row["event_id"] for row in await conn.fetch(_PARKED, ids)}
        finally:
            await conn.close()
    await dead_letters.poll()
    return {
        (case.label, service): Traces(
            processed=processed[service].get(case.event_id) if case.event_id else None,
            dead_letters=tuple(dead_letters.of(case.label, service)),
            parked=case.event_id in parked[service],
        )
        for case in cases
        for service in case.readers
    }


async def settle(
    cases: Sequence[Case],
    database: ProvisionedDatabase,
    dead_letters: DeadLetters,
    *,
    timeout: float = 30.0,
) -> Observed:
    """Wait until every reader left a trace of every case (or the time-out), then a little
    longer, so that a second effect or a re-published dead letter shows too."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        observed = await observe(cases, database, dead_letters)
        if all(traces.settled for traces in observed.values()):
            break
        await asyncio.sleep(0.3)
    await asyncio.sleep(1.5)
    return await observe(cases, database, dead_letters)


def _problem_of(case: Case, traces: Traces) -> str | None:
    """What is wrong with one service's traces of one case, if anything."""
    dead = traces.dead_letters
    codes = ", ".join(f"{letter.code}: {letter.reason[:160]}" for letter in dead)
    problem: str | None = None
    if traces.processed == "done" and (dead or traces.parked):
        problem = f"both an effect and {len(dead)} dead letter(s) ({codes}) or a parking"
    elif len(dead) > 1:
        problem = f"{len(dead)} dead letters, expected 1 (re-published?): {codes}"
    elif dead and dead[0].code == "handler_failed":
        problem = f"crashed on it (handler_failed, not a judgement): {dead[0].reason[:300]}"
    elif dead and not (dead[0].code and dead[0].reason):
        problem = "dead letter without binome_dlq_code/binome_dlq_reason"
    elif not (traces.processed == "done" or dead or traces.parked or case.may_be_set_aside):
        # (a copy that cannot fit the broker may be set aside rather than dead-lettered)
        recorded = f" (recorded as {traces.processed!r})" if traces.processed else ""
        problem = f"0 effects and 0 dead letters: lost{recorded}"
    return problem


def _kind_of(traces: Traces) -> str:
    """``accepted``, ``refused`` or ``waiting``, for traces without a problem."""
    if traces.processed == "done":
        return "accepted"
    return "waiting" if traces.parked else "refused"


def judge(cases: Sequence[Case], observed: Observed, dead_letters: DeadLetters) -> list[str]:
    """Every problem found, one line each, naming the case and the service."""
    problems: list[str] = []
    for case in cases:
        classes: dict[str, str] = {}
        for service in case.readers:
            traces = observed[(case.label, service)]
            problem = _problem_of(case, traces)
            if problem is not None:
                expected = "1 effect" if case.verdict is Verdict.ACCEPT else str(case.verdict)
                problems.append(f"{case.describe()} in {service}: {problem}; expected {expected}")
                continue
            kind = classes[service] = _kind_of(traces)
            if case.verdict is Verdict.ACCEPT and kind != "accepted":
                letters = traces.dead_letters
                why = f" ({letters[0].code}: {letters[0].reason[:200]})" if letters else ""
                problems.append(
                    f"{case.describe()} had 0 effects in {service}, expected 1: {kind}{why}"
                )
            if case.verdict is Verdict.REFUSE and kind != "refused":
                problems.append(f"{case.describe()} was {kind} by {service}, expected refused")
        if len(set(classes.values())) > 1:
            problems.append(f"{case.describe()}: the services disagree: {classes}")
    return problems


def stray_dead_letters(cases: Sequence[Case], dead_letters: DeadLetters) -> list[str]:
    """Dead letters of no case, or from a service that does not read that case's type."""
    readers = {case.label: case.readers for case in cases}
    problems = []
    for letter in dead_letters.seen:
        if letter.case not in readers:
            problems.append(f"unexpected dead letter {letter}")
        elif letter.service not in readers[letter.case]:
            problems.append(
                f"{letter.case!r} dead-lettered by {letter.service}, not one of its readers"
            )
    return problems


async def probe_effects(cases: Sequence[Case], database: ProvisionedDatabase) -> list[str]:
    """Each accepted case's own effect rows: exactly one each."""
    problems = []
    for case in cases:
        if case.verdict is not Verdict.ACCEPT:
            continue
        for probe in case.probes:
            count = await database.fetchval(probe.service, probe.query, *probe.args)
            if count != 1:
                problems.append(
                    f"{case.describe()} had {count} effects in {probe.service} "
                    f"({probe.what}), expected 1"
                )
    return problems


def report(problems: Sequence[str], *, limit: int = 60) -> str:
    shown = "\n  ".join(problems[:limit])
    more = f"\n  … and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} problem(s):\n  {shown}{more}"
