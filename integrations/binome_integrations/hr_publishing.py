"""Sending imported participants to Binôme as the HR commands an HR platform would send.

Each profile becomes an ``EnrolParticipant`` (or ``UpdateParticipant``) command in a
CloudEvents envelope, on ``binome.hr.commands`` keyed by programme id, so the pairing
service sees them in file order. One import is one correlation id: every command of a file
can be traced together. The producer is idempotent with ``acks=all``: a broker hiccup
neither loses nor duplicates a command. Towards a secured cluster it connects with the
``BINOME_KAFKA_*`` security settings, as the ``binome-hr-kafka`` principal.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from aiokafka import AIOKafkaProducer

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import EnrolParticipant, UpdateParticipant
from binome_shared.contracts.participants import ParticipantProfile
from binome_shared.contracts.topics import HR_COMMANDS
from binome_shared.messaging.cloudevents import KafkaRecord, encode
from binome_shared.messaging.direct_send import send_traced
from binome_shared.runtime.settings import LOCAL_KAFKA

logger = logging.getLogger(__name__)

DEFAULT_SOURCE = "/hr/csv-import"

CommandName = Literal["enrol", "update"]


@dataclass(frozen=True, kw_only=True, slots=True)
class PublishResult:
    """What an import sent: how many commands, where, and the correlation id they share."""

    published: int
    topic: str
    correlation_id: uuid.UUID


def participant_records(
    profiles: Sequence[ParticipantProfile],
    *,
    programme_id: str,
    tenant_id: str,
    time: datetime,
    source: str = DEFAULT_SOURCE,
    topic_prefix: str = "",
    command: CommandName = "enrol",
    correlation_id: uuid.UUID | None = None,
) -> list[KafkaRecord]:
    """The Kafka records for ``profiles``, in order, sharing one correlation id.

    The correlation id is the first command's id unless one is given.
    """
    records: list[KafkaRecord] = []
    topic = HR_COMMANDS.full_name(topic_prefix)
    shared_correlation = correlation_id
    for profile in profiles:
        data = (
            EnrolParticipant(participant=profile)
            if command == "enrol"
            else UpdateParticipant(participant=profile)
        )
        envelope = Envelope.new(
            data,
            source=source,
            time=time,
            tenant_id=tenant_id,
            programme_id=programme_id,
            subject=profile.participant_id,
        )
        shared_correlation = shared_correlation or envelope.correlation_id
        envelope = envelope.model_copy(update={"correlation_id": shared_correlation})
        records.append(encode(envelope, topic=topic))
    return records


async def publish_participants(
    profiles: Sequence[ParticipantProfile],
    *,
    programme_id: str,
    tenant_id: str,
    bootstrap_servers: str = LOCAL_KAFKA,
    topic_prefix: str = "",
    source: str = DEFAULT_SOURCE,
    command: CommandName = "enrol",
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    client_options: Mapping[str, Any] | None = None,
) -> PublishResult:
    """Publish one command per profile and wait until Kafka has acknowledged every one.

    Raises aiokafka's ``KafkaError`` subclasses when the cluster cannot be reached or
    refuses a record; records acknowledged before the error stay published.
    ``client_options`` go to the producer (security: ``aiokafka_security(settings)``).
    """
    records = participant_records(
        profiles,
        programme_id=programme_id,
        tenant_id=tenant_id,
        time=clock(),
        source=source,
        topic_prefix=topic_prefix,
        command=command,
    )
    topic = HR_COMMANDS.full_name(topic_prefix)
    if not records:
        return PublishResult(published=0, topic=topic, correlation_id=uuid.uuid4())
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        client_id="binome-hr-import",
        **(client_options or {}),
    )
    try:
        await producer.start()
        await send_traced(producer, records)
    finally:
        await producer.stop()
    correlation = uuid.UUID(_header(records[0], "ce_correlationid"))
    logger.info(
        "published %s %s command(s) to %s, correlation %s",
        len(records),
        command,
        topic,
        correlation,
    )
    return PublishResult(published=len(records), topic=topic, correlation_id=correlation)


def _header(record: KafkaRecord, name: str) -> str:
    return next(value.decode() for header, value in record.headers if header == name)
