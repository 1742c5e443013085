"""The service's one Kafka subscription: FastStream's batch subscriber, handing raw records
to the reliable consumer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from binome_shared.messaging.cloudevents import ReceivedRecord
from binome_shared.runtime.health import GroupMembership, HasKafkaConsumer

if TYPE_CHECKING:
    from binome_shared.runtime.definition import ServiceDefinition
    from binome_shared.runtime.settings import ServiceSettings


def subscribe(
    broker: KafkaBroker,
    *,
    definition: ServiceDefinition,
    settings: ServiceSettings,
    membership: GroupMembership,
    consume: Callable[[KafkaMessage], Awaitable[None]],
) -> HasKafkaConsumer:
    """Subscribe ``consume`` to the service's topics, one batch at a time, acked by hand."""
    subscriber = broker.subscriber(
        *[topic.full_name(settings.topic_prefix) for topic in definition.subscriptions],
        group_id=definition.consumer_group(settings.topic_prefix),
        batch=True,
        max_records=settings.consumer_batch_size,
        batch_timeout_ms=5,  # also the idle sleep between empty polls: keep latency low
        fetch_max_wait_ms=20,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        parser=_parse_without_headers,
        decoder=_keep_raw,
        listener=membership,
        title=f"binome-{definition.name}",
    )

    @subscriber
    async def handle(message: KafkaMessage) -> None:
        await consume(message)

    return subscriber


def received_records(message: Any) -> list[ReceivedRecord]:
    """The records of a FastStream batch message, headers included, as the core reads them."""
    raw = message.raw_message
    records = [
        unwrapped.record if isinstance(unwrapped, _RecordWithoutHeaders) else unwrapped
        for unwrapped in (raw if isinstance(raw, tuple) else (raw,))
    ]
    return [ReceivedRecord.of(record) for record in records]


@dataclass(frozen=True, slots=True)
class _RecordWithoutHeaders:
    """A Kafka record as FastStream's batch parser sees it: everything but the headers.

    That parser decodes every header value of every record as UTF-8 text. One binary value
    (a signature from another producer) would break the whole batch, before the reliable
    consumer could judge a single record; and the consumer reads the headers itself.
    """

    record: Any

    @property
    def headers(self) -> tuple[()]:
        return ()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


async def _parse_without_headers(
    records: tuple[Any, ...], original_parser: Callable[[tuple[Any, ...]], Awaitable[Any]]
) -> Any:
    return await original_parser(tuple(_RecordWithoutHeaders(record) for record in records))


async def _keep_raw(message: Any) -> None:
    """Skip FastStream's JSON decoding: the reliable consumer reads raw records itself, so an
    unreadable body becomes a dead letter with its reason instead of an error before us."""
    del message
