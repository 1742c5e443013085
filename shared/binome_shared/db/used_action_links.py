"""The token ids of action links already used (``action_links_used``, docs/actions.md): kept
while the link could still be verified, then pruned, since an expired link is refused before
its token id is even looked at."""

from __future__ import annotations

import asyncpg

from binome_shared.db.status import rows_affected

PRUNE_AFTER = "1 day"
"""Past a link's expiry: longer than any clock skew the verifier tolerates."""

_PRUNE = f"""
DELETE FROM action_links_used
WHERE expires_at < clock_timestamp() - interval '{PRUNE_AFTER}'
"""


async def prune_used_action_links(conn: asyncpg.Connection) -> int:
    """Forget the used links that have expired; returns how many."""
    status = await conn.execute(_PRUNE)
    return rows_affected(status)
