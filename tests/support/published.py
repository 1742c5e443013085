"""Facts as the services publish them, for tests of what reads them (the report)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.pairing_events import (
    PairExplanation,
    PairFormed,
    PairProposed,
    PairSide,
)
from binome_shared.contracts.values import LocalisedText
from binome_shared.messaging.cloudevents import ReceivedRecord, decode, encode
from tests.support.programmes import TENANT

AT = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)

PairEvent = TypeVar("PairEvent", PairFormed, PairProposed)


def published(
    data: Message,
    *,
    programme_id: str,
    tenant_id: str = TENANT,
    caused_by: Envelope[Any] | None = None,
) -> Envelope[Message]:
    """``data`` in the envelope a service (or HR) would send it in."""
    return Envelope.new(
        data,
        source="/test",
        time=AT,
        tenant_id=tenant_id,
        programme_id=programme_id,
        caused_by=caused_by,
    )


def read_back(envelope: Envelope[Message]) -> Envelope[Message]:
    """``envelope`` written by the production encoder and read as a consumer reads it: with
    the whole catalogue, an older major upcast to the current one."""
    record = encode(envelope, topic=envelope.data.topic.name)
    return decode(
        ReceivedRecord(
            topic=record.topic,
            partition=0,
            offset=0,
            key=record.key,
            value=record.value,
            headers=list(record.headers),
        ),
        CATALOGUE,
    )


def pair_event(
    event: type[PairEvent],
    pair_id: str,
    mentor: str = "Y1",
    mentee: str = "M1",
    *,
    score: float = 0.7,
    unit: str = "Finance",
) -> PairEvent:
    """A proposed or formed pair: a mentor of Technologie, a mentee of ``unit``."""
    return event(
        pair_id=pair_id,
        round_id="round-1",
        mentor=PairSide(participant_id=mentor, business_unit="Technologie"),
        mentee=PairSide(participant_id=mentee, business_unit=unit),
        explanation=PairExplanation(
            score=score, breakdown={}, summary=LocalisedText(fr="Bon binôme", en="Good pair")
        ),
    )
