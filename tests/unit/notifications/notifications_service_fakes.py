"""In-memory stand-ins for the notifications service's directory, ledger and outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from binome_notifications.adapters.deliveries import PendingReminder, PlannedDelivery
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.directory import (
    EnrolledPerson,
    ErasedPerson,
    PairPeople,
    PairRecord,
    ProgrammeRecord,
    SessionRecord,
)
from binome_notifications.domain.model import NotificationKind, Person
from binome_notifications.domain.policy import Preferences
from binome_notifications.domain.sending import DeliveryStatus
from binome_notifications.handlers import MessageHandlers
from binome_notifications.translation import ReceiverSubscription
from binome_shared.contracts.base import Envelope
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import UnitOfWork, dispatch
from tests.support.erasures import FakeErasures

RENDERER = NotificationRenderer(
    public_base_url="https://rh.example.com", organizer_email="binome@example.com"
)


class FakeDirectory(FakeErasures):
    """A Directory over dictionaries keyed by tenant first, as the tables are; counts the
    reads a handler makes."""

    def __init__(self) -> None:
        super().__init__()
        self.programmes: dict[tuple[str, str], ProgrammeRecord] = {}
        """(tenant, programme) → programme."""
        self.people: dict[tuple[str, str, str], Person] = {}
        """(tenant, programme, participant) → person."""
        self.preferences: dict[tuple[str, str], Preferences] = {}
        self.pairs: dict[tuple[str, str], PairRecord] = {}
        self.sessions: dict[tuple[str, str], SessionRecord] = {}
        self.reads = 0

    async def save_programme(self, programme: ProgrammeRecord) -> None:
        self.programmes[programme.tenant_id, programme.programme_id] = programme

    async def programme(self, tenant_id: str, programme_id: str) -> ProgrammeRecord | None:
        self.reads += 1
        return self.programmes.get((tenant_id, programme_id))

    async def save_people(self, people: Sequence[EnrolledPerson]) -> None:
        for enrolled in people:
            key = (enrolled.tenant_id, enrolled.programme_id, enrolled.person.person_id)
            self.people[key] = enrolled.person

    async def erase_person(self, *, tenant_id: str, participant_id: str) -> ErasedPerson:
        erased = [key for key in self.people if key[0] == tenant_id and key[2] == participant_id]
        addresses = frozenset(self.people.pop(key).email.lower() for key in erased)
        self.preferences.pop((tenant_id, participant_id), None)
        contacts = [
            key
            for key, programme in self.programmes.items()
            if key[0] == tenant_id and (programme.contact_email or "").lower() in addresses
        ]
        for key in contacts:
            self.programmes[key] = replace(
                self.programmes[key], contact_name=None, contact_email=None
            )
        pair_ids = []
        for key, pair in self.pairs.items():
            if key[0] == tenant_id and participant_id in (pair.mentor_id, pair.mentee_id):
                self.pairs[key] = replace(
                    pair,
                    mentor_id=None if pair.mentor_id == participant_id else pair.mentor_id,
                    mentee_id=None if pair.mentee_id == participant_id else pair.mentee_id,
                )
                pair_ids.append(pair.pair_id)
        return ErasedPerson(
            profiles=len(erased),
            addresses=addresses,
            pair_ids=tuple(pair_ids),
            contacts=len(contacts),
        )

    async def save_preferences(
        self, *, tenant_id: str, participant_id: str, preferences: Preferences
    ) -> None:
        self.preferences[(tenant_id, participant_id)] = preferences

    async def save_pair(self, pair: PairRecord) -> None:
        self.pairs[pair.tenant_id, pair.pair_id] = pair

    async def pair_people(self, pair: PairRecord) -> PairPeople:
        self.reads += 1
        tenant = pair.tenant_id
        preferences = {}
        for participant_id in (pair.mentor_id, pair.mentee_id):
            found = self.preferences.get((tenant, participant_id or ""))
            if participant_id is not None and found is not None:
                preferences[participant_id] = found
        return PairPeople(
            pair=pair,
            programme=self.programmes.get((tenant, pair.programme_id)),
            mentor=self._person(tenant, pair.programme_id, pair.mentor_id),
            mentee=self._person(tenant, pair.programme_id, pair.mentee_id),
            preferences=preferences,
        )

    async def people_of_pair(self, tenant_id: str, pair_id: str) -> PairPeople | None:
        pair = self.pairs.get((tenant_id, pair_id))
        if pair is None:
            self.reads += 1
            return None
        return await self.pair_people(pair)

    async def save_session(self, tenant_id: str, session: SessionRecord) -> None:
        known = self.sessions.get((tenant_id, session.session_id))
        if known is None or known.sequence <= session.sequence:
            self.sessions[tenant_id, session.session_id] = session

    async def session(self, tenant_id: str, session_id: str) -> SessionRecord | None:
        self.reads += 1
        return self.sessions.get((tenant_id, session_id))

    def _person(
        self, tenant_id: str, programme_id: str, participant_id: str | None
    ) -> Person | None:
        if participant_id is None:
            return None
        return self.people.get((tenant_id, programme_id, participant_id))


@dataclass
class FakeDelivery:
    planned: PlannedDelivery
    status: DeliveryStatus = DeliveryStatus.PENDING


@dataclass
class FakeDeliveries:
    """A DeliveryLedger over a dictionary, keyed by (tenant, delivery key) as the real one
    is."""

    deliveries: dict[tuple[str, str], FakeDelivery] = field(default_factory=dict)
    statements: int = 0

    async def plan(self, deliveries: Sequence[PlannedDelivery]) -> int:
        self.statements += 1
        created = 0
        for planned in deliveries:
            key = (planned.tenant_id, planned.notification.delivery_key)
            if key not in self.deliveries:
                self.deliveries[key] = FakeDelivery(planned)
                created += 1
        return created

    async def pending_reminders(self, tenant_id: str, pair_id: str) -> list[PendingReminder]:
        return [
            PendingReminder(
                delivery_key=key,
                kind=delivery.planned.notification.kind,
                subject_id=delivery.planned.notification.subject_id,
            )
            for (tenant, key), delivery in self.deliveries.items()
            if tenant == tenant_id
            and delivery.planned.pair_id == pair_id
            and delivery.planned.notification.kind is NotificationKind.SESSION_REMINDER
            and delivery.status is DeliveryStatus.PENDING
        ]

    async def cancel(self, tenant_id: str, delivery_keys: Sequence[str], *, now: datetime) -> None:
        del now
        for key in delivery_keys:
            if self.deliveries[tenant_id, key].status is DeliveryStatus.PENDING:
                self.deliveries[tenant_id, key].status = DeliveryStatus.CANCELLED

    async def withdraw_naming(self, *, tenant_id: str, erased: ErasedPerson, now: datetime) -> int:
        del now
        withdrawn = 0
        for (tenant, _), delivery in self.deliveries.items():
            message = delivery.planned.message
            to_address = getattr(message, "to_address", "").lower()
            if (
                tenant == tenant_id
                and delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
                and (delivery.planned.pair_id in erased.pair_ids or to_address in erased.addresses)
            ):
                delivery.status = DeliveryStatus.CANCELLED
                withdrawn += 1
        return withdrawn

    async def erase_recipient(self, *, tenant_id: str, recipient_id: str) -> int:
        erased = [
            key
            for key, delivery in self.deliveries.items()
            if delivery.planned.tenant_id == tenant_id
            and delivery.planned.notification.recipient.recipient_id == recipient_id
        ]
        for key in erased:
            del self.deliveries[key]
        return len(erased)

    def planned(self, status: DeliveryStatus = DeliveryStatus.PENDING) -> list[PlannedDelivery]:
        return [d.planned for d in self.deliveries.values() if d.status is status]

    def kinds_to(self) -> list[tuple[str, str]]:
        """(kind, recipient id) of the pending deliveries, in planning order."""
        return [
            (planned.notification.kind.value, planned.notification.recipient.recipient_id)
            for planned in self.planned()
        ]


@dataclass
class ListOutbox:
    """The outbox, as the list of what was published (only proofs of erasure are)."""

    envelopes: list[Envelope[Any]] = field(default_factory=list)

    async def add(self, conn: Any, envelope: Envelope[Any]) -> None:
        del conn
        self.envelopes.append(envelope)


@dataclass
class Service:
    """The handlers over fakes, and a way to hand them one message as the consumer does."""

    directory: FakeDirectory = field(default_factory=FakeDirectory)
    deliveries: FakeDeliveries = field(default_factory=FakeDeliveries)
    receivers: Sequence[ReceiverSubscription] = ()
    released: list[str] = field(default_factory=list)
    outbox: ListOutbox = field(default_factory=ListOutbox)

    async def consume(self, *envelopes: Envelope[Any], now: datetime) -> None:
        handlers = MessageHandlers(
            renderer=RENDERER,
            receivers=self.receivers,
            directory=lambda conn: self.directory,
            deliveries=lambda conn: self.deliveries,
        )
        routes = handlers.routes()
        for envelope in envelopes:
            uow = UnitOfWork(
                conn=self.directory.register_connection(),
                outbox=cast(Outbox, self.outbox),
                now=now,
                source="/binome/notifications",
            )
            await dispatch(routes[type(envelope.data)], [envelope], uow)
            self.released.extend(uow.released)
