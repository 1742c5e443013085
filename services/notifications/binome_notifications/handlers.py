"""What the notifications service does with each message it consumes.

HR commands fill the directory (programmes, people, opt-outs); pairing and sessions events
become triggers, and :class:`~binome_notifications.notifying.Notifier` plans, renders and
records their deliveries — all in the consumer's transaction, so a redelivered event plans
nothing twice. What one event about a pair needs (programme, mentor, mentee, their opt-outs)
is read in one statement. Sending happens later, in :mod:`binome_notifications.sending`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

import asyncpg

from binome_notifications import translation
from binome_notifications.adapters.deliveries import DeliveryLedger, PostgresDeliveries
from binome_notifications.adapters.directory import Directory, PostgresDirectory
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.directory import EnrolledPerson, PairPeople, ProgrammeRecord
from binome_notifications.domain.model import Channel, NotificationKind, Programme
from binome_notifications.domain.policy import OptOut, Preferences
from binome_notifications.domain.triggers import Trigger
from binome_notifications.erased import (
    ErasedMemberError,
    not_erased,
    refuse_erased_members,
    remember_pair_without_erased,
    unless_about_erased,
)
from binome_notifications.notifying import Notifier, cancel_superseded_reminders
from binome_notifications.prerequisites import (
    known_pair,
    known_person,
    known_programme,
    pair_ready,
    participant_ready,
    programme_ready,
    session_ready,
)
from binome_notifications.translation import PairScene, ReceiverSubscription
from binome_shared.contracts.base import Envelope, Event
from binome_shared.contracts.hr_commands import (
    DefineProgramme,
    EnrolParticipant,
    EraseParticipant,
    SetNotificationPreferences,
    UpdateParticipant,
)
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    PairCalledOff,
    PairConsentRequested,
    PairDissolved,
    PairFormed,
)
from binome_shared.contracts.privacy_events import ErasedKind, ErasingService
from binome_shared.contracts.sessions_messages import (
    PairCompleted,
    PairFitConcernRaised,
    PairNeedsHelp,
    PairStalled,
    ProgrammeProgressReported,
    PulseCheckRequested,
    SessionCancelled,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
)
from binome_shared.messaging.erasure_proof import complete_erasure
from binome_shared.messaging.errors import AwaitingPrerequisiteError, RejectedError
from binome_shared.messaging.routes import Routes, RouteTable, UnitOfWork

logger = logging.getLogger(__name__)

DirectoryFactory = Callable[[asyncpg.Connection], Directory]
"""Opens the directory on a unit of work's connection (a fake one in unit tests)."""

LedgerFactory = Callable[[asyncpg.Connection], DeliveryLedger]
"""Opens the delivery ledger on a unit of work's connection (a fake one in unit tests)."""

PairEvent = TypeVar(
    "PairEvent",
    PairStalled,
    PairFitConcernRaised,
    PairCompleted,
    PulseCheckRequested,
    PairNeedsHelp,
)

PairEventTranslation = Callable[[PairEvent, PairScene], Trigger]
"""A translation of a pair's event into a trigger, once the pair's people are known."""

ProgrammeEvent = TypeVar("ProgrammeEvent", MatchingCompleted, ProgrammeProgressReported)

ProgrammeEventTranslation = Callable[[ProgrammeEvent, datetime, Programme], Trigger]
"""A translation of a programme's event (for HR) into a trigger."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _KnownPair:
    """A pair whose programme and two members are all known."""

    people: PairPeople
    record: ProgrammeRecord
    scene: PairScene


class MessageHandlers:
    """The notifications service's message handlers, over a directory and a delivery ledger
    opened per transaction."""

    def __init__(
        self,
        *,
        renderer: NotificationRenderer,
        receivers: Sequence[ReceiverSubscription] = (),
        directory: DirectoryFactory = PostgresDirectory,
        deliveries: LedgerFactory = PostgresDeliveries,
    ) -> None:
        self._notifier = Notifier(renderer)
        self._receivers = tuple(receivers)
        self._directory = directory
        self._deliveries = deliveries

    def routes(self) -> Routes:
        """Which handler takes which message."""
        return (
            RouteTable()
            .on(DefineProgramme, self.define_programme)
            # HR imports arrive by the thousand: a run of them is one executemany.
            .on_batches(EnrolParticipant, self.enrol_participants)
            .on_batches(UpdateParticipant, self.enrol_participants)
            .on(EraseParticipant, self.erase_participant)
            .on(SetNotificationPreferences, self.set_preferences)
            .on(PairFormed, unless_about_erased(self.pair_formed))
            .on(PairDissolved, self.pair_dissolved)
            .on(MatchingCompleted, self.matching_completed)
            .on(SessionScheduled, unless_about_erased(self.session_scheduled))
            .on(SessionRescheduled, unless_about_erased(self.session_scheduled))
            .on(SessionCancelled, unless_about_erased(self.session_cancelled))
            .on(SessionCompleted, unless_about_erased(self.session_completed))
            .on(PairStalled, unless_about_erased(self.pair_stalled))
            .on(PairFitConcernRaised, unless_about_erased(self.pair_fit_concern_raised))
            .on(PairCompleted, unless_about_erased(self.pair_completed))
            .on(ProgrammeProgressReported, self.progress_reported)
            .on(PairConsentRequested, unless_about_erased(self.pair_consent_requested))
            .on(PairCalledOff, unless_about_erased(self.pair_called_off))
            # Pulse check-ins (issue #17)
            .on(PulseCheckRequested, unless_about_erased(self.pulse_check_requested))
            .on(PairNeedsHelp, unless_about_erased(self.pair_needs_help))
            .build()
        )

    # --- HR commands: the directory ----------------------------------------------------

    async def define_programme(self, envelope: Envelope[DefineProgramme], uow: UnitOfWork) -> None:
        """Remember the programme's name, language, HR contact, reminder lead and themes."""
        record = translation.programme_record(
            envelope.data, programme_id=envelope.programme_id, tenant_id=envelope.tenant_id
        )
        await self._directory(uow.conn).save_programme(record)
        uow.release(programme_ready(envelope.tenant_id, envelope.programme_id))

    async def set_preferences(
        self, envelope: Envelope[SetNotificationPreferences], uow: UnitOfWork
    ) -> None:
        """Replace a participant's opt-outs; later notifications respect them (an erased
        person's are ignored)."""
        directory = self._directory(uow.conn)
        if not await not_erased(directory, [envelope], lambda data: data.participant_id):
            return
        try:
            opt_outs = frozenset(
                OptOut(
                    kind=NotificationKind(item.kind) if item.kind else None,
                    channel=Channel(item.channel) if item.channel else None,
                )
                for item in envelope.data.opt_outs
            )
        except ValueError as error:
            raise RejectedError(
                "unknown_notification_kind",
                f"{error}: kinds are {', '.join(kind.value for kind in NotificationKind)} / "
                "type de notification inconnu",
            ) from None
        await directory.save_preferences(
            tenant_id=envelope.tenant_id,
            participant_id=envelope.data.participant_id,
            preferences=Preferences(opt_outs=opt_outs),
        )

    async def enrol_participants(
        self,
        envelopes: Sequence[Envelope[EnrolParticipant | UpdateParticipant]],
        uow: UnitOfWork,
    ) -> None:
        """Remember (or update) participants' names, addresses, languages and time zones: a
        run of an HR import at once (batched)."""
        directory = self._directory(uow.conn)
        envelopes = await not_erased(
            directory, envelopes, lambda data: data.participant.participant_id
        )
        people = [
            EnrolledPerson(
                tenant_id=envelope.tenant_id,
                programme_id=envelope.programme_id,
                person=translation.person_from_profile(envelope.data.participant),
            )
            for envelope in envelopes
        ]
        await directory.save_people(people)
        for enrolled in people:
            uow.release(
                participant_ready(
                    enrolled.tenant_id, enrolled.programme_id, enrolled.person.person_id
                )
            )

    async def erase_participant(
        self, envelope: Envelope[EraseParticipant], uow: UnitOfWork
    ) -> None:
        """GDPR erasure of the person within the tenant: forget their profiles in every
        programme, preferences, delivery history and id in their pairs; clear any programme
        contact that was their address; withdraw the deliveries not sent yet that name them
        (to their partners, to HR); and remember the erasure, so that they are never stored
        nor notified again. A second erasure changes nothing; erasing someone never seen is a
        success."""
        tenant_id, participant_id = envelope.tenant_id, envelope.data.participant_id
        directory = self._directory(uow.conn)
        if not await directory.record_erasure(tenant_id, participant_id, at=uow.now):
            logger.info("participant already erased in the tenant: nothing to do")
            await complete_erasure(uow, envelope, ErasingService.NOTIFICATIONS)
            return
        erased = await directory.erase_person(tenant_id=tenant_id, participant_id=participant_id)
        ledger = self._deliveries(uow.conn)
        forgotten = await ledger.erase_recipient(tenant_id=tenant_id, recipient_id=participant_id)
        withdrawn = await ledger.withdraw_naming(tenant_id=tenant_id, erased=erased, now=uow.now)
        logger.info(
            "participant erased: %d profile(s), %d contact(s), %d pair(s), %d session(s), "
            "%d deliveries forgotten, %d naming them withdrawn",
            erased.profiles,
            erased.contacts,
            len(erased.pair_ids),
            erased.sessions,
            forgotten,
            withdrawn,
        )
        proof = {
            ErasedKind.ADDRESSES: erased.profiles,
            ErasedKind.PROGRAMME_CONTACTS: erased.contacts,
            ErasedKind.PAIR_MEMBERSHIPS: len(erased.pair_ids),
            ErasedKind.SESSION_REVISIONS: erased.sessions,
            ErasedKind.DELIVERIES: forgotten,
            ErasedKind.DELIVERIES_WITHDRAWN: withdrawn,
        }
        await complete_erasure(
            uow,
            envelope,
            ErasingService.NOTIFICATIONS,
            erased=proof,
            pairs=erased.pair_ids,
        )

    # --- pairing events ------------------------------------------------------------------

    async def pair_formed(self, envelope: Envelope[PairFormed], uow: UnitOfWork) -> None:
        """Introduce the two members to each other."""
        known = await self._new_pair(envelope, uow)
        trigger = translation.pair_formed(envelope.data, known.scene)
        await self._notify(trigger, envelope, uow, known=known)
        uow.release(pair_ready(envelope.tenant_id, envelope.data.pair_id))

    async def pair_dissolved(self, envelope: Envelope[PairDissolved], uow: UnitOfWork) -> None:
        """A pair that ended early gets no more reminders."""
        ledger = self._deliveries(uow.conn)
        reminders = await ledger.pending_reminders(envelope.tenant_id, envelope.data.pair_id)
        await ledger.cancel(
            envelope.tenant_id, [reminder.delivery_key for reminder in reminders], now=uow.now
        )

    async def matching_completed(
        self, envelope: Envelope[MatchingCompleted], uow: UnitOfWork
    ) -> None:
        """Send the round's summary to HR (e-mail and subscribed webhooks)."""
        await self._programme_event(envelope, uow, translation.matching_completed)

    # --- sessions events -----------------------------------------------------------------

    async def session_scheduled(
        self, envelope: Envelope[SessionScheduled | SessionRescheduled], uow: UnitOfWork
    ) -> None:
        """Confirm with a calendar invite and plan the reminder; a reschedule updates the
        invite (higher SEQUENCE) and drops the older revision's reminder."""
        event = envelope.data
        known = await self._pair(event.pair_id, envelope, uow)
        session = translation.session_record(event)
        await self._directory(uow.conn).save_session(envelope.tenant_id, session)
        trigger = translation.session_scheduled(
            session,
            known.scene,
            theme=translation.session_theme(
                event.theme, theme_key=session.theme_key, programme=known.record
            ),
        )
        await cancel_superseded_reminders(
            self._deliveries(uow.conn),
            tenant_id=envelope.tenant_id,
            pair_id=event.pair_id,
            trigger=trigger,
            now=uow.now,
        )
        await self._notify(trigger, envelope, uow, known=known, expires_at=session.starts_at)
        uow.release(session_ready(envelope.tenant_id, session.session_id))

    async def session_cancelled(
        self, envelope: Envelope[SessionCancelled], uow: UnitOfWork
    ) -> None:
        """Tell both, with a CANCEL invite, and drop the session's pending reminders."""
        event = envelope.data
        known = await self._pair(event.pair_id, envelope, uow)
        directory = self._directory(uow.conn)
        session_id = translation.session_id(event.pair_id, event.session_number)
        session = await directory.session(
            envelope.tenant_id, session_id
        ) or translation.cancelled_session(event)
        if session is None:
            raise AwaitingPrerequisiteError(
                session_ready(envelope.tenant_id, session_id),
                "cancellation of a session never scheduled here",
            )
        trigger = translation.session_cancelled(
            event,
            session,
            known.scene,
            theme=known.record.theme(session.theme_key),
        )
        await cancel_superseded_reminders(
            self._deliveries(uow.conn),
            tenant_id=envelope.tenant_id,
            pair_id=event.pair_id,
            trigger=trigger,
            now=uow.now,
        )
        await directory.save_session(
            envelope.tenant_id, replace(session, sequence=trigger.sequence)
        )
        await self._notify(trigger, envelope, uow, known=known)

    async def session_completed(
        self, envelope: Envelope[SessionCompleted], uow: UnitOfWork
    ) -> None:
        """Ask both for feedback, after the programme's delay, if the programme asks for it."""
        event = envelope.data
        known = await self._pair(event.pair_id, envelope, uow)
        if not known.record.feedback_after_each_session:
            return
        trigger = translation.session_completed(
            event,
            known.scene,
            theme=known.record.theme(event.theme_key),
        )
        not_before = event.held_at + known.record.feedback_delay
        await self._notify(trigger, envelope, uow, known=known, not_before=not_before)

    async def pair_stalled(self, envelope: Envelope[PairStalled], uow: UnitOfWork) -> None:
        """Nudge the pair and alert HR."""
        await self._pair_event(envelope, uow, translation.pair_stalled)

    async def pair_fit_concern_raised(
        self, envelope: Envelope[PairFitConcernRaised], uow: UnitOfWork
    ) -> None:
        """Alert HR that one side finds the pair not a good fit; the pair itself is not told."""
        await self._pair_event(envelope, uow, translation.pair_fit_concern)

    async def pair_completed(self, envelope: Envelope[PairCompleted], uow: UnitOfWork) -> None:
        """Thank both and send the closing survey."""
        await self._pair_event(envelope, uow, translation.pair_completed)

    async def progress_reported(
        self, envelope: Envelope[ProgrammeProgressReported], uow: UnitOfWork
    ) -> None:
        """Send the programme's progress report to HR (e-mail and subscribed webhooks)."""
        await self._programme_event(envelope, uow, translation.progress_reported)

    # --- participant consent (issue #17) ---------------------------------------------------

    async def pair_consent_requested(
        self, envelope: Envelope[PairConsentRequested], uow: UnitOfWork
    ) -> None:
        """Ask each member to accept or decline the proposed pair by its deadline. The pair's
        members are remembered now, so that a call-off finds them; sessions' messages still
        wait for its PairFormed."""
        known = await self._new_pair(envelope, uow)
        trigger = translation.pair_consent_requested(envelope.data, known.scene)
        await self._notify(trigger, envelope, uow, known=known)

    async def pair_called_off(self, envelope: Envelope[PairCalledOff], uow: UnitOfWork) -> None:
        """Tell both members, in the same neutral words, that the pairing will not go ahead
        (never who declined). A pair never put to them here (its request came before the
        erasure of a member) is left alone: nothing was asked, nothing to take back."""
        tenant_id, directory = envelope.tenant_id, self._directory(uow.conn)
        people = await directory.people_of_pair(tenant_id, envelope.data.pair_id)
        if people is None:
            logger.info("call-off of a pair never put to its members here: nothing to say")
            return
        known = await self._not_erased(directory, people, envelope.time)
        trigger = translation.pair_called_off(envelope.data, known.scene)
        await self._notify(trigger, envelope, uow, known=known)

    # --- pulse check-ins (issue #17) ------------------------------------------------------

    async def pulse_check_requested(
        self, envelope: Envelope[PulseCheckRequested], uow: UnitOfWork
    ) -> None:
        """Ask both members whether the pair is on track, one link per answer."""
        await self._pair_event(envelope, uow, translation.pulse_check_requested)

    async def pair_needs_help(self, envelope: Envelope[PairNeedsHelp], uow: UnitOfWork) -> None:
        """Alert HR that a pair asked for help (sessions says so once per round)."""
        await self._pair_event(envelope, uow, translation.pair_needs_help)

    # --- shared steps --------------------------------------------------------------------

    async def _new_pair(
        self, envelope: Envelope[PairFormed | PairConsentRequested], uow: UnitOfWork
    ) -> _KnownPair:
        """The members a pairing event names, remembered as the tenant's pair (unless one was
        erased, or park the event until they are known)."""
        directory = self._directory(uow.conn)
        pair = translation.pair_record(
            envelope.data, tenant_id=envelope.tenant_id, programme_id=envelope.programme_id
        )
        people = await directory.pair_people(pair)
        try:
            await refuse_erased_members(directory, people)
        except ErasedMemberError:
            await remember_pair_without_erased(directory, uow, pair)
            raise
        known = self._known(people, envelope.time)
        await directory.save_pair(pair)
        return known

    async def _pair(self, pair_id: str, envelope: Envelope[Event], uow: UnitOfWork) -> _KnownPair:
        """The pair of the envelope's tenant (another tenant's pair of the same id is never
        seen: the message is parked until this tenant's PairFormed)."""
        tenant_id, directory = envelope.tenant_id, self._directory(uow.conn)
        people = known_pair(await directory.people_of_pair(tenant_id, pair_id), tenant_id, pair_id)
        return await self._not_erased(directory, people, envelope.time)

    async def _not_erased(
        self, directory: Directory, people: PairPeople, occurred_at: datetime
    ) -> _KnownPair:
        """The stored pair's people, unless a member was erased (:class:`ErasedMemberError`)."""
        await refuse_erased_members(directory, people)
        return self._known(people, occurred_at)

    def _known(self, people: PairPeople, occurred_at: datetime) -> _KnownPair:
        """The pair's programme and members, or park the message until they are known (in
        the pair's tenant)."""
        pair = people.pair
        if pair.mentor_id is None or pair.mentee_id is None:
            raise ErasedMemberError
        tenant, programme_id = pair.tenant_id, pair.programme_id
        record = known_programme(people.programme, tenant, programme_id)
        scene = PairScene(
            occurred_at=occurred_at,
            programme=translation.domain_programme(record, self._receivers),
            mentor=known_person(people.mentor, tenant, programme_id, pair.mentor_id),
            mentee=known_person(people.mentee, tenant, programme_id, pair.mentee_id),
        )
        return _KnownPair(people=people, record=record, scene=scene)

    async def _pair_event(
        self,
        envelope: Envelope[PairEvent],
        uow: UnitOfWork,
        translate: PairEventTranslation[PairEvent],
    ) -> None:
        """The steps of a pair's event that needs nothing but the pair's people."""
        known = await self._pair(envelope.data.pair_id, envelope, uow)
        trigger = translate(envelope.data, known.scene)
        await self._notify(trigger, envelope, uow, known=known)

    async def _notify(
        self,
        trigger: Trigger,
        envelope: Envelope[Event],
        uow: UnitOfWork,
        *,
        known: _KnownPair,
        expires_at: datetime | None = None,
        not_before: datetime | None = None,
    ) -> None:
        """Deliveries of a pair's event: its members' opt-outs came with the pair's people."""
        await self._notifier.notify(
            self._deliveries(uow.conn),
            trigger,
            envelope=envelope,
            now=uow.now,
            pair_id=known.people.pair.pair_id,
            preferences=known.people.preferences,
            expires_at=expires_at,
            not_before=not_before,
        )

    async def _programme_event(
        self,
        envelope: Envelope[ProgrammeEvent],
        uow: UnitOfWork,
        translate: ProgrammeEventTranslation[ProgrammeEvent],
    ) -> None:
        """A programme's event for HR: its contact and webhook receivers, who are
        configuration and have no opt-outs."""
        tenant_id, programme_id = envelope.tenant_id, envelope.programme_id
        record = await self._directory(uow.conn).programme(tenant_id, programme_id)
        programme = translation.domain_programme(
            known_programme(record, tenant_id, programme_id), self._receivers
        )
        await self._notifier.notify(
            self._deliveries(uow.conn),
            translate(envelope.data, envelope.time, programme),
            envelope=envelope,
            now=uow.now,
            pair_id=None,
            preferences={},
        )
