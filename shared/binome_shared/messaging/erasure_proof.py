"""The last step of a GDPR erasure in every service: the messaging core's own copies of the
person's messages are forgotten, and the proof is given to the HR platform.

Each service's ``EraseParticipant`` handler ends with :func:`complete_erasure`:

- the outbox keeps a copy of every record it relayed until pruning (days), and of every record
  set aside; those copies hold whatever the message held (a dead-lettered enrolment holds the
  whole profile), so a first erasure deletes the ones of the tenant that name the person;
- the :class:`~binome_shared.contracts.privacy_events.ErasureCompleted` event goes into the
  outbox in the erasure's own transaction, so there is a proof if and only if the erasure
  committed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import asyncpg

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import EraseParticipant
from binome_shared.contracts.privacy_events import ErasedKind, ErasingService, ErasureCompleted
from binome_shared.db import erasures
from binome_shared.messaging.routes import UnitOfWork


async def complete_erasure(
    uow: UnitOfWork,
    envelope: Envelope[EraseParticipant],
    service: ErasingService,
    *,
    erased: Mapping[ErasedKind, int] | None = None,
) -> None:
    """Forget the outbox's copies naming the person, then publish the proof of this erasure:
    ``erased`` counts what the service deleted or blanked, by kind; None says the person was
    already erased (the first erasure's time is published, and no counts, since nothing
    changed and no copy naming them was written since)."""
    tenant_id, participant_id = envelope.tenant_id, envelope.data.participant_id
    if erased is not None:
        copies = await forget_copies_naming(uow.conn, tenant_id, participant_id)
        erased = {**erased, ErasedKind.MESSAGE_COPIES: copies}
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


# A copy names the person when the JSON of the message holds their id as a string value
# ("participant_id": "E1", "mentee_id": "E1", ...): ids are exact, names and addresses are not
# (a profile may have changed since). Only copies already relayed or set aside are deleted:
# a row not yet relayed is the service's announcement still on its way.
_FORGET_COPIES = """
DELETE FROM outbox
WHERE (sent_at IS NOT NULL OR set_aside_at IS NOT NULL)
  AND header_values[array_position(header_names, 'ce_tenantid')] = $1
  AND position($2 IN value) > 0
"""


async def forget_copies_naming(
    conn: asyncpg.Connection, tenant_id: str, participant_id: str
) -> int:
    """Delete the relayed or set-aside outbox rows of the tenant whose message names the
    person by id; how many. Deleting a relayed copy changes nothing but the audit trail: the
    record is on Kafka, and the rows were kept only until pruning."""
    status = await conn.execute(
        _FORGET_COPIES, tenant_id.encode(), json.dumps(participant_id, ensure_ascii=False).encode()
    )
    return int(status.split()[-1])
