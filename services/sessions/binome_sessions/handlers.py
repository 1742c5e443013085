"""What the sessions service does with each message it consumes.

Each handler loads the pair's track (locking its row), asks the domain, stores the new state
and writes the public events to the outbox, all in the consumer's transaction. A refusal
becomes a dead letter with its reason; a message about a pair (or programme) not seen yet is
parked until it appears. Everything is looked up within the message's tenant
(``envelope.tenant_id``): another tenant's programme or pair of the same id is never seen.
"""

from __future__ import annotations

import logging

from binome_sessions.domain import CommandRejectedError, PairStatus, PairTrack
from binome_sessions.erasure_census import erasure_census
from binome_sessions.prerequisites import (
    pair_key,
    programme_key,
    waiting_for_pair,
    waiting_for_programme,
)
from binome_sessions.storage import PairRecord, ProgrammeRecord, RepositoryFactory, TrackRepository
from binome_sessions.translation import (
    PAIR_NOT_IN_PROGRAMME,
    UNKNOWN_PAIR,
    ServiceRejectedError,
    command_action,
    public_event,
    rejected,
    service_rejection,
)
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import DefineProgramme, EraseParticipant
from binome_shared.contracts.pairing_events import PairDissolved, PairFormed
from binome_shared.contracts.privacy_events import ErasingService
from binome_shared.contracts.sessions_messages import (
    SESSION_COMMAND_TYPES,
    AnswerPulse,
    SessionCommand,
)
from binome_shared.db.erasures import ERASED_PARTICIPANT
from binome_shared.messaging.erasure_proof import complete_erasure
from binome_shared.messaging.routes import Routes, RouteTable, UnitOfWork

logger = logging.getLogger(__name__)


async def publish_track_events(
    uow: UnitOfWork,
    track: PairTrack,
    *,
    tenant_id: str,
    caused_by: Envelope[Message] | None = None,
) -> int:
    """Write the track's pending events to the outbox as public events; returns how many."""
    published = 0
    for event in track.pull_events():
        await uow.publish(
            Envelope.new(
                public_event(event, track.plan),
                source=uow.source,
                time=uow.now,
                tenant_id=tenant_id,
                programme_id=track.programme_id,
                caused_by=caused_by,
                subject=track.pair_id,
            )
        )
        published += 1
    return published


class MessageHandlers:
    """The sessions service's message handlers, over a repository opened per transaction."""

    def __init__(self, *, repository: RepositoryFactory) -> None:
        self._repository = repository

    def routes(self) -> Routes:
        """Which handler takes which message type."""
        table = (
            RouteTable()
            .on(DefineProgramme, self.on_programme_defined)
            .on(PairFormed, self.on_pair_formed)
            .on(PairDissolved, self.on_pair_dissolved)
            .on(EraseParticipant, self.on_participant_erased)
        )
        for command_type in SESSION_COMMAND_TYPES:
            table.on(command_type, self.on_pair_command)
        return table.build()

    async def on_programme_defined(
        self, envelope: Envelope[DefineProgramme], uow: UnitOfWork
    ) -> None:
        """Store (or replace) the programme's session plan; start pairs that waited for it.

        Pairs already following an earlier plan keep it (see docs/sessions.md, known limits).
        """
        tracks = self._repository(uow.conn)
        programme = ProgrammeRecord(
            programme_id=envelope.programme_id,
            tenant_id=envelope.tenant_id,
            plan=envelope.data.session_plan,
        )
        await tracks.save_programme(programme, defined_at=uow.now, event_id=envelope.id)
        for record in await tracks.unstarted_pairs(programme.tenant_id, programme.programme_id):
            track = _start(record, programme, mentor_trained=False)
            await tracks.save(record, track, now=uow.now)
            await publish_track_events(uow, track, tenant_id=record.tenant_id, caused_by=envelope)
            uow.release(pair_key(record.tenant_id, record.pair_id))
        uow.release(programme_key(programme.tenant_id, programme.programme_id))

    async def on_pair_formed(self, envelope: Envelope[PairFormed], uow: UnitOfWork) -> None:
        """Instantiate the programme's déroulé for a newly formed pair."""
        event, tenant_id = envelope.data, envelope.tenant_id
        tracks = self._repository(uow.conn)
        members = [event.mentor.participant_id, event.mentee.participant_id]
        # Waits for a member's erasure in progress, so that the register read below sees it;
        # an erasure that comes later waits for this pair, and blanks it.
        if await tracks.pair_for_formation(tenant_id, event.pair_id, members) is not None:
            logger.info("pair already followed; formation ignored")
            return
        if await tracks.erased_among(tenant_id, members):
            # Pairing formed it before it saw the erasure: never followed. What was parked
            # for it is replayed now and dropped (see on_pair_command).
            await tracks.unfollow_pair(event.pair_id, tenant_id=tenant_id, at=uow.now)
            logger.info("%s: pair with an erased member not followed", ERASED_PARTICIPANT)
            uow.release(pair_key(tenant_id, event.pair_id))
            return
        programme = await tracks.programme(tenant_id, envelope.programme_id)
        if programme is None:
            raise waiting_for_programme(tenant_id, envelope.programme_id)
        track = PairTrack.start(
            pair_id=event.pair_id,
            programme_id=envelope.programme_id,
            plan=programme.plan,
            mentor_id=event.mentor.participant_id,
            mentee_id=event.mentee.participant_id,
            mentor_business_unit=event.mentor.business_unit,
            mentee_business_unit=event.mentee.business_unit,
            mentor_trained=event.mentor_trained,
            formed_at=envelope.time,
        )
        await tracks.add(track, tenant_id=tenant_id, formed_by_event_id=envelope.id, now=uow.now)
        await publish_track_events(uow, track, tenant_id=tenant_id, caused_by=envelope)
        uow.release(pair_key(tenant_id, event.pair_id))

    async def on_pair_dissolved(self, envelope: Envelope[PairDissolved], uow: UnitOfWork) -> None:
        """Stop following a dissolved pair: its appointments are cancelled."""
        tracks = self._repository(uow.conn)
        tenant_id, pair_id = envelope.tenant_id, envelope.data.pair_id
        if await tracks.is_unfollowed(tenant_id, pair_id):
            logger.info("%s: dissolution of a pair never followed", ERASED_PARTICIPANT)
            return
        record, track = await _pair(tracks, tenant_id, pair_id)
        if track.status is not PairStatus.ACTIVE:
            logger.info("pair already %s; dissolution changes nothing", track.status)
            return
        track.dissolve(now=uow.now)
        await tracks.save(record, track, now=uow.now)
        await publish_track_events(uow, track, tenant_id=record.tenant_id, caused_by=envelope)

    async def on_participant_erased(
        self, envelope: Envelope[EraseParticipant], uow: UnitOfWork
    ) -> None:
        """GDPR erasure of the person within the tenant: blank the free text of every pair
        they are in (ids and figures stay, so that programme progress holds) and remember
        the erasure, so that their pairs are never followed again. A second erasure changes
        nothing; erasing someone never seen is a success."""
        tracks = self._repository(uow.conn)
        tenant_id, participant_id = envelope.tenant_id, envelope.data.participant_id
        if not await tracks.record_erasure(tenant_id, participant_id, at=uow.now):
            logger.info("participant already erased in the tenant: nothing to do")
            await complete_erasure(uow, envelope, ErasingService.SESSIONS)
            return
        erased = 0
        pairs = await tracks.pairs_of_person(tenant_id, participant_id)
        held = erasure_census(pairs)  # before the blanking below
        for record in pairs:
            if record.track is None:
                continue  # a pair whose track never started holds no free text
            record.track.erase_free_text()
            await tracks.save(record, record.track, now=uow.now)
            erased += 1
        logger.info("erasure applied to %d pair(s)", erased)
        await complete_erasure(
            uow,
            envelope,
            ErasingService.SESSIONS,
            erased=held,
            pairs=[record.pair_id for record in pairs],
        )

    async def on_pair_command(self, envelope: Envelope[SessionCommand], uow: UnitOfWork) -> None:
        """Apply a session, objective or feedback command to its pair's track.

        The pair is looked up within the command's tenant only: a pair id another tenant also
        has (or only another tenant has) is a pair this tenant has not had formed yet, so the
        command waits for this tenant's PairFormed, and is dead-lettered if none comes.
        """
        command, tenant_id = envelope.data, envelope.tenant_id
        tracks = self._repository(uow.conn)
        # Read and locked once: the erasure check, the refusal and the change all use it.
        locked = await tracks.pair_for_update(tenant_id, command.pair_id)
        if await _about_an_erased_person(tracks, tenant_id, command.pair_id, locked):
            # Dropped, not dead-lettered: a dead letter would keep the free text the erasure
            # removed. This covers commands parked before the pair was known, replayed later.
            logger.info("%s: command about an erased person's pair dropped", ERASED_PARTICIPANT)
            return
        if isinstance(command, AnswerPulse):
            _refuse_unknown_pair(locked, command.pair_id)
        record, track = _followed(locked, tenant_id, command.pair_id)
        if record.programme_id != envelope.programme_id:
            raise service_rejection(PAIR_NOT_IN_PROGRAMME, command.pair_id)
        version = track.version
        try:
            command_action(command)(track, uow.now)
        except (CommandRejectedError, ServiceRejectedError) as error:
            raise rejected(error) from error
        if track.version == version:
            return  # the same value again: nothing changed, nothing to say
        await tracks.save(record, track, now=uow.now)
        await publish_track_events(uow, track, tenant_id=record.tenant_id, caused_by=envelope)


async def _pair(
    tracks: TrackRepository, tenant_id: str, pair_id: str
) -> tuple[PairRecord, PairTrack]:
    """The tenant's pair and its track, locked; or park the message until they exist."""
    return _followed(await tracks.pair_for_update(tenant_id, pair_id), tenant_id, pair_id)


def _followed(
    record: PairRecord | None, tenant_id: str, pair_id: str
) -> tuple[PairRecord, PairTrack]:
    """The pair read and its track; or park the message until they exist."""
    if record is None:
        raise waiting_for_pair(tenant_id, pair_id)
    if record.track is None:
        raise waiting_for_programme(tenant_id, record.programme_id)
    return record, record.track


def _refuse_unknown_pair(record: PairRecord | None, pair_id: str) -> None:
    """Refuse at once a command that only answers what the service asked of a pair it knows
    (a pulse answer): unlike a calendar command racing the pair's formation, it cannot be
    early, so waiting for the pair would only delay the refusal."""
    if record is None or record.track is None:
        raise service_rejection(UNKNOWN_PAIR, pair_id)


async def _about_an_erased_person(
    tracks: TrackRepository, tenant_id: str, pair_id: str, record: PairRecord | None
) -> bool:
    """Whether the tenant's pair (``record``, as read) has an erased member (or was never
    followed for that reason)."""
    if record is None:
        return await tracks.is_unfollowed(tenant_id, pair_id)
    members = [record.mentor_id, record.mentee_id]
    return bool(await tracks.erased_among(tenant_id, members))


def _start(record: PairRecord, programme: ProgrammeRecord, *, mentor_trained: bool) -> PairTrack:
    """The track of a pair recorded before its programme's plan was known."""
    return PairTrack.start(
        pair_id=record.pair_id,
        programme_id=record.programme_id,
        plan=programme.plan,
        mentor_id=record.mentor_id,
        mentee_id=record.mentee_id,
        mentor_business_unit=record.mentor_business_unit,
        mentee_business_unit=record.mentee_business_unit,
        mentor_trained=mentor_trained,
        formed_at=record.formed_at,
    )
