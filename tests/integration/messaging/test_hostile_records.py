"""Records as hostile as Kafka lets them be, through the real broker and the real Postgres:
each one is handled or dead-lettered with a reason, and none takes a neighbour down."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from binome_pairing import handlers as pairing_handlers
from binome_sessions.bootstrap import definition as sessions_definition
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.contracts.sessions_messages import ScheduleSession
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS, SESSION_COMMANDS
from binome_shared.messaging.bounded import REASON_CHARS
from binome_shared.messaging.cloudevents import KafkaRecord, RejectionCode, encode
from binome_shared.messaging.consumer import ReliableConsumer, Route, UnitOfWork
from binome_shared.messaging.dead_letters import (
    VALUE_EXCERPT_BYTES,
    record_size,
)
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.relay_producer import DEFAULT_MAX_REQUEST_SIZE
from tests.integration.messaging.factories import (
    enrolments,
    pair_formed,
    programme_defined,
    received,
)
from tests.integration.messaging.support import (
    GroupReader,
    RawRecord,
    relay_everything,
    send_raw,
)
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.programmes import hr_command

pytestmark = pytest.mark.integration

PROGRAMME = "prog-hostile"
LOG_LINE_LIMIT = 1_000


class Clock:
    def now(self) -> datetime:
        return datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


async def open_pool(database: ProvisionedDatabase, service: str) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        database.dsn(service), min_size=1, max_size=3, server_settings={"search_path": service}
    )


@pytest.fixture
async def pairing_pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database, "pairing")
    yield pool
    await pool.close()


@pytest.fixture
async def sessions_pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database, "sessions")
    yield pool
    await pool.close()


def consumer(
    pool: asyncpg.Pool,
    routes: dict[type[Any], Route],
    *,
    prefix: str = "",
    dead_letters: Counter[str] | None = None,
) -> ReliableConsumer:
    return ReliableConsumer(
        pool=pool,
        registry=CATALOGUE,
        routes=routes,
        outbox=Outbox(topic_prefix=prefix),
        clock=Clock(),
        source="/binome/test",
        consumer_group="binome-test",
        on_dead_letters=None if dead_letters is None else dead_letters.update,
    )


def raw(record: KafkaRecord) -> RawRecord:
    return record.key, record.value, list(record.headers)


def with_header(record: KafkaRecord, name: str, value: bytes) -> RawRecord:
    """``record`` with the first header ``name`` set to ``value``."""
    headers = list(record.headers)
    index = next(i for i, (header, _) in enumerate(headers) if header == name)
    headers[index] = (name, value)
    return record.key, record.value, headers


def assert_logs_bounded(caplog: pytest.LogCaptureFixture) -> None:
    for line in caplog.records:
        message = line.getMessage()
        assert len(message) < LOG_LINE_LIMIT, f"a {len(message)}-character log line"
        assert not any(char in message for char in "\x00\r\n"), message[:200]


async def test_hostile_headers_are_dead_lettered_and_the_commands_beside_them_act_once(
    pairing_pool: asyncpg.Pool,
    kafka: Kafka,
    kafka_bootstrap: str,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    topic = HR_COMMANDS.full_name(topic_prefix)
    (mentor, mentee), _, _ = enrolments(PROGRAMME)
    template = encode(mentor, topic=topic)
    valid = {"define": programme_defined(PROGRAMME), "mentor": mentor, "mentee": mentee}
    hostile: dict[str, RawRecord] = {
        "NUL in ce_type": with_header(template, "ce_type", b"binome.hr.enrol-participant\x00"),
        "invalid UTF-8, null key": (
            None,
            *with_header(template, "ce_type", b"binome.hr.\xff\xfe-participant")[1:],
        ),
        "CR/LF": with_header(template, "ce_type", b"binome.hr.enrol\r\nce_type: forged"),
        "100 KB header": with_header(template, "ce_type", b"binome.hr." + b"x" * 100_000),
        "repeated ce_id": (
            template.key,
            template.value,
            [("ce_id", b"\x00not-a-uuid"), *template.headers],
        ),
        "null value": (template.key, None, list(template.headers)),
    }
    sent = [
        raw(encode(valid["define"], topic=topic)),
        hostile["NUL in ce_type"],
        raw(template),
        hostile["invalid UTF-8, null key"],
        hostile["CR/LF"],
        raw(encode(valid["mentee"], topic=topic)),
        hostile["100 KB header"],
        hostile["repeated ce_id"],
        raw(template),  # the mentor's enrolment again, same id
        hostile["null value"],
    ]
    await send_raw(kafka_bootstrap, topic, sent)
    counts: Counter[str] = Counter()
    caplog.set_level(logging.INFO)
    async with GroupReader(kafka_bootstrap, topic, f"{topic_prefix}hostile") as reader:
        records = await reader.read(len(sent))
        await consumer(
            pairing_pool, pairing_handlers.ROUTES, prefix=topic_prefix, dead_letters=counts
        ).process(records, asyncio.Event())
        await reader.commit()
        assert await reader.lag() == 0, "the whole batch is acknowledged"

    participants = await pairing_pool.fetchval(
        "SELECT count(*) FROM participants WHERE programme_id = $1", PROGRAMME
    )
    assert participants == 2, "each valid enrolment acted once, the duplicate not at all"
    outcomes = dict(
        await pairing_pool.fetch("SELECT outcome, count(*) FROM processed_messages GROUP BY 1")
    )
    assert outcomes == {"done": 3, "undecodable": len(hostile)}
    assert sum(counts.values()) == len(hostile)
    assert set(counts) <= {str(code) for code in RejectionCode}

    await relay_everything(pairing_pool, schema="pairing", bootstrap=kafka_bootstrap)
    dead = await kafka.read_all(f"{topic}.dlq", expect=len(hostile))
    assert len(dead) == len(hostile)
    hostile_positions = {
        (str(record.partition).encode(), str(record.offset).encode())
        for record in records
        if (record.key, record.value, list(record.headers)) in hostile.values()
    }
    assert len(hostile_positions) == len(hostile)
    headers = [dict(letter.headers) for letter in dead]
    assert {
        (letter["binome_dlq_source_partition"], letter["binome_dlq_source_offset"])
        for letter in headers
    } == hostile_positions
    for letter in headers:
        assert letter["binome_dlq_code"].decode() in counts
        reason = letter["binome_dlq_reason"].decode("utf-8")  # valid UTF-8, or this raises
        assert reason
        assert len(reason) <= REASON_CHARS
        assert reason.isprintable(), reason[:200]
    assert_logs_bounded(caplog)


async def test_a_megabyte_id_is_refused_with_a_bounded_reason_beside_an_ordinary_one(
    sessions_pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    """A 1 MB pair id once jammed the parking's index; the contract now refuses it before any
    handler, naming the field, while its neighbour parks as usual."""
    huge_pair = "p" * 1_000_000
    commands = [
        hr_command(
            # Built without validation, as a hostile producer would write it.
            ScheduleSession.model_construct(
                pair_id=pair, session_number=1, starts_at=Clock().now(), duration_minutes=60
            ),
            programme_id=PROGRAMME,
        )
        for pair in (huge_pair, "pair-2")
    ]
    records = [
        received(command, topic=SESSION_COMMANDS.name, offset=offset)
        for offset, command in enumerate(commands)
    ]
    assert len(records[0].value or b"") > 1_000_000
    caplog.set_level(logging.INFO)
    await consumer(sessions_pool, dict(sessions_definition().routes)).process(
        records, asyncio.Event()
    )
    parked = await sessions_pool.fetch("SELECT waiting_for FROM parked_messages")
    assert [row["waiting_for"] for row in parked] == ["pair:groupe-exemple/pair-2"]
    [letter] = await sessions_pool.fetch(
        "SELECT header_names, header_values, length(value) AS size FROM outbox "
        "WHERE topic LIKE '%.dlq'"
    )
    headers = dict(zip(letter["header_names"], letter["header_values"], strict=True))
    assert headers["binome_dlq_code"] == b"schema_invalid"
    reason = headers["binome_dlq_reason"].decode()
    assert "pair_id" in reason
    assert len(reason) <= REASON_CHARS
    assert_logs_bounded(caplog)


async def test_a_dead_letter_over_the_size_limit_goes_out_as_a_bounded_excerpt(
    pairing_pool: asyncpg.Pool, kafka: Kafka, kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = PAIRING_EVENTS.full_name(topic_prefix)
    template = encode(pair_formed(1), topic=topic)
    framing = record_size(template.key, b"", list(template.headers))
    value = b"{" + b"x" * (DEFAULT_MAX_REQUEST_SIZE - framing - 200)  # not JSON, under the limit
    await send_raw(kafka_bootstrap, topic, [(template.key, value, list(template.headers))])

    async def never_called(envelope: Envelope[Any], uow: UnitOfWork) -> None:
        raise AssertionError("an unreadable record reaches no handler")

    async with GroupReader(kafka_bootstrap, topic, f"{topic_prefix}large") as reader:
        [record] = await reader.read(1)
        await consumer(pairing_pool, {PairFormed: never_called}, prefix=topic_prefix).process(
            [record], asyncio.Event()
        )

    assert await relay_everything(pairing_pool, schema="pairing", bootstrap=kafka_bootstrap) == 1
    [dead] = await kafka.read_all(f"{topic}.dlq", expect=1)
    headers = dict(dead.headers)
    about = [
        (name, content)
        for name, content in dead.headers
        if name.startswith("binome_dlq_")
        and not name.startswith(("binome_dlq_truncated", "binome_dlq_original"))
    ]
    whole_copy = record_size(template.key, value, [*template.headers, *about])
    assert whole_copy > DEFAULT_MAX_REQUEST_SIZE, "the premise: the whole copy would not fit"
    assert headers["binome_dlq_truncated"] == b"true"
    assert headers["binome_dlq_code"] == b"malformed_json"
    assert headers["binome_dlq_original_value_size"] == str(len(value)).encode()
    assert headers["binome_dlq_source_offset"] == str(record.offset).encode()
    assert headers["binome_dlq_source_topic"] == topic.encode()
    assert headers["ce_type"] == b"binome.pairing.pair-formed", "the first headers travel along"
    assert dead.value == value[:VALUE_EXCERPT_BYTES]
    assert dead.key == template.key
