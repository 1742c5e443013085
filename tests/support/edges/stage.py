"""The three services on the real stack, a programme and a formed pair, ready for bursts.

Valid commands are built here (an enrolment, an objective, a preview round, a programme),
each with the rows its one effect leaves; a burst is produced to partition 0 of its topics
in one go (one producer batch, so each service reads it in one consumer batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from binome_devstack.cohort_generator import GeneratedCohort, generate_cohort
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import EnrolParticipant, RequestMatching
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    MatchingPreviewed,
    PairExplanation,
    PairFormed,
    PairSide,
)
from binome_shared.contracts.sessions_messages import ParticipantRole, SetObjective
from binome_shared.contracts.topics import PAIRING_EVENTS, SESSIONS_EVENTS
from binome_shared.contracts.values import LocalisedText
from tests.support.edges.cases import SERVICES, Case, Labels, Probe, Verdict, case_of
from tests.support.edges.ledger import (
    DeadLetters,
    judge,
    probe_effects,
    report,
    settle,
    stray_dead_letters,
)
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess
from tests.support.programmes import TENANT, hr_command, programme_definition
from tests.support.waiting import eventually

PROGRAMME = "prog-edges"
PAIR = "pair-edges-0"
PAIRS = tuple(f"pair-edges-{number}" for number in range(12))
OBJECTIVES_PER_PAIR = 10
"""A side of a pair holds 5 objectives at most: objectives go round the pairs and sides."""
FORMED_AT = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)

_OUTBOX_EVENT = """
SELECT count(*) FROM outbox
WHERE CASE WHEN topic = $1 THEN convert_from(value, 'UTF8')::jsonb ->> $2 = $3 ELSE false END
"""
"""Events the service published (or will): its outbox rows on ``topic`` whose field matches."""

_OUTBOX_EVENT_OF_TYPE = """
SELECT count(*) FROM outbox
WHERE CASE WHEN topic = $1
      THEN convert_from(value, 'UTF8')::jsonb ->> $2 = $3
           AND header_values[array_position(header_names, 'ce_type')] = convert_to($4, 'UTF8')
      ELSE false END
"""
"""The same, of one event type (its ``ce_type`` header)."""

ServiceFactory = Callable[..., ServiceProcess]


def _count(service: str, table: str, what: str, *args: Any) -> Probe:
    return Probe(
        service=service,
        query=f"SELECT count(*) FROM {table} WHERE programme_id = $1 AND participant_id = $2",
        args=args,
        what=what,
    )


@dataclass(repr=False)
class EdgeStage:
    """A running platform and the means to send bursts at it and count what they did."""

    kafka: Kafka
    database: ProvisionedDatabase
    services: dict[str, ServiceProcess]
    dead_letters: DeadLetters
    producer: AIOKafkaProducer
    cohort: GeneratedCohort = field(default_factory=lambda: generate_cohort(mentees=4, mentors=4))
    labels: Labels = field(default_factory=Labels)
    objectives: int = 0
    sent: list[Case] = field(default_factory=list)
    """Every case sent so far: a dead letter of an earlier burst is not a stray."""

    def __repr__(self) -> str:
        return f"EdgeStage(prefix={self.prefix!r}, database={self.database.name!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # noqa: ARG002
        """How Hypothesis shows the stage beside a failing example: briefly, not field by
        field (the services' environment would fill the screen)."""
        printer.text(repr(self))

    @property
    def prefix(self) -> str:
        return self.kafka.prefix

    # --- valid commands ------------------------------------------------------------------

    def command(self, data: Message, *, programme_id: str = PROGRAMME) -> Envelope[Any]:
        return hr_command(data, programme_id=programme_id, time=FORMED_AT)

    def enrolment(self, stem: str = "enrol") -> Case:
        """A valid EnrolParticipant: one participant row in pairing, one person in
        notifications."""
        label = self.labels.next(stem)
        base = self.cohort.participants[self.labels.count % len(self.cohort.participants)]
        profile = base.model_copy(update={"participant_id": label})
        return case_of(
            label,
            self.command(EnrolParticipant(participant=profile)),
            verdict=Verdict.ACCEPT,
            prefix=self.prefix,
            probes=(
                _count("pairing", "participants", "participant row", PROGRAMME, label),
                _count("notifications", "people", "directory row", PROGRAMME, label),
            ),
        )

    def objective(self, stem: str = "objective") -> Case:
        """A valid SetObjective on the formed pair: one ObjectiveSet event from sessions."""
        label = self.labels.next(stem)
        pair, slot = divmod(self.objectives, OBJECTIVES_PER_PAIR)
        self.objectives += 1
        command = SetObjective(
            pair_id=PAIRS[pair % len(PAIRS)],
            objective_id=label,
            owner=(ParticipantRole.MENTEE, ParticipantRole.MENTOR)[slot % 2],
            title="Publier un post LinkedIn par mois",
        )
        return case_of(
            label,
            self.command(command),
            verdict=Verdict.ACCEPT,
            prefix=self.prefix,
            probes=(self._event("sessions", SESSIONS_EVENTS.full_name(self.prefix), label),),
        )

    def preview_round(self, stem: str = "round") -> Case:
        """A valid preview RequestMatching: from pairing, one MatchingPreviewed part (the
        preview's pairs, none here) and one MatchingCompleted."""
        label = self.labels.next(stem)
        topic = PAIRING_EVENTS.full_name(self.prefix)
        return case_of(
            label,
            self.command(RequestMatching(round_id=label, preview=True)),
            verdict=Verdict.ACCEPT,
            prefix=self.prefix,
            probes=tuple(
                Probe(
                    "pairing",
                    _OUTBOX_EVENT_OF_TYPE,
                    (topic, "round_id", label, event.message_type),
                    f"{event.__name__} on {topic}",
                )
                for event in (MatchingPreviewed, MatchingCompleted)
            ),
        )

    def _event(self, service: str, topic: str, label: str) -> Probe:
        field_name = "objective_id" if service == "sessions" else "round_id"
        return Probe(service, _OUTBOX_EVENT, (topic, field_name, label), f"event on {topic}")

    # --- sending and judging -------------------------------------------------------------

    async def send(self, cases: Sequence[Case]) -> None:
        """All ``cases`` in one burst, to partition 0 of their topics, in order."""
        self.sent.extend(cases)
        deliveries = [
            await self.producer.send(
                case.topic.full_name(self.prefix),
                value=case.value,
                key=case.key,
                headers=case.wire_headers,
                partition=0,
            )
            for case in cases
        ]
        await asyncio.gather(*deliveries)

    async def problems(self, cases: Sequence[Case], *, timeout: float = 30.0) -> list[str]:
        """What the platform got wrong about ``cases`` (empty when nothing)."""
        observed = await settle(cases, self.database, self.dead_letters, timeout=timeout)
        return [
            *judge(cases, observed, self.dead_letters),
            *await probe_effects(cases, self.database),
        ]

    async def still_serving(self) -> list[str]:
        """After a hostile burst: valid commands still have their effects, every service
        is ready, every outbox drains, and no dead letter is left unexplained."""
        final = [self.enrolment("after"), self.objective("after"), self.preview_round("after")]
        await self.send(final)
        problems = [
            f"after the burst: {problem}" for problem in await self.problems(final, timeout=20)
        ]
        problems += await self._readiness()
        problems += await self._outboxes_drained()
        problems += stray_dead_letters(self.sent, self.dead_letters)
        return problems

    async def _readiness(self) -> list[str]:
        problems = []
        async with httpx.AsyncClient() as client:
            for name, service in self.services.items():
                assert service.process is not None
                if service.process.poll() is not None:
                    problems.append(f"{name} exited with {service.process.returncode}")
                    continue
                try:
                    response = await client.get(f"{service.url}/ready", timeout=5)
                except httpx.HTTPError as error:
                    problems.append(f"{name} /ready unreachable: {error!r}")
                    continue
                if response.status_code != 200:
                    problems.append(
                        f"{name} /ready answered {response.status_code}: {response.text[:200]}"
                    )
        return problems

    async def _outboxes_drained(self, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        pending: dict[str, int] = {}
        while time.monotonic() < deadline:
            pending = {
                name: await self.database.fetchval(
                    name, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
                )
                for name in SERVICES
            }
            if not any(pending.values()):
                return []
            await asyncio.sleep(0.3)
        return [
            f"{name}'s outbox still holds {count} unsent row(s) after {timeout} s (relay jammed)"
            for name, count in pending.items()
            if count
        ]


async def start_stage(
    *, service_factory: ServiceFactory, kafka: Kafka, database: ProvisionedDatabase
) -> EdgeStage:
    """Start the three services, define the programme and form its pairs."""
    services = {name: service_factory(name) for name in SERVICES}
    await asyncio.gather(*(service.wait_ready() for service in services.values()))
    dead_letters = DeadLetters(kafka.bootstrap, kafka.prefix)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=100,  # the whole burst in one producer batch, hence one consumer batch
        max_batch_size=512 * 1024,
        max_request_size=2 * 1024 * 1024,  # the broker, not this client, judges sizes
    )
    await asyncio.gather(dead_letters.start(), producer.start())
    stage = EdgeStage(
        kafka=kafka,
        database=database,
        services=services,
        dead_letters=dead_letters,
        producer=producer,
    )
    await kafka.publish(stage.command(programme_definition(stage.cohort.rules)))
    for pair in PAIRS:
        await kafka.publish(
            Envelope.new(
                _pair_formed(pair),
                source="/binome/pairing",
                time=FORMED_AT,
                tenant_id=TENANT,
                programme_id=PROGRAMME,
            )
        )
    await _wait_for_programme(database)
    return stage


async def stop_stage(stage: EdgeStage) -> None:
    with contextlib.suppress(Exception):
        await stage.producer.stop()
    with contextlib.suppress(Exception):
        await stage.dead_letters.stop()


def _pair_formed(pair: str) -> PairFormed:
    return PairFormed(
        pair_id=pair,
        round_id="round-setup",
        mentor=PairSide(participant_id=f"M-{pair}", business_unit="Digital"),
        mentee=PairSide(participant_id=f"E-{pair}", business_unit="Finance"),
        explanation=PairExplanation(
            score=0.8,
            breakdown={"needs_coverage": 0.8},
            summary=LocalisedText(fr="Bon binôme", en="Good pair"),
        ),
        mentor_trained=True,
    )


async def _wait_for_programme(database: ProvisionedDatabase) -> None:
    checks: list[Callable[[], Awaitable[Any]]] = [
        lambda: database.fetchval("pairing", "SELECT count(*) FROM programmes"),
        lambda: database.fetchval("notifications", "SELECT count(*) FROM programmes"),
        lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs WHERE state IS NOT NULL"),
    ]
    for check, expected in zip(checks, (1, 1, len(PAIRS)), strict=True):
        await eventually(check, expected, timeout=60)


__all__ = ["EdgeStage", "report", "start_stage", "stop_stage"]
