"""The envelope every Binôme message travels in, and the base class of every payload.

A payload class declares its wire identity once, as class keywords::

    class PairFormed(Event, type="binome.pairing.pair-formed", version=(1, 0),
                     topic=PAIRING_EVENTS, key="pair_id"):
        ...

An intermediate base (no ``type``) may declare the ``topic`` and ``key`` its messages share;
they inherit them unless they name their own.

The envelope carries what CloudEvents calls context attributes (id, type, source, time,
subject) plus Binôme's extensions (tenant, programme, correlation, causation, schema
version); the payload is the event's ``data``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from binome_shared.contracts.moments import Moment
from binome_shared.contracts.text import Identifier, Reference
from binome_shared.contracts.topics import TopicSpec


class MessageKind(StrEnum):
    """Commands ask a service to do something and may be refused; events state a fact."""

    COMMAND = "command"
    EVENT = "event"


class SchemaVersion(BaseModel):
    """Major changes break readers and get a new model; minor ones only add optional fields."""

    model_config = ConfigDict(frozen=True)

    major: int = Field(ge=1)
    minor: int = Field(ge=0)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @classmethod
    def parse(cls, text: str) -> SchemaVersion:
        """Read ``"1.2"`` (or ``"1"``, meaning ``"1.0"``); raises ValueError otherwise."""
        major, _, minor = text.strip().partition(".")
        return cls(major=int(major), minor=int(minor or 0))


class Message(BaseModel):
    """Base of every payload: commands from outside and events Binôme publishes.

    A record of a newer minor version is read with its unknown fields ignored, at every
    depth (:meth:`Registry.reader_for <binome_shared.contracts.registry.Registry.reader_for>`),
    so a producer may add an optional field in a minor version without breaking anyone (see
    docs/compatibility.md). At the version this code knows, events ignore unknown top-level
    fields and commands refuse them.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    message_type: ClassVar[str]
    schema_version: ClassVar[SchemaVersion]
    message_kind: ClassVar[MessageKind]
    topic: ClassVar[TopicSpec]
    key_field: ClassVar[str | None]
    """Payload field whose value is the Kafka key; ``None`` keys by programme id."""
    supersedes: ClassVar[type[Message] | None]
    """The previous major version of this message, which :meth:`upcast` converts from."""

    def __init_subclass__(
        cls,
        *,
        type: str | None = None,
        version: tuple[int, int] = (1, 0),
        topic: TopicSpec | None = None,
        key: str | None = None,
        supersedes: type[Message] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if type is None:
            # An intermediate base class, not a wire message; it may name the topic and key
            # that all its messages share, so that each of them need not repeat them.
            if topic is not None:
                cls.topic = topic
                cls.key_field = key
            return
        topic = topic or getattr(cls, "topic", None)
        if topic is None:
            raise TypeError(f"{cls.__name__} declares a type but no topic")
        cls.message_type = type
        cls.schema_version = SchemaVersion(major=version[0], minor=version[1])
        cls.topic = topic
        cls.key_field = key if key is not None else getattr(cls, "key_field", None)
        cls.supersedes = supersedes

    @classmethod
    def upcast(cls, older: Message) -> Self:
        """Turn the previous major version into this one; override when a major changes."""
        raise NotImplementedError(f"{cls.__name__} cannot read {type(older).__name__}")


class Command(Message):
    """A request from outside Binôme (HR platform, calendar tool): untrusted input.

    A field this version does not declare is refused (a typo HR should see on the dead-letter
    topic), unless the record says it is of a newer minor version, which may add fields.
    """

    message_kind: ClassVar[MessageKind] = MessageKind.COMMAND
    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(Message):
    """A fact a Binôme service publishes through its outbox."""

    message_kind: ClassVar[MessageKind] = MessageKind.EVENT


M_co = TypeVar("M_co", bound=Message, covariant=True)
"""Covariant: an envelope is immutable, so an ``Envelope[PairFormed]`` is an
``Envelope[PairFormed | PairDissolved]`` and a handler of the union can take either."""
N = TypeVar("N", bound=Message)


class Envelope(BaseModel, Generic[M_co]):
    """A message with its context: identity, origin, tenant, programme and causality."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(description="Unique event id (CloudEvents `id`); the idempotency key.")
    source: Identifier = Field(
        description="Who produced it (CloudEvents `source`), e.g. `/binome/pairing`.",
        examples=["/binome/pairing", "/hr/workday-acme"],
    )
    time: Moment = Field(
        description="When it happened, timezone-aware, years 1999–2200 (CloudEvents `time`)."
    )
    tenant_id: Identifier = Field(description="The organisation (group) the programme belongs to.")
    programme_id: Identifier = Field(description="The programme this message is about.")
    correlation_id: uuid.UUID = Field(
        description="Shared by every message that stems from the same initial request."
    )
    causation_id: uuid.UUID | None = Field(
        default=None, description="Id of the message that directly caused this one."
    )
    subject: Reference | None = Field(
        default=None, description="What the message is about within the programme (CE `subject`)."
    )
    schema_version: SchemaVersion = Field(description="Version of the payload's schema.")
    data: M_co

    @property
    def type(self) -> str:
        return self.data.message_type

    def partition_key(self) -> str:
        """The Kafka key: the declared payload field, else the programme id."""
        field = self.data.key_field
        if field is None:
            return self.programme_id
        return str(getattr(self.data, field))

    @classmethod
    def new(
        cls,
        data: N,
        *,
        source: str,
        time: datetime,
        tenant_id: str,
        programme_id: str,
        caused_by: Envelope[Any] | None = None,
        subject: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Envelope[N]:
        """A fresh envelope; when ``caused_by`` is given, correlation follows the cause."""
        new_id = event_id or uuid.uuid4()
        return Envelope[N](
            id=new_id,
            source=source,
            time=time,
            tenant_id=tenant_id,
            programme_id=programme_id,
            correlation_id=caused_by.correlation_id if caused_by else new_id,
            causation_id=caused_by.id if caused_by else None,
            subject=subject,
            schema_version=type(data).schema_version,
            data=data,
        )

    def caused(
        self, data: N, *, source: str, time: datetime, subject: str | None = None
    ) -> Envelope[N]:
        """An envelope for a message this one caused, in the same tenant and programme."""
        return Envelope.new(
            data,
            source=source,
            time=time,
            tenant_id=self.tenant_id,
            programme_id=self.programme_id,
            caused_by=self,
            subject=subject,
        )
