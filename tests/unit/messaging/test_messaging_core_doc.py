"""docs/messaging-core.md shows real code: its handler example runs, and its service
definition names only fields a ServiceDefinition has."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any, cast

import asyncpg
import pytest

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import EnrolParticipant
from binome_shared.contracts.pairing_events import DissolutionReason, PairDissolved, PairFormed
from binome_shared.contracts.sessions_messages import SessionPlanned
from binome_shared.messaging.errors import AwaitingPrerequisiteError, RejectedError
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import Batched, UnitOfWork
from binome_shared.runtime.service import ServiceDefinition
from tests.integration.messaging.factories import NOW, pair_formed

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[3] / "docs" / "messaging-core.md"
_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _python_blocks(title: str) -> list[str]:
    return _PYTHON_BLOCK.findall(_section(title))


def _handler_example() -> dict[str, Any]:
    """The names the Handlers section's example defines, once run (its imports resolve)."""
    (block,) = _python_blocks("Handlers")
    namespace: dict[str, Any] = {"__name__": "messaging_core_doc_example"}
    exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace


class Pairs:
    """The example's PairRepository, in memory."""

    def __init__(self) -> None:
        self.pairs: dict[str, bool] = {}  # pair id -> dissolved
        self.enrolled: list[str] = []

    async def add_pair(self, pair_id: str, programme_id: str) -> None:
        del programme_id
        self.pairs[pair_id] = False

    async def pair_exists(self, pair_id: str) -> bool:
        return pair_id in self.pairs

    async def dissolve_pair(self, pair_id: str) -> bool:
        already = self.pairs[pair_id]
        self.pairs[pair_id] = True
        return not already

    async def enrol(self, participant_ids: list[str]) -> None:
        self.enrolled.extend(participant_ids)


class RecordingOutbox:
    def __init__(self) -> None:
        self.added: list[Envelope[Any]] = []

    async def add(self, conn: object, envelope: Envelope[Any]) -> None:
        del conn
        self.added.append(envelope)


def _unit_of_work(outbox: RecordingOutbox) -> UnitOfWork:
    return UnitOfWork(
        conn=cast(asyncpg.Connection, object()),
        outbox=cast(Outbox, outbox),
        now=NOW,
        source="/binome/sessions",
    )


def _handlers(pairs: Pairs) -> Any:
    return _handler_example()["MessageHandlers"](lambda conn: pairs)


def test_the_example_routes_each_type_to_its_handler() -> None:
    handlers = _handlers(Pairs())
    routes = handlers.routes()
    assert routes[PairFormed] == handlers.on_pair_formed
    assert routes[PairDissolved] == handlers.on_pair_dissolved
    batched = routes[EnrolParticipant]
    assert isinstance(batched, Batched)
    assert batched.handler == handlers.on_enrolments


async def test_the_example_handler_writes_releases_and_publishes_what_it_caused() -> None:
    pairs, outbox = Pairs(), RecordingOutbox()
    envelope = pair_formed(1)
    uow = _unit_of_work(outbox)
    await _handlers(pairs).on_pair_formed(envelope, uow)
    assert pairs.pairs == {"pair-1": False}
    assert uow.released == ["pair:pair-1"]
    (published,) = outbox.added
    assert isinstance(published.data, SessionPlanned)
    assert published.causation_id == envelope.id
    assert published.correlation_id == envelope.correlation_id


async def test_the_example_parks_what_overtook_its_pair_and_refuses_a_second_dissolution() -> None:
    pairs = Pairs()
    handlers = _handlers(pairs)
    dissolved = envelope_of(PairDissolved(pair_id="pair-1", reason=DissolutionReason.POOR_FIT))
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await handlers.on_pair_dissolved(dissolved, _unit_of_work(RecordingOutbox()))
    assert parked.value.waiting_for == "pair:pair-1"
    await handlers.on_pair_formed(pair_formed(1), _unit_of_work(RecordingOutbox()))
    await handlers.on_pair_dissolved(dissolved, _unit_of_work(RecordingOutbox()))
    with pytest.raises(RejectedError) as refused:
        await handlers.on_pair_dissolved(dissolved, _unit_of_work(RecordingOutbox()))
    assert refused.value.code == "pair_already_dissolved"


def envelope_of(data: PairDissolved) -> Envelope[PairDissolved]:
    return Envelope.new(
        data,
        source="/binome/pairing",
        time=NOW,
        tenant_id="groupe-exemple",
        programme_id="prog-1",
    )


def test_the_service_definition_example_names_only_real_fields() -> None:
    (block,) = _python_blocks("A service is a definition")
    (statement,) = ast.parse(block).body
    assert isinstance(statement, ast.Expr)
    call = statement.value
    assert isinstance(call, ast.Call)
    assert isinstance(call.func, ast.Name)
    assert call.func.id == ServiceDefinition.__name__
    fields = {field.name for field in dataclasses.fields(ServiceDefinition)}
    named = {keyword.arg for keyword in call.keywords}
    assert named <= fields
    required = {
        field.name
        for field in dataclasses.fields(ServiceDefinition)
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    }
    assert required <= named
