"""``binome-notifications``: run or migrate the notifications service."""

from __future__ import annotations

from binome_notifications.bootstrap import NAME, NotificationsSettings, definition
from binome_shared.runtime.cli import ServiceCommand

main = ServiceCommand(
    name=NAME,
    description="Binôme notifications: e-mails and signed webhooks, in French and English.",
    settings_class=NotificationsSettings,
    definition_factory=definition,
)


if __name__ == "__main__":
    raise SystemExit(main())
