"""``GET /personal-data?participant_id=…``: everything one service holds on one person in the
caller's tenant, as JSON (GDPR articles 15 and 20: access and portability).

Programme data: the runtime answers it only with a valid bearer token, and the person is
looked up within the token's tenant alone. Ids are the tenant's own (two tenants may both
have an ``E10442``), so another tenant's token gets what *its* tenant holds under that id:
usually nothing, an answer of 200 with empty sections, never a 403 or 404 that would tell
whether the id exists elsewhere. A person erased in the tenant gets empty sections and the
time of the erasure: only the id is left (the erasure register, pair history without
profile). See docs/privacy.md; ``binome-export`` gathers the three services' answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
from faststream.asgi import AsgiResponse
from pydantic_core import to_jsonable_python

from binome_shared.contracts.text import is_identifier
from binome_shared.db import erasures
from binome_shared.runtime.http_input import query_fields, single
from binome_shared.runtime.service import json_response

if TYPE_CHECKING:
    from binome_shared.runtime.service import Caller, RunningService

PATH = "/personal-data"

Sections = dict[str, list[dict[str, Any]]]
"""What a service holds on a person, by kind (``enrolments``, ``deliveries``…): one entry per
record, plain JSON values."""

Gatherer = Callable[[asyncpg.Connection, str, str], Awaitable[Sections]]
"""Reads a person's records in a tenant: ``(connection, tenant_id, participant_id)``."""


class PersonalDataEndpoint:
    """Serves one service's part of a person's export, read from its own schema."""

    def __init__(self, *, service: str, kinds: Sequence[str], gather: Gatherer) -> None:
        """``kinds``: the sections ``gather`` returns, each present (empty) in every answer."""
        self._service = service
        self._kinds = tuple(kinds)
        self._gather = gather

    async def __call__(
        self, runtime: RunningService, caller: Caller, scope: Mapping[str, Any]
    ) -> AsgiResponse:
        """400 without a valid ``participant_id``; else 200, sections empty when the tenant
        holds nothing on that id."""
        # An overlong query, bytes not UTF-8 or the id given twice: refused by the runtime.
        participant_id = single(query_fields(scope), "participant_id")
        # The id goes into SQL: a NUL or an overlong id is a bad request, not a crash.
        if not is_identifier(participant_id):
            return json_response(
                {"error": "participant_id is required, a valid id / participant_id requis"}, 400
            )
        sections: Sections = {kind: [] for kind in self._kinds}
        async with runtime.pool.acquire() as conn:
            erased_at, held = await self._read(conn, caller.tenant_id, participant_id)
        sections |= held
        body = {
            "service": self._service,
            "tenant_id": caller.tenant_id,
            "participant_id": participant_id,
            "erased_at": erased_at,
            "generated_at": runtime.clock.now(),
            "sections": sections,
        }
        return json_response(to_jsonable_python(body), 200)

    async def _read(
        self, conn: asyncpg.Connection, tenant_id: str, participant_id: str
    ) -> tuple[datetime | None, Sections]:
        """The erasure's time, or the person's records; in one snapshot, so that the sections
        agree with each other and with the register."""
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            erased_at = await erasures.erased_at(conn, tenant_id, participant_id)
            if erased_at is not None:
                return erased_at, {}
            return None, await self._gather(conn, tenant_id, participant_id)
