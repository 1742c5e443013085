"""The report's read model: every programme's history, folded as its records arrive.

:class:`ReadModel` is pure (no IO): it takes one Kafka record at a time and folds it into the
history of its (tenant, programme), the same fold (:meth:`ProgrammeHistory.take`) a replay
applies to a programme's envelopes, so a report built from it is the report a replay would
build. Records it cannot read (not a CloudEvent, an unknown type, a fold that fails) are
skipped and counted, never fatal: one bad record must not freeze every programme's report.
The tenant and the programme come from the envelope itself, so two tenants using the same
programme id have two histories.

The reading itself (assigned partitions, no consumer group) is :mod:`.live`.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from binome_integrations.report.build import programme_report
from binome_integrations.report.history import ProgrammeHistory
from binome_integrations.report.model import ProgrammeReport
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.messaging.cloudevents import ReceivedRecord, UndecodableRecordError, decode

logger = logging.getLogger(__name__)

ProgrammeKey = tuple[str, str]
"""(tenant id, programme id): ids are namespaced by tenant."""


@dataclass(kw_only=True, slots=True)
class ProgrammeState:
    """One programme's folded history, and the time of the last fact folded into it."""

    history: ProgrammeHistory = field(default_factory=ProgrammeHistory)
    as_of: datetime | None = None

    def take(self, envelope: Envelope[Message]) -> None:
        """Fold one envelope of this programme in."""
        self.history.take(envelope)
        if self.as_of is None or envelope.time > self.as_of:
            self.as_of = envelope.time


@dataclass(kw_only=True, slots=True)
class ReadModel:
    """Every programme's state, by (tenant, programme), and what was skipped."""

    programmes: dict[ProgrammeKey, ProgrammeState] = field(default_factory=dict)
    folded: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    """Records left aside, by reason (a rejection code, or ``fold_failed``)."""

    def take_record(self, record: ReceivedRecord) -> bool:
        """Decode and fold one record; False (counted, logged) when it was skipped."""
        try:
            envelope = decode(record, CATALOGUE)
        except UndecodableRecordError as error:
            return self._skip(record, str(error.code), str(error))
        return self.take(envelope, record)

    def take(self, envelope: Envelope[Message], record: ReceivedRecord | None = None) -> bool:
        """Fold one envelope into its programme's state (created on its first envelope)."""
        key = (envelope.tenant_id, envelope.programme_id)
        state = self.programmes.setdefault(key, ProgrammeState())
        try:
            state.take(envelope)
        except Exception as error:  # one bad fact must not stop every report
            return self._skip(record, "fold_failed", repr(error))
        self.folded += 1
        return True

    def report(self, tenant_id: str, programme_id: str) -> ProgrammeReport | None:
        """The programme's report as of its last fact; None when the tenant has no such
        programme (no definition folded yet)."""
        state = self.programmes.get((tenant_id, programme_id))
        if state is None or state.history.definition is None or state.as_of is None:
            return None
        return programme_report(state.history, programme_id=programme_id, generated_at=state.as_of)

    def _skip(self, record: ReceivedRecord | None, reason: str, detail: str) -> bool:
        self.skipped[reason] += 1
        where: dict[str, Any] = (
            {}
            if record is None
            else {"topic": record.topic, "partition": record.partition, "offset": record.offset}
        )
        logger.warning("report: record skipped (%s): %s %s", reason, detail[:300], where)
        return False
