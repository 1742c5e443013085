"""What the notifications service does with each message it consumes.

HR commands fill the directory (programmes, people); pairing and sessions events become
triggers, the planner turns a trigger into notifications, and each notification is rendered
and recorded as a delivery with its sending job — all in the consumer's transaction, so a
redelivered event plans nothing twice. Sending happens later, in :mod:`.adapters.dispatch`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from binome_notifications import translation
from binome_notifications.adapters import deliveries, directory
from binome_notifications.adapters.directory import HR_CONTACT_ID_PREFIX, ProgrammeRecord
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.model import (
    Channel,
    Notification,
    NotificationKind,
    Person,
    Programme,
)
from binome_notifications.domain.planning import plan_notifications
from binome_notifications.domain.policy import OptOut, Preferences
from binome_notifications.domain.triggers import Trigger
from binome_notifications.translation import ReceiverSubscription
from binome_shared.contracts import hr_commands, pairing_events, sessions_messages
from binome_shared.contracts.base import Envelope, Message
from binome_shared.messaging.consumer import Batched, Route, UnitOfWork
from binome_shared.messaging.errors import AwaitingPrerequisiteError, RejectedError

logger = logging.getLogger(__name__)


class PairEventTranslation(Protocol):
    """A translation of a pair's event into a trigger, once the pair's people are known."""

    def __call__(
        self,
        event: Any,
        /,
        *,
        occurred_at: datetime,
        programme: Programme,
        mentor: Person,
        mentee: Person,
    ) -> Trigger: ...


def programme_ready(programme_id: str) -> str:
    """What a message waits for until DefineProgramme is seen."""
    return f"programme:{programme_id}"


def participant_ready(programme_id: str, participant_id: str) -> str:
    """What a message waits for until the participant is enrolled."""
    return f"participant:{programme_id}:{participant_id}"


def pair_ready(pair_id: str) -> str:
    """What a session event waits for until PairFormed is seen."""
    return f"pair:{pair_id}"


def session_ready(session_id: str) -> str:
    """What a cancellation waits for until the session was scheduled."""
    return f"session:{session_id}"


class NotificationHandlers:
    """One handler per consumed message type; dependencies come in through the constructor."""

    def __init__(
        self, *, renderer: NotificationRenderer, receivers: Sequence[ReceiverSubscription] = ()
    ) -> None:
        self._renderer = renderer
        self._receivers = tuple(receivers)

    def routes(self) -> Mapping[type[Message], Route]:
        """Which handler takes which message."""
        return {
            hr_commands.DefineProgramme: self.define_programme,
            # HR imports arrive by the thousand: a run of them is one executemany.
            hr_commands.EnrolParticipant: Batched(self.enrol_participants),
            hr_commands.UpdateParticipant: Batched(self.enrol_participants),
            hr_commands.EraseParticipant: self.erase_participant,
            hr_commands.SetNotificationPreferences: self.set_preferences,
            pairing_events.PairFormed: self.pair_formed,
            pairing_events.PairDissolved: self.pair_dissolved,
            pairing_events.MatchingCompleted: self.matching_completed,
            sessions_messages.SessionScheduled: self.session_scheduled,
            sessions_messages.SessionRescheduled: self.session_scheduled,
            sessions_messages.SessionCancelled: self.session_cancelled,
            sessions_messages.SessionCompleted: self.session_completed,
            sessions_messages.PairStalled: self.pair_stalled,
            sessions_messages.PairFitConcernRaised: self.pair_fit_concern_raised,
            sessions_messages.PairCompleted: self.pair_completed,
            sessions_messages.ProgrammeProgressReported: self.progress_reported,
        }

    # --- HR commands: the directory ----------------------------------------------------

    async def define_programme(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Remember the programme's name, language, HR contact, reminder lead and themes."""
        command: hr_commands.DefineProgramme = envelope.data
        record = translation.programme_record(
            command, programme_id=envelope.programme_id, tenant_id=envelope.tenant_id
        )
        await directory.save_programme(uow.conn, record)
        uow.release(programme_ready(envelope.programme_id))

    async def set_preferences(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Replace a participant's opt-outs; later notifications respect them."""
        command: hr_commands.SetNotificationPreferences = envelope.data
        try:
            opt_outs = frozenset(
                OptOut(
                    kind=NotificationKind(item.kind) if item.kind else None,
                    channel=Channel(item.channel) if item.channel else None,
                )
                for item in command.opt_outs
            )
        except ValueError as error:
            raise RejectedError(
                "unknown_notification_kind",
                f"{error}: kinds are {', '.join(kind.value for kind in NotificationKind)} / "
                "type de notification inconnu",
            ) from None
        await directory.save_preferences(
            uow.conn,
            tenant_id=envelope.tenant_id,
            participant_id=command.participant_id,
            preferences=Preferences(opt_outs=opt_outs),
        )

    async def enrol_participants(self, envelopes: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
        """Remember (or update) participants' names, addresses, languages and time zones: a
        run of an HR import at once (Batched)."""
        people = []
        for envelope in envelopes:
            command: hr_commands.EnrolParticipant | hr_commands.UpdateParticipant = envelope.data
            person = translation.person_from_profile(command.participant)
            people.append((envelope.tenant_id, envelope.programme_id, person))
        await directory.save_people(uow.conn, people)
        for _, programme_id, person in people:
            uow.release(participant_ready(programme_id, person.person_id))

    async def erase_participant(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """GDPR: forget the person's address, preferences and delivery history."""
        command: hr_commands.EraseParticipant = envelope.data
        erased = await directory.erase_person(
            uow.conn, tenant_id=envelope.tenant_id, participant_id=command.participant_id
        )
        forgotten = await deliveries.erase_recipient(
            uow.conn, tenant_id=envelope.tenant_id, recipient_id=command.participant_id
        )
        logger.info("participant erased: %d profile(s), %d deliveries", erased, forgotten)

    # --- pairing events ------------------------------------------------------------------

    async def pair_formed(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Introduce the two members to each other."""
        event: pairing_events.PairFormed = envelope.data
        pair = translation.pair_record(event, programme_id=envelope.programme_id)
        record, programme = await self._programme(uow.conn, envelope.programme_id)
        mentor = await _person(uow.conn, envelope.programme_id, pair.mentor_id)
        mentee = await _person(uow.conn, envelope.programme_id, pair.mentee_id)
        await directory.save_pair(uow.conn, pair)
        trigger = translation.pair_formed(
            event, occurred_at=envelope.time, programme=programme, mentor=mentor, mentee=mentee
        )
        await self._plan(trigger, envelope=envelope, uow=uow, record=record, pair_id=pair.pair_id)
        uow.release(pair_ready(pair.pair_id))

    async def pair_dissolved(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """A pair that ended early gets no more reminders."""
        event: pairing_events.PairDissolved = envelope.data
        await deliveries.cancel_pending_reminders_of_pair(
            uow.conn, pair_id=event.pair_id, now=uow.now
        )

    async def matching_completed(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Send the round's summary to HR (e-mail and subscribed webhooks)."""
        event: pairing_events.MatchingCompleted = envelope.data
        record, programme = await self._programme(uow.conn, envelope.programme_id)
        trigger = translation.matching_completed(
            event, occurred_at=envelope.time, programme=programme
        )
        await self._plan(trigger, envelope=envelope, uow=uow, record=record, pair_id=None)

    # --- sessions events -----------------------------------------------------------------

    async def session_scheduled(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Confirm with a calendar invite and plan the reminder; a reschedule updates the
        invite (higher SEQUENCE) and drops the older revision's reminder."""
        event: sessions_messages.SessionScheduled | sessions_messages.SessionRescheduled = (
            envelope.data
        )
        record, programme, mentor, mentee = await self._pair_context(uow.conn, event.pair_id)
        session = translation.session_record(event)
        await directory.save_session(uow.conn, session)
        trigger = translation.session_scheduled(
            session,
            occurred_at=envelope.time,
            programme=programme,
            theme=translation.session_theme(
                event.theme, theme_key=session.theme_key, programme=record
            ),
            mentor=mentor,
            mentee=mentee,
        )
        await deliveries.cancel_superseded_reminders(
            uow.conn, pair_id=event.pair_id, trigger=trigger, now=uow.now
        )
        await self._plan(
            trigger,
            envelope=envelope,
            uow=uow,
            record=record,
            pair_id=event.pair_id,
            expires_at=session.starts_at,
        )
        uow.release(session_ready(session.session_id))

    async def session_cancelled(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Tell both, with a CANCEL invite, and drop the session's pending reminders."""
        event: sessions_messages.SessionCancelled = envelope.data
        record, programme, mentor, mentee = await self._pair_context(uow.conn, event.pair_id)
        session_id = translation.session_id(event.pair_id, event.session_number)
        session = await directory.load_session(
            uow.conn, session_id
        ) or translation.cancelled_session(event)
        if session is None:
            raise AwaitingPrerequisiteError(
                session_ready(session_id), "cancellation of a session never scheduled here"
            )
        trigger = translation.session_cancelled(
            event,
            session,
            occurred_at=envelope.time,
            programme=programme,
            theme=record.theme(session.theme_key),
            mentor=mentor,
            mentee=mentee,
        )
        await deliveries.cancel_superseded_reminders(
            uow.conn, pair_id=event.pair_id, trigger=trigger, now=uow.now
        )
        await directory.save_session(uow.conn, replace(session, sequence=trigger.sequence))
        await self._plan(trigger, envelope=envelope, uow=uow, record=record, pair_id=event.pair_id)

    async def session_completed(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Ask both for feedback, after the programme's delay, if the programme asks for it."""
        event: sessions_messages.SessionCompleted = envelope.data
        record, programme, mentor, mentee = await self._pair_context(uow.conn, event.pair_id)
        if not record.feedback_after_each_session:
            return
        trigger = translation.session_completed(
            event,
            occurred_at=envelope.time,
            programme=programme,
            theme=record.theme(event.theme_key),
            mentor=mentor,
            mentee=mentee,
        )
        await self._plan(
            trigger,
            envelope=envelope,
            uow=uow,
            record=record,
            pair_id=event.pair_id,
            not_before=event.held_at + record.feedback_delay,
        )

    async def pair_stalled(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Nudge the pair and alert HR."""
        await self._plan_pair_event(envelope, uow, translation.pair_stalled)

    async def pair_fit_concern_raised(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Alert HR that one side finds the pair not a good fit; the pair itself is not told."""
        await self._plan_pair_event(envelope, uow, translation.pair_fit_concern)

    async def progress_reported(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Send the programme's progress report to HR (e-mail and subscribed webhooks)."""
        event: sessions_messages.ProgrammeProgressReported = envelope.data
        record, programme = await self._programme(uow.conn, envelope.programme_id)
        trigger = translation.progress_reported(
            event, occurred_at=envelope.time, programme=programme
        )
        await self._plan(trigger, envelope=envelope, uow=uow, record=record, pair_id=None)

    async def pair_completed(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Thank both and send the closing survey."""
        await self._plan_pair_event(envelope, uow, translation.pair_completed)

    # --- shared steps --------------------------------------------------------------------

    async def _programme(
        self, conn: asyncpg.Connection, programme_id: str
    ) -> tuple[ProgrammeRecord, Programme]:
        record = await directory.load_programme(conn, programme_id)
        if record is None:
            raise AwaitingPrerequisiteError(
                programme_ready(programme_id), "programme not defined yet (DefineProgramme)"
            )
        return record, translation.domain_programme(record, self._receivers)

    async def _pair_context(
        self, conn: asyncpg.Connection, pair_id: str
    ) -> tuple[ProgrammeRecord, Programme, Person, Person]:
        pair = await directory.load_pair(conn, pair_id)
        if pair is None:
            raise AwaitingPrerequisiteError(pair_ready(pair_id), "pair not formed yet (PairFormed)")
        record, programme = await self._programme(conn, pair.programme_id)
        mentor = await _person(conn, pair.programme_id, pair.mentor_id)
        mentee = await _person(conn, pair.programme_id, pair.mentee_id)
        return record, programme, mentor, mentee

    async def _plan_pair_event(
        self, envelope: Envelope[Any], uow: UnitOfWork, translate: PairEventTranslation
    ) -> None:
        """The steps of a pair's event that needs nothing but the pair's people."""
        event = envelope.data
        record, programme, mentor, mentee = await self._pair_context(uow.conn, event.pair_id)
        trigger = translate(
            event, occurred_at=envelope.time, programme=programme, mentor=mentor, mentee=mentee
        )
        await self._plan(trigger, envelope=envelope, uow=uow, record=record, pair_id=event.pair_id)

    async def _plan(
        self,
        trigger: Trigger,
        *,
        envelope: Envelope[Any],
        uow: UnitOfWork,
        record: ProgrammeRecord,
        pair_id: str | None,
        expires_at: datetime | None = None,
        not_before: datetime | None = None,
    ) -> None:
        planned = 0
        for planned_notification in plan_notifications(trigger):
            if not await _wanted(uow.conn, planned_notification, tenant_id=record.tenant_id):
                continue
            notification = planned_notification
            if not_before is not None and notification.send_at < not_before:
                notification = replace(notification, send_at=not_before)
            message = (
                self._renderer.render_webhook(notification)
                if notification.channel is Channel.WEBHOOK
                else self._renderer.render_email(notification)
            )
            created = await deliveries.plan(
                uow.conn,
                notification=notification,
                message=message,
                tenant_id=envelope.tenant_id,
                caused_by=envelope.id,
                correlation_id=envelope.correlation_id,
                pair_id=pair_id,
                due_at=_due_at(notification, now=uow.now),
                expires_at=(
                    expires_at if notification.kind is NotificationKind.SESSION_REMINDER else None
                ),
            )
            planned += int(created)
        logger.info("%s planned %d deliveries", envelope.type, planned)


async def _person(conn: asyncpg.Connection, programme_id: str, participant_id: str) -> Person:
    person = await directory.load_person(
        conn, programme_id=programme_id, participant_id=participant_id
    )
    if person is None:
        raise AwaitingPrerequisiteError(
            participant_ready(programme_id, participant_id),
            "participant not enrolled (EnrolParticipant) or erased",
        )
    return person


async def _wanted(conn: asyncpg.Connection, notification: Notification, *, tenant_id: str) -> bool:
    """Opt-outs apply to participants; HR contacts and webhook receivers are configuration."""
    recipient_id = notification.recipient.recipient_id
    if notification.channel is Channel.WEBHOOK or recipient_id.startswith(HR_CONTACT_ID_PREFIX):
        return True
    preferences = await directory.load_preferences(
        conn, tenant_id=tenant_id, participant_id=recipient_id
    )
    return preferences.allows(notification.kind, notification.channel)


def _due_at(notification: Notification, *, now: datetime) -> datetime:
    """Immediate kinds are due at the service's "now", whatever the event's own clock said;
    reminders and delayed requests at their time."""
    if notification.send_at <= notification.occurred_at:
        return now
    return notification.send_at
