"""Hostile strings in every string field of every command type, end to end.

For each command type of the contracts (HR commands and session commands) and each of its
string fields, Hypothesis draws a hostile string (controls, CR/LF with a forged header,
bidirectional overrides, lone surrogates, text not in NFC, lengths at and past the limits);
the whole burst goes to the real broker and the three running services. Each record is
judged against what the contracts make of it: refused by the contracts → dead-lettered by
every reader, with a reason naming the field; accepted → handled without a crash (done,
waiting for what it names, or refused by a business rule), and harmless where it ends up
(no raw non-NFC form of a normalised value stored, no control character nor forged header in
any e-mail). Counted per service: done + dead-lettered + waiting = sent, exactly. After the
burst a valid command of each service is still processed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_shared.contracts.hr_commands import EnrolParticipant
from binome_shared.contracts.text import CONTROL_CHARACTER
from tests.support.column_scan import scan
from tests.support.edges.cases import Case, Verdict
from tests.support.edges.hostile import BURSTS, body_of, replaced
from tests.support.edges.ledger import _problem_of, judge, observe, report, settle
from tests.support.edges.stage import EdgeStage, start_stage, stop_stage
from tests.support.hostile_bases import (
    COMMAND_TYPES,
    EVERY_COMMAND,
    INTRODUCED_PAIRS,
    mentee_of,
    mentor_of,
)
from tests.support.hostile_strings import (
    HOSTILE_CATALOGUE,
    ContractVerdict,
    FieldPath,
    contract_verdict,
    field_name,
    hostile_text,
    is_nfc,
    short,
    string_paths,
)
from tests.support.lifecycle_platform import NOTIFICATIONS_ENV, ServiceFactory
from tests.support.mailbox import read_mailbox
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

DOMAIN_TABLES_ONLY = ("outbox", "parked_messages", "processed_messages")
"""Messaging-core tables that keep a record's raw bytes on purpose (a dead letter's copy, a
message waiting): a raw hostile value there is not what a service stored of it."""
ALLOWED_HEADERS = {
    "from", "to", "subject", "date", "message-id", "auto-submitted", "x-binome-delivery-key",
    "content-type", "mime-version", "content-language", "content-transfer-encoding",
    "content-disposition", "list-unsubscribe", "list-unsubscribe-post",
}  # fmt: skip


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[SmtpSink]:
    async with SmtpSink(directory=tmp_path / "mail") as running:
        yield running


@pytest.fixture
async def stage(
    service_factory: ServiceFactory, kafka: Kafka, database: ProvisionedDatabase, sink: SmtpSink
) -> AsyncIterator[EdgeStage]:
    """The edge stage, its notifications sending to the sink, and the members of a few
    formed pairs enrolled (so that e-mails about those pairs are really sent)."""

    def with_mail(name: str, **env: str) -> Any:
        if name == "notifications":
            env = {**NOTIFICATIONS_ENV, "BINOME_SMTP_PORT": str(sink.port), **env}
        return service_factory(name, **env)

    started = await start_stage(service_factory=with_mail, kafka=kafka, database=database)
    profiles = started.cohort.participants
    for number, pair in enumerate(INTRODUCED_PAIRS):
        for ident, profile in (
            (mentor_of(pair), profiles[4 + number % 4]),
            (mentee_of(pair), profiles[number % 4]),
        ):
            await kafka.publish(
                started.command(
                    EnrolParticipant(
                        participant=profile.model_copy(update={"participant_id": ident})
                    )
                )
            )
    await eventually(
        lambda: _count(database, "SELECT count(*) FROM deliveries WHERE kind = 'introduction'"),
        2 * len(INTRODUCED_PAIRS),
    )
    yield started
    await stop_stage(started)


async def _count(database: ProvisionedDatabase, query: str) -> int:
    return int(await database.fetchval("notifications", query))


def _burst(
    data: st.DataObject, stage: EdgeStage
) -> list[tuple[Case, tuple[Any, ...], ContractVerdict]]:
    """One hostile record per (command type, string field). Every value of the catalogue
    goes round the fields from a drawn offset (so even the simplest example uses each
    one), and Hypothesis may draw any field's value freely instead."""
    burst: list[tuple[Case, FieldPath, ContractVerdict]] = []
    offset = data.draw(st.integers(0, len(HOSTILE_CATALOGUE) - 1), label="offset")
    for kind, make in EVERY_COMMAND.items():
        for path in _fields(kind, stage):
            named = f"{kind}.{'.'.join(map(str, path))}"
            value = HOSTILE_CATALOGUE[(offset + len(burst)) % len(HOSTILE_CATALOGUE)]
            if data.draw(st.booleans(), label=f"free draw for {named}?"):
                value = data.draw(hostile_text(), label=named)
            case = replaced(_base_with(make, stage, path), path, value)
            verdict = contract_verdict(case, path)
            if verdict.refused:
                case = replace(case, verdict=Verdict.REFUSE)
            note(f"{case.label}: {named} := {short(value)} → {verdict.refused_code or 'accepted'}")
            burst.append((case, path, verdict))
    return burst


_FIELDS: dict[str, list[FieldPath]] = {}


def _fields(kind: str, stage: EdgeStage) -> list[FieldPath]:
    """The string fields of a command type, read from its first base and kept: every
    example must draw for the same fields, whatever the stage made since."""
    if kind not in _FIELDS:
        _FIELDS[kind] = list(string_paths(body_of(EVERY_COMMAND[kind](stage))))
    return _FIELDS[kind]


def _base_with(make: Callable[[EdgeStage], Case], stage: EdgeStage, path: FieldPath) -> Case:
    """A fresh base (its own id) that has ``path``: bases copy profiles whose lists differ
    in length, so a few may be made before one has that leaf."""
    for _ in range(16):
        base = make(stage)
        if path in set(string_paths(body_of(base))):
            return base
    raise AssertionError(f"no base of {type(make)} has {path}")


async def _judged(stage: EdgeStage, cases: list[Case]) -> list[str]:
    """Each reader left one trace of each case, without crashing; what the contracts refuse,
    every reader refused. (A value the contracts accept may meet a business rule that differs
    by service, e.g. pairing refuses a second enrolment of an id that notifications updates:
    agreement there is the edge suite's concern, not this one's.)"""
    observed = await settle(cases, stage.database, stage.dead_letters, timeout=60)
    refused = [case for case in cases if case.verdict is Verdict.REFUSE]
    problems = judge(refused, observed, stage.dead_letters)
    for case in cases:
        if case.verdict is Verdict.REFUSE:
            continue
        for service in case.readers:
            problem = _problem_of(case, observed[case.label, service])
            if problem is not None:
                problems.append(f"{case.describe()} in {service}: {problem}")
    return problems


def _with_reasons(stage: EdgeStage, problems: list[str]) -> list[str]:
    """The dead letters' codes and reasons beside each problem naming a case."""
    detailed = []
    for problem in problems:
        letters = [
            f"{letter.service}: {letter.code}: {letter.reason[:160]}"
            for letter in stage.dead_letters.seen
            if letter.case and f"'{letter.case}'" in problem
        ]
        detailed.append(problem + (f" [{'; '.join(letters)}]" if letters else ""))
    return detailed


def _reason_problems(
    stage: EdgeStage, burst: list[tuple[Case, tuple[Any, ...], ContractVerdict]]
) -> list[str]:
    """Every contract refusal: the contract's code, and a reason naming the field (a body
    that is not JSON at all, as a lone surrogate makes it, is named by line and column)."""
    problems = []
    for case, path, verdict in burst:
        if not verdict.refused:
            continue
        for service in case.readers:
            for letter in stage.dead_letters.of(case.label, service):
                names_field = (
                    verdict.refused_code == "malformed_json" or field_name(path) in letter.reason
                )
                if letter.code != verdict.refused_code or not names_field:
                    problems.append(
                        f"{case.describe()} {'.'.join(map(str, path))}: {service} dead-lettered "
                        f"{letter.code}: {letter.reason[:160]!r}; expected "
                        f"{verdict.refused_code} naming {field_name(path)}"
                    )
    return problems


async def _counting_problems(
    stage: EdgeStage, cases: list[Case]
) -> tuple[list[str], dict[str, Counter[str]]]:
    """Per service: done + dead-lettered + waiting = sent."""
    observed = await observe(cases, stage.database, stage.dead_letters)
    tally: dict[str, Counter[str]] = {}
    for (_, service), traces in observed.items():
        outcome = (
            "done"
            if traces.processed == "done"
            else "dead-lettered"
            if traces.dead_letters
            else "waiting"
            if traces.parked
            else "lost"
        )
        tally.setdefault(service, Counter())[outcome] += 1
        tally[service]["sent"] += 1
    problems = [
        f"{service}: {dict(counts)}: done + dead-lettered + waiting != sent"
        for service, counts in tally.items()
        if counts["done"] + counts["dead-lettered"] + counts["waiting"] != counts["sent"]
    ]
    return problems, tally


async def _stored_raw_problems(
    stage: EdgeStage, burst: list[tuple[Case, tuple[Any, ...], ContractVerdict]]
) -> list[str]:
    """A value the contracts normalised is stored normalised: its raw form is in no column
    of a service's own tables."""
    raw_forms = {}
    kept_as_sent: list[str] = []
    for case, path, verdict in burst:
        sent = replaced_value(case, path)
        if verdict.refused or not isinstance(sent, str):
            continue
        if sent != verdict.accepted_value:
            raw_forms[sent] = f"{case.describe()} {'.'.join(map(str, path))}"
        else:
            kept_as_sent.append(sent)
    # Identifiers are opaque and kept exactly as sent, so the same hostile string sent as an
    # id elsewhere in the burst is rightly stored raw: such a form proves nothing here.
    raw_forms = {
        raw: where
        for raw, where in raw_forms.items()
        if not any(raw in kept for kept in kept_as_sent)
    }
    if not raw_forms:
        return []
    _, findings = await scan(stage.database.admin(), list(raw_forms))
    return [
        f"{raw_forms[finding.needle]}: raw (not NFC) form stored in {finding.column.label}"
        for finding in findings
        if finding.column.table not in DOMAIN_TABLES_ONLY
    ]


def replaced_value(case: Case, path: tuple[Any, ...]) -> Any:
    document = body_of(case)
    for step in path:
        document = document[step]
    return document


def _mail_problems(sink: SmtpSink) -> list[str]:
    problems = []
    for mail in read_mailbox(sink.directory):
        for name, value in mail.header_values:
            if CONTROL_CHARACTER.search(value):
                problems.append(
                    f"{mail.path.name}: header {name} holds a control character: {short(value)}"
                )
        unexpected = {name for name in mail.raw_header_names if name.lower() not in ALLOWED_HEADERS}
        if unexpected or Counter(n.lower() for n in mail.raw_header_names)["to"] != 1:
            problems.append(f"{mail.path.name}: headers {sorted(mail.raw_header_names)}")
        if not is_nfc(mail.everything):
            problems.append(f"{mail.path.name}: text not in NFC")
    return problems


@settings(BURSTS, max_examples=2)
@given(data=st.data())
async def test_hostile_strings_in_every_field_of_every_command_are_refused_or_harmless(
    stage: EdgeStage, sink: SmtpSink, data: st.DataObject
) -> None:
    assert set(EVERY_COMMAND) == COMMAND_TYPES, "a base for every command type of the contracts"
    burst = _burst(data, stage)
    cases = [case for case, _, _ in burst]

    await stage.send(cases)

    problems = _with_reasons(stage, await _judged(stage, cases))
    problems += _reason_problems(stage, burst)
    counting, tally = await _counting_problems(stage, cases)
    problems += counting
    problems += await stage.still_serving()
    problems += await _stored_raw_problems(stage, burst)
    problems += _mail_problems(sink)
    refused = sum(verdict.refused for _, _, verdict in burst)
    note(
        f"{len(cases)} hostile records ({refused} refused by the contracts); "
        f"per service {tally}; {len(sink.stored)} e-mails"
    )
    assert not problems, report(problems, limit=80)
