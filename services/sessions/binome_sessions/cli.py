"""``binome-sessions``: run or migrate the sessions service."""

from __future__ import annotations

from collections.abc import Sequence

from binome_sessions.bootstrap import NAME, SessionsSettings, definition
from binome_shared.runtime.cli import service_main


def main(argv: Sequence[str] | None = None) -> int:
    return service_main(
        name=NAME,
        description="Binôme sessions: framed sessions, objectives and follow-up for every pair.",
        settings_class=SessionsSettings,
        definition_factory=definition,
        argv=argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
