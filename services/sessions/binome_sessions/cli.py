"""``binome-sessions``: run or migrate the sessions service."""

from __future__ import annotations

from binome_sessions.bootstrap import NAME, SessionsSettings, definition
from binome_shared.runtime.cli import ServiceCommand

main = ServiceCommand(
    name=NAME,
    description="Binôme sessions: framed sessions, objectives and follow-up for every pair.",
    settings_class=SessionsSettings,
    definition_factory=definition,
)


if __name__ == "__main__":
    raise SystemExit(main())
