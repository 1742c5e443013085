"""The report server's one background reader: the report's topics, read once, then tailed.

:class:`LiveReports` reads the report's four topics (:data:`.events.REPORT_TOPICS`) from their
beginning with assigned partitions and no consumer group (the report's Kafka principal may
read and describe those topics, and holds no group ACL: nothing is committed, nobody else's
offsets move), folds every record into the :class:`.read_model.ReadModel`, then keeps
reading what is published. So a request costs the building of one report from the state in
memory, whatever the size of the platform's history.

- It is *ready* once it has read up to the end offsets it found at start: until then
  ``/ready`` answers 503 and Kubernetes sends a cold replica no traffic.
- A request first waits (at most ``report_fresh_wait_seconds``) until the reader has folded
  everything published before the request arrived (the topics' end offsets, asked then), so
  a caller who just published reads its own facts.
- A broker that goes away, a failing fetch or consumer: logged, the consumer is rebuilt
  after a pause and resumes from the positions already folded (nothing is folded twice).
  Topics or partitions created later are found by a periodic look-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from binome_integrations.report.events import (
    REPORT_TOPICS,
    groupless_consumer,
    topic_partitions,
)
from binome_integrations.report.model import ProgrammeReport
from binome_integrations.report.read_model import ReadModel
from binome_shared.messaging.cloudevents import ReceivedRecord

logger = logging.getLogger(__name__)

POLL_MILLISECONDS: Final = 200
REDISCOVER_SECONDS: Final = 30.0
"""How often topics and partitions created after start are looked for."""
RETRY_SECONDS: Final = (0.5, 1.0, 2.0, 5.0, 10.0)
"""Pauses before the consumer is rebuilt after a failure (the last one repeats)."""


class NotCaughtUpError(RuntimeError):
    """The reader has not yet read the topics up to where they ended at start."""


class LiveReports:
    """Every programme's report, from one reader tailing the report's topics."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        topic_prefix: str = "",
        client_options: dict[str, Any] | None = None,
        fresh_wait_seconds: float = 2.0,
        model: ReadModel | None = None,
    ) -> None:
        self.model = model or ReadModel()
        self._bootstrap = bootstrap_servers
        self._names = [spec.full_name(topic_prefix) for spec in REPORT_TOPICS]
        self._options = dict(client_options or {})
        self._fresh_wait = fresh_wait_seconds
        self._positions: dict[TopicPartition, int] = {}
        """Next offset to fold, by partition (what has been folded survives a new consumer)."""
        self._assigned: list[TopicPartition] = []
        self._start_ends: dict[TopicPartition, int] | None = None
        self._offsets: AIOKafkaConsumer | None = None
        """A second client, only asked for end offsets: on the reader's own connection the
        question would wait behind its long-polling fetch (up to half a second)."""
        self._progress = asyncio.Condition()
        self._caught_up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.caught_up_seconds: float | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background reader (in the running event loop)."""
        self._task = asyncio.create_task(self._run(), name="report-reader")

    async def stop(self) -> None:
        """Stop reading and close the consumer (on SIGTERM, through the ASGI lifespan)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def alive(self) -> bool:
        """The reading loop runs (``/health``)."""
        return self._task is not None and not self._task.done()

    @property
    def ready(self) -> bool:
        """The topics were read up to where they ended at start (``/ready``)."""
        return self._caught_up.is_set()

    async def wait_ready(self) -> None:
        """Until the reader has caught up."""
        await self._caught_up.wait()

    def status(self) -> dict[str, Any]:
        """What ``/health`` and ``/ready`` show: progress and skipped records."""
        return {
            "caught_up": self.ready,
            "programmes": len(self.model.programmes),
            "folded": self.model.folded,
            "skipped": dict(self.model.skipped),
        }

    # -- requests ---------------------------------------------------------------------------

    async def report(self, tenant_id: str, programme_id: str) -> ProgrammeReport | None:
        """The programme's report from the current state, once what was published before
        this request is folded (or the wait is over); :class:`NotCaughtUpError` while the
        reader is still catching up."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._fresh_wait):
                await self._caught_up.wait()
                await self._fold_published_before_now()
        if not self.ready:
            raise NotCaughtUpError
        return self.model.report(tenant_id, programme_id)

    async def _fold_published_before_now(self) -> None:
        offsets = self._offsets
        if offsets is None or not self._assigned:
            return
        try:
            ends = await offsets.end_offsets(self._assigned)
        except KafkaError as error:
            # The broker is away: answer from the state as it is (its "as of" says how old).
            logger.warning("report: end offsets unknown (%r), answering as of now", error)
            return
        async with self._progress:
            await self._progress.wait_for(lambda: self._reached(ends))

    def _reached(self, ends: dict[TopicPartition, int]) -> bool:
        return all(self._positions.get(tp, 0) >= end for tp, end in ends.items())

    # -- reading ----------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        started = time.monotonic()
        while True:
            try:
                await self._read(started)
            except asyncio.CancelledError:
                raise
            except Exception:  # the reader outlives any broker or client failure
                pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                logger.exception("report: reading failed, again in %.1f s", pause)
                await asyncio.sleep(pause)

    def _client(self) -> AIOKafkaConsumer:
        return groupless_consumer(self._bootstrap, self._options)

    async def _read(self, started: float) -> None:
        consumer, offsets = self._client(), self._client()
        try:
            await consumer.start()
            await offsets.start()
            await self._assign(consumer)
            if self._start_ends is None:
                self._start_ends = await offsets.end_offsets(self._assigned)
            self._offsets = offsets
            rediscover_at = time.monotonic() + REDISCOVER_SECONDS
            while True:
                await self._fold_batch(consumer)
                self._note_catch_up(started)
                if time.monotonic() >= rediscover_at:
                    await self._assign(consumer)
                    rediscover_at = time.monotonic() + REDISCOVER_SECONDS
        finally:
            self._offsets = None
            await consumer.stop()
            await offsets.stop()

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        """Assign every partition of the report's topics; known ones resume where folding
        stopped, new ones start from their beginning."""
        partitions = await topic_partitions(self._bootstrap, self._names, self._options)
        self._assigned = partitions
        if set(partitions) == set(consumer.assignment()):
            return
        consumer.assign(partitions)
        fresh = [tp for tp in partitions if tp not in self._positions]
        for partition in partitions:
            if partition in self._positions:
                consumer.seek(partition, self._positions[partition])
        if fresh:
            await consumer.seek_to_beginning(*fresh)
            for partition in fresh:
                self._positions[partition] = await consumer.position(partition)

    async def _fold_batch(self, consumer: AIOKafkaConsumer) -> None:
        batches = await consumer.getmany(timeout_ms=POLL_MILLISECONDS)
        for batch in batches.values():
            for record in batch:
                self.model.take_record(ReceivedRecord.of(record))
        # The position, not the last offset + 1: transaction markers take offsets too.
        for partition in consumer.assignment():
            self._positions[partition] = await consumer.position(partition)
        async with self._progress:
            self._progress.notify_all()

    def _note_catch_up(self, started: float) -> None:
        if self.ready or self._start_ends is None:
            return
        if self._reached(self._start_ends):
            self.caught_up_seconds = time.monotonic() - started
            self._caught_up.set()
            logger.info(
                "report: caught up in %.1f s (%d facts folded, %d skipped)",
                self.caught_up_seconds,
                self.model.folded,
                sum(self.model.skipped.values()),
            )
