"""An HR import reaches pairing as runs of enrolments, handled together (one query, one
``executemany``), with the outcome of one-at-a-time handling — on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_pairing import handlers
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.hr_commands import EnrolParticipant
from binome_shared.contracts.topics import HR_COMMANDS
from binome_shared.messaging.cloudevents import ReceivedRecord, encode
from binome_shared.messaging.consumer import Batched, ReliableConsumer, UnitOfWork
from binome_shared.messaging.outbox import Outbox
from tests.support.programmes import hr_command, programme_definition

pytestmark = pytest.mark.integration


class Clock:
    def now(self) -> datetime:
        return datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def records(envelopes: list[Envelope[Any]]) -> list[ReceivedRecord]:
    received = []
    for offset, envelope in enumerate(envelopes):
        record = encode(envelope, topic=HR_COMMANDS.name)
        received.append(
            ReceivedRecord(
                topic=record.topic,
                partition=0,
                offset=offset,
                key=record.key,
                value=record.value,
                headers=record.headers,
            )
        )
    return received


def enrol(profile: Any) -> Envelope[Any]:
    return hr_command(EnrolParticipant(participant=profile), programme_id="prog-import")


def consumer_counting_runs(pool: asyncpg.Pool, runs: list[int]) -> ReliableConsumer:
    """Pairing's own routes; enrolment runs are counted on their way to its handler."""

    async def counted(envelopes: Any, uow: UnitOfWork) -> None:
        runs.append(len(envelopes))
        await handlers.MessageHandlers().enrol_participants(envelopes, uow)

    return ReliableConsumer(
        pool=pool,
        registry=CATALOGUE,
        routes={**handlers.ROUTES, EnrolParticipant: Batched(counted)},
        outbox=Outbox(),
        clock=Clock(),
        source="/binome/pairing",
        consumer_group="binome-pairing",
    )


async def test_an_import_run_is_enrolled_in_one_call(pool: asyncpg.Pool) -> None:
    cohort = generate_cohort(mentees=4, mentors=5, seed=5)
    runs: list[int] = []
    await consumer_counting_runs(pool, runs).process(
        records(
            [
                hr_command(programme_definition(cohort.rules), programme_id="prog-import"),
                *[enrol(profile) for profile in cohort.participants],
            ]
        ),
        asyncio.Event(),
    )
    assert runs == [9]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM participants WHERE status = 'enrolled' AND profile IS NOT NULL"
        )
        == 9
    )


async def test_a_duplicate_in_an_import_run_is_refused_alone(pool: asyncpg.Pool) -> None:
    cohort = generate_cohort(mentees=3, mentors=3, seed=5)
    first, second, third, *rest = cohort.participants
    runs: list[int] = []
    consumer = consumer_counting_runs(pool, runs)

    await consumer.process(
        records(
            [
                hr_command(programme_definition(cohort.rules), programme_id="prog-import"),
                enrol(first),
                enrol(second),
                enrol(first),  # HR sent this person twice in one file
                enrol(third),
                *[enrol(profile) for profile in rest],
            ]
        ),
        asyncio.Event(),
    )

    enrolled = await pool.fetch(
        "SELECT participant_id FROM participants WHERE status = 'enrolled' ORDER BY 1"
    )
    assert [row["participant_id"] for row in enrolled] == sorted(
        profile.participant_id for profile in cohort.participants
    )
    outcomes = dict(
        await pool.fetch("SELECT outcome, count(*) FROM processed_messages GROUP BY outcome")
    )
    assert outcomes == {"done": 1 + len(cohort.participants), "rejected": 1}
    [dead] = await pool.fetch("SELECT header_names, header_values FROM outbox")
    headers = dict(zip(dead["header_names"], dead["header_values"], strict=True))
    assert headers["binome_dlq_code"] == b"duplicate_participant"
    assert first.participant_id.encode() in headers["binome_dlq_reason"]
    assert runs == [7] + [1] * 7, "the run failed as a whole, then went one by one"
