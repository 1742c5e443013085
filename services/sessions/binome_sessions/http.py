"""``GET /programmes/progress?programme_id=…[&grouped_by=mentor_business_unit]``: a programme's
progress for HR, as JSON, computed from the pairs' tracks with small groups suppressed.

Programme data: the runtime answers it only with a valid bearer token (docs/http-api.md), and
only the token's tenant's pairs are counted.

The body has the shape of ProgrammeProgressReported (docs/schemas/messages), plus
``programme_id``; figures are as of the service's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from faststream.asgi import AsgiResponse

from binome_sessions.domain import (
    DEFAULT_SUPPRESSION_THRESHOLD,
    compute_progress,
)
from binome_sessions.storage import RepositoryFactory
from binome_sessions.translation import progress_report
from binome_shared.contracts.sessions_messages import (
    ProgressGrouping,
)
from binome_shared.contracts.text import is_identifier
from binome_shared.runtime.http_input import query_fields, single
from binome_shared.runtime.service import json_response

if TYPE_CHECKING:
    from binome_shared.runtime.service import Caller, RunningService

PATH = "/programmes/progress"


class ProgressEndpoint:
    """Serves programme progress from the service's own schema (read-only)."""

    def __init__(
        self,
        *,
        repository: RepositoryFactory,
        suppression_threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
    ) -> None:
        self._repository = repository
        self._threshold = suppression_threshold

    async def __call__(
        self, runtime: RunningService, caller: Caller, scope: Mapping[str, Any]
    ) -> AsgiResponse:
        """Answer one request: 400 without a valid query, 404 for a programme the caller's
        tenant does not have (another tenant's programme is not even said to exist)."""
        # An overlong query, bytes not UTF-8 or a name given twice: refused by the runtime.
        query = query_fields(scope)
        programme_id = single(query, "programme_id")
        grouping = single(query, "grouped_by", ProgressGrouping.MENTEE_BUSINESS_UNIT.value)
        if not programme_id:
            return json_response(
                {"error": "programme_id is required / programme_id est requis"}, 400
            )
        # The id goes into SQL: a NUL or an overlong id is a bad request, not a crash.
        if not is_identifier(programme_id):
            return json_response(
                {"error": "programme_id is not a valid id / programme_id invalide"}, 400
            )
        if grouping not in set(ProgressGrouping):
            choices = ", ".join(ProgressGrouping)
            return json_response(
                {"error": f"grouped_by must be one of / doit valoir : {choices}"}, 400
            )
        now = runtime.clock.now()
        async with runtime.pool.acquire() as conn:
            tracks = self._repository(conn)
            programme = await tracks.programme(caller.tenant_id, programme_id)
            pairs = await tracks.tracks_of_programme(caller.tenant_id, programme_id)
        if programme is None and not pairs:
            return json_response({"error": "unknown programme / programme inconnu"}, 404)
        progress = compute_progress(
            programme_id=programme_id,
            tracks=pairs,
            grouped_by=ProgressGrouping(grouping),
            suppression_threshold=self._threshold,
        )
        report = progress_report(
            progress,
            reported_at=now,
            period_start=None,
            plan=None if programme is None else programme.plan,
        )
        return json_response({"programme_id": programme_id, **report.model_dump(mode="json")}, 200)
