"""What a GDPR erasure is about to delete in pairing, counted for its proof
(:class:`~binome_shared.contracts.privacy_events.ErasureCompleted`), once the erasure holds
every programme of the person (:func:`hold_programmes`).

Counted through the repository the handler holds, without locking anything more: the pairs
are read, not selected for update, so the programme row stays the first lock a programme's
command takes.
"""

from __future__ import annotations

from collections.abc import Sequence

from binome_pairing.adapters.repository import PairingRepository
from binome_pairing.domain.lifecycle import ACTIVE_PAIR_STATUSES
from binome_shared.contracts.privacy_events import ErasedKind


async def hold_programmes(
    pairing: PairingRepository, tenant_id: str, programmes: Sequence[str]
) -> None:
    """Lock the rows of the programmes the erasure is about to apply in, before it reads any
    of them.

    An erasure is read on the partition of the programme it names, while a round of another
    programme of the person runs on another partition. A round holds its programme's row from
    before it reads the cohort until it commits (every command of a programme takes that lock
    first, :meth:`~binome_pairing.adapters.repository.PostgresPairing.programme`), so taking
    the same row locks here serialises the two without a new lock: a round that read the
    person before the erasure commits first, and the erasure, reading afterwards, ends the
    pair it formed and counts it; a round that comes later waits, and reads her as erased.
    Row locks rather than an advisory lock per (tenant, participant): a round would have to
    take one per candidate, thousands, and re-check them. ``programmes`` come in programme
    order (the repository sorts them), so two erasures lock in the same order and never
    deadlock."""
    for programme_id in programmes:
        await pairing.programme(tenant_id, programme_id)


async def erasure_census(
    pairing: PairingRepository, tenant_id: str, programmes: Sequence[str], participant_id: str
) -> dict[ErasedKind, int]:
    """The profiles, org-chart lines and active pairs of the person in these programmes of
    the tenant."""
    pairs = lines = 0
    for programme_id in programmes:
        active = await pairing.pairs_with_status(tenant_id, programme_id, ACTIVE_PAIR_STATUSES)
        pairs += sum(participant_id in (pair.mentor_id, pair.mentee_id) for pair in active)
        chart = await pairing.reporting_lines(tenant_id, programme_id)
        lines += sum(participant_id in (line.employee_id, line.manager_id) for line in chart)
    return {
        ErasedKind.ENROLMENTS: len(programmes),
        ErasedKind.REPORTING_LINES: lines,
        ErasedKind.PAIRS_ENDED: pairs,
    }
