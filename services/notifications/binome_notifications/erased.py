"""What the handlers do about people erased in their tenant: never store them again, and send
nothing about a pair with an erased member (a success, neither parked nor dead-lettered)."""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from binome_notifications.adapters.directory import Directory
from binome_notifications.domain.directory import PairPeople, PairRecord
from binome_notifications.prerequisites import pair_ready
from binome_shared.contracts.base import Envelope, Message
from binome_shared.db.erasures import ERASED_PARTICIPANT
from binome_shared.messaging.routes import UnitOfWork

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)

Handler = Callable[[Envelope[M], UnitOfWork], Awaitable[None]]


class ErasedMemberError(Exception):
    """A member of the pair was erased: nothing is sent about the pair any more (raised
    before anything is written)."""


def unless_about_erased(handler: Handler[M]) -> Handler[M]:
    """The handler, made a success that sends nothing when the pair has an erased member:
    not parked until the person comes back (they never do), nor dead-lettered."""

    @functools.wraps(handler)
    async def handle(envelope: Envelope[M], uow: UnitOfWork) -> None:
        try:
            await handler(envelope, uow)
        except ErasedMemberError:
            logger.info("%s: nothing sent about a pair with an erased member", ERASED_PARTICIPANT)

    return handle


async def refuse_erased_members(directory: Directory, people: PairPeople) -> None:
    """Raise :class:`ErasedMemberError` if a member was erased: removed from the stored pair,
    or missing from the directory because erased (rather than not enrolled yet, which parks
    the message)."""
    pair = people.pair
    if pair.mentor_id is None or pair.mentee_id is None:
        raise ErasedMemberError
    missing = [
        member_id
        for member_id, person in ((pair.mentor_id, people.mentor), (pair.mentee_id, people.mentee))
        if person is None
    ]
    if missing and await directory.erased_among(pair.tenant_id, missing):
        raise ErasedMemberError


async def remember_pair_without_erased(
    directory: Directory, uow: UnitOfWork, pair: PairRecord
) -> None:
    """Keep a pair formed with an erased member as the erasure leaves a pair: known, without
    the erased member's id. Then what still arrives about it (a session event published
    before sessions saw the erasure) is skipped, rather than parked for a PairFormed already
    skipped and dead-lettered with the pair's data days later; what was parked for it
    already is released, so that it is replayed now and skipped the same way."""
    members = [member for member in (pair.mentor_id, pair.mentee_id) if member is not None]
    erased = await directory.erased_among(pair.tenant_id, members)
    await directory.save_pair(
        replace(
            pair,
            mentor_id=None if pair.mentor_id in erased else pair.mentor_id,
            mentee_id=None if pair.mentee_id in erased else pair.mentee_id,
        )
    )
    uow.release(pair_ready(pair.tenant_id, pair.pair_id))


async def not_erased(
    directory: Directory,
    envelopes: Sequence[Envelope[M]],
    person_of: Callable[[M], str],
) -> list[Envelope[M]]:
    """The commands not about a person erased in their tenant; the others are ignored
    (logged): pairing refuses such an enrolment, this service just never stores the person's
    contact fields again."""
    kept: list[Envelope[M]] = []
    for tenant_id, people in itertools.groupby(envelopes, key=lambda e: e.tenant_id):
        batch = list(people)
        erased = await directory.erased_among(tenant_id, [person_of(e.data) for e in batch])
        kept.extend(e for e in batch if person_of(e.data) not in erased)
    if len(kept) < len(envelopes):
        logger.info("%s: %d command(s) ignored", ERASED_PARTICIPANT, len(envelopes) - len(kept))
    return kept
