"""``binome-notifications``: run or migrate the notifications service."""

from __future__ import annotations

from collections.abc import Sequence

from binome_notifications.bootstrap import NAME, NotificationsSettings, definition
from binome_shared.runtime.cli import service_main


def main(argv: Sequence[str] | None = None) -> int:
    return service_main(
        name=NAME,
        description="Binôme notifications: e-mails and signed webhooks, in French and English.",
        settings_class=NotificationsSettings,
        definition_factory=definition,
        argv=argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
