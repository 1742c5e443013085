"""Knowing that every service has applied an ``EraseParticipant``.

Two ways: :func:`processed_everywhere` (each service's ``processed_messages`` holds the
command's id: it was handled, whatever it did) works on any version;
:func:`proven_everywhere` waits for each service's ``ErasureCompleted`` proof on
``binome.privacy.events`` (read raw, so this module does not need the contract to import).
A test switches from one to the other by changing the one call.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.waiting import eventually

SERVICES = ("pairing", "sessions", "notifications")
PRIVACY_TOPIC = "binome.privacy.events"
_PROCESSED = "SELECT count(*) FROM processed_messages WHERE event_id = $1"


async def processed_everywhere(
    database: ProvisionedDatabase, envelope: Any, *, timeout: float = 60
) -> None:
    for service in SERVICES:
        await eventually(
            lambda service=service: database.fetchval(service, _PROCESSED, envelope.id),  # type: ignore[misc]
            1,
            timeout=timeout,
        )


async def proven_everywhere(kafka: Kafka, envelope: Any, *, timeout: float = 60) -> None:
    """Each of the three services published an ``ErasureCompleted`` caused by ``envelope``."""
    records = await kafka.read_all(
        f"{kafka.prefix}{PRIVACY_TOPIC}", expect=len(SERVICES), timeout=timeout
    )
    proving = set()
    for record in records:
        headers = dict(record.headers or ())
        if headers.get("ce_causationid", b"").decode() == str(envelope.id):
            proving.add(json.loads(record.value)["service"])
    assert proving == set(SERVICES), f"ErasureCompleted from {sorted(proving)} only"
