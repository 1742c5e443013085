"""The whole catalogue: every message type Binôme reads or writes, in every version."""

from __future__ import annotations

from binome_shared.contracts.hr_commands import HR_COMMAND_TYPES
from binome_shared.contracts.notifications_events import NOTIFICATIONS_EVENT_TYPES
from binome_shared.contracts.pairing_events import PAIRING_EVENT_TYPES
from binome_shared.contracts.privacy_events import PRIVACY_EVENT_TYPES
from binome_shared.contracts.registry import Registry
from binome_shared.contracts.sessions_messages import SESSION_COMMAND_TYPES, SESSIONS_EVENT_TYPES

CATALOGUE = Registry.of(
    (
        *HR_COMMAND_TYPES,
        *SESSION_COMMAND_TYPES,
        *PAIRING_EVENT_TYPES,
        *SESSIONS_EVENT_TYPES,
        *NOTIFICATIONS_EVENT_TYPES,
        *PRIVACY_EVENT_TYPES,
    )
)
