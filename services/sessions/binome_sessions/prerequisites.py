"""What a message waits for when it arrives before what it is about: it is parked under one of
these names and replayed when the handler that makes the thing known releases the same name.

Ids are namespaced by tenant (two tenants may use the same programme id and the same people,
hence the same pair id), so every name carries the tenant: tenant A's PairFormed never
replays what tenant B parked, and B's command naming A's pair waits for B's own pair (and is
dead-lettered as ``prerequisite_never_arrived`` if it never comes).
"""

from __future__ import annotations

from binome_shared.messaging.errors import AwaitingPrerequisiteError
from binome_shared.messaging.parking import prerequisite


def pair_key(tenant_id: str, pair_id: str) -> str:
    """What a message about a pair waits for until the tenant's PairFormed is handled."""
    return prerequisite("pair", tenant_id, pair_id)


def programme_key(tenant_id: str, programme_id: str) -> str:
    """What a message waits for until the tenant's DefineProgramme gives the session plan."""
    return prerequisite("programme", tenant_id, programme_id)


def waiting_for_pair(tenant_id: str, pair_id: str) -> AwaitingPrerequisiteError:
    """Park a message about a pair this tenant has not had formed yet (here)."""
    return AwaitingPrerequisiteError(
        pair_key(tenant_id, pair_id), f"pair {pair_id} has not been formed yet"
    )


def waiting_for_programme(tenant_id: str, programme_id: str) -> AwaitingPrerequisiteError:
    """Park a message that needs the tenant's programme's session plan."""
    return AwaitingPrerequisiteError(
        programme_key(tenant_id, programme_id),
        f"programme {programme_id} has no session plan yet",
    )
