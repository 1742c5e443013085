"""What a GDPR erasure is about to delete in pairing, counted for its proof
(:class:`~binome_shared.contracts.privacy_events.ErasureCompleted`).

Counted before the erasure, through the repository the handler holds, without locking
anything the handler does not lock itself: the pairs are read, not selected for update, so
the programme row stays the first lock a programme's command takes. The price: a round of
another programme that commits between this count and the erasure's lock on that programme
is not counted (the erasure still ends its pairs; only the proof's figure is short).
"""

from __future__ import annotations

from collections.abc import Sequence

from binome_pairing.adapters.repository import PairingRepository
from binome_pairing.domain.lifecycle import ACTIVE_PAIR_STATUSES
from binome_shared.contracts.privacy_events import ErasedKind


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
