"""The proof a service gives the HR platform that it applied a GDPR erasure.

Each service's ``EraseParticipant`` handler ends with :func:`prove_erasure`: the
:class:`~binome_shared.contracts.privacy_events.ErasureCompleted` event goes into the outbox
in the erasure's own transaction, so there is a proof if and only if the erasure committed.
"""

from __future__ import annotations

from collections.abc import Mapping

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import EraseParticipant
from binome_shared.contracts.privacy_events import ErasedKind, ErasingService, ErasureCompleted
from binome_shared.db import erasures
from binome_shared.messaging.routes import UnitOfWork


async def prove_erasure(
    uow: UnitOfWork,
    envelope: Envelope[EraseParticipant],
    service: ErasingService,
    *,
    erased: Mapping[ErasedKind, int] | None = None,
) -> None:
    """Publish the proof of this erasure: ``erased`` counts what it deleted or blanked, by
    kind; None says the person was already erased (the first erasure's time is published,
    and no counts, since nothing changed)."""
    tenant_id, participant_id = envelope.tenant_id, envelope.data.participant_id
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
