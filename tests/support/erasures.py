"""An in-memory register of erased people, as the services' repository fakes keep it (the
same answers as :mod:`binome_shared.db.erasures` over a service's ``erased_participants``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


class FakeErasures:
    """``record_erasure`` and ``erased_among`` over a dictionary; fakes inherit them."""

    def __init__(self) -> None:
        self.erased: dict[tuple[str, str], datetime] = {}

    async def record_erasure(self, tenant_id: str, participant_id: str, *, at: datetime) -> bool:
        if (tenant_id, participant_id) in self.erased:
            return False
        self.erased[tenant_id, participant_id] = at
        return True

    async def erased_among(self, tenant_id: str, participant_ids: Sequence[str]) -> set[str]:
        return {person for person in participant_ids if (tenant_id, person) in self.erased}
