"""Sending records straight to Kafka, for the producers that have no outbox (an HR import,
the demo's HR side): in order, acknowledged, and in one trace.

Envoi direct à Kafka pour les producteurs sans outbox (import RH, démo) : dans l'ordre,
acquitté, et dans une seule trace.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from binome_shared.messaging.cloudevents import KafkaRecord
from binome_shared.messaging.tracing import sent_records


async def send_traced(producer: AIOKafkaProducer, records: Sequence[KafkaRecord]) -> None:
    """Send ``records`` in order under one ``send`` span, each carrying its context, and
    wait until the broker has acknowledged every one.

    Everything is queued first, then awaited: batches fill up and order per key is kept.
    Raises aiokafka's errors; records acknowledged before one stay published.
    """
    with sent_records(records) as traced:
        deliveries = [
            await producer.send(
                record.topic, value=record.value, key=record.key, headers=list(record.headers)
            )
            for record in traced
        ]
        for delivery in deliveries:
            await delivery
