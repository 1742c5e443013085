"""The last step of a GDPR erasure in every service: the messaging core's own copies of the
person's messages are forgotten, and the proof is given to the HR platform.

Each service's ``EraseParticipant`` handler ends with :func:`complete_erasure`:

- the outbox keeps a copy of every record it relayed until pruning (days), and of every record
  set aside; those copies hold whatever the message held (a dead-lettered enrolment holds the
  whole profile), so a first erasure deletes the ones of the tenant that name the person;
- the parking table keeps a message, as received, until what it waits for arrives, else
  dead-letters it after days: a parked message that names the person (an enrolment waiting
  for its programme holds the whole profile), or waits for a pair of theirs (a session event
  waiting for a PairFormed that a service skips because a member was erased), is discarded,
  so that no dead letter carries the person's data once they are erased;
- the :class:`~binome_shared.contracts.privacy_events.ErasureCompleted` event goes into the
  outbox in the erasure's own transaction, so there is a proof if and only if the erasure
  committed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import asyncpg

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import EraseParticipant
from binome_shared.contracts.privacy_events import ErasedKind, ErasingService, ErasureCompleted
from binome_shared.db import erasures
from binome_shared.db.status import rows_affected
from binome_shared.messaging.bounded import storable_key
from binome_shared.messaging.parking import prerequisite
from binome_shared.messaging.routes import UnitOfWork


async def complete_erasure(
    uow: UnitOfWork,
    envelope: Envelope[EraseParticipant],
    service: ErasingService,
    *,
    erased: Mapping[ErasedKind, int] | None = None,
    pairs: Sequence[str] = (),
) -> None:
    """Forget the outbox's copies and the parked messages naming the person, then publish the
    proof of this erasure: ``erased`` counts what the service deleted or blanked, by kind;
    None says the person was already erased (the first erasure's time is published, and no
    counts, since nothing changed and no copy naming them was written since).
    ``pairs`` are the ids of the person's pairs the service knows: a message about one of
    them is about the person even when it does not name them (a pair id does not say who is
    in the pair; a session event holds its place); see :func:`discard_parked_about`."""
    tenant_id, participant_id = envelope.tenant_id, envelope.data.participant_id
    if erased is not None:
        copies = await forget_copies_naming(uow.conn, tenant_id, participant_id, pairs=pairs)
        parked = await discard_parked_about(uow.conn, tenant_id, participant_id, pairs=pairs)
        erased = {**erased, ErasedKind.MESSAGE_COPIES: copies, ErasedKind.PARKED_MESSAGES: parked}
    first = (
        await erasures.erased_at(uow.conn, tenant_id, participant_id) if erased is None else None
    )
    proof = ErasureCompleted(
        participant_id=participant_id,
        service=service,
        erased_at=first or uow.now,
        already_erased=erased is None,
        erased={str(kind): count for kind, count in (erased or {}).items() if count > 0},
    )
    await uow.publish(envelope.caused(proof, source=uow.source, time=uow.now))


# A copy names the person when the JSON of the message holds their id, or the id of a pair of
# theirs, as a string value ("participant_id": "E1", "pair_id": "pair-9f…", ...): ids are
# exact, names and addresses are not (a profile may have changed since); a session event
# names only its pair, yet holds the session's place. Only copies already relayed or set
# aside are deleted: a row not yet relayed is the service's announcement still on its way.
_FORGET_COPIES = """
DELETE FROM outbox
WHERE (sent_at IS NOT NULL OR set_aside_at IS NOT NULL)
  AND header_values[array_position(header_names, 'ce_tenantid')] = $1
  AND EXISTS (SELECT FROM unnest($2::bytea[]) AS named WHERE position(named IN value) > 0)
"""


async def forget_copies_naming(
    conn: asyncpg.Connection, tenant_id: str, participant_id: str, *, pairs: Sequence[str] = ()
) -> int:
    """Delete the relayed or set-aside outbox rows of the tenant whose message names the
    person or one of their ``pairs`` by id; how many. Deleting a relayed copy changes nothing
    but the audit trail: the record is on Kafka, and the rows were kept only until pruning."""
    status = await conn.execute(_FORGET_COPIES, tenant_id.encode(), _quoted(participant_id, *pairs))
    return rows_affected(status)


def _quoted(*ids: str) -> list[bytes]:
    """Each id as it stands in a message's JSON (a string value, quotes included)."""
    return [json.dumps(named, ensure_ascii=False).encode() for named in sorted(set(ids))]


# Parked rows keep the record's headers as received: the tenant is the CloudEvents header.
# What waits for a pair waits for ``prerequisite("pair", tenant, pair id)`` in every service.
_DISCARD_PARKED = """
DELETE FROM parked_messages
WHERE waiting_for = ANY($3::text[])
   OR (header_values[array_position(header_names, 'ce_tenantid')] = $1
       AND EXISTS (SELECT FROM unnest($2::bytea[]) AS named WHERE position(named IN value) > 0))
RETURNING value
"""


async def discard_parked_about(
    conn: asyncpg.Connection, tenant_id: str, participant_id: str, *, pairs: Sequence[str] = ()
) -> int:
    """Delete the tenant's parked messages about the person; how many. About the person: a
    message that names them or one of their ``pairs`` by id, or waits for one of those pairs.
    A discarded message about a pair (its data has a ``pair_id``: a PairFormed waiting for
    the person's enrolment) makes that pair one of theirs too, so what waits for it goes as
    well: a session event parked for that PairFormed would wait for nothing.

    Discarded, not dead-lettered nor replayed: a dead letter would copy the person's data to
    a topic no erasure reaches, and what they are about will never be acted upon again."""
    discarded = 0
    seen: set[str] = set()
    about = {participant_id, *pairs}
    while about:
        seen |= about
        rows = await conn.fetch(
            _DISCARD_PARKED,
            tenant_id.encode(),
            _quoted(*about),
            [
                storable_key(prerequisite("pair", tenant_id, pair))
                for pair in sorted(about - {participant_id})
            ],
        )
        discarded += len(rows)
        about = {pair for row in rows if (pair := _pair_of(row["value"]))} - seen
    return discarded


def _pair_of(value: bytes | None) -> str | None:
    """The ``pair_id`` of a message's JSON data, if it has one (any value may be parked:
    what does not decode is about no pair)."""
    try:
        data = json.loads(value or b"")
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return None
    pair = data.get("pair_id") if isinstance(data, dict) else None
    return pair if isinstance(pair, str) else None
