"""``binome-pairing``: run or migrate the pairing service, or solve a cohort offline."""

from __future__ import annotations

from binome_pairing import offline_cli
from binome_pairing.bootstrap import NAME, PairingSettings, definition
from binome_shared.runtime.cli import ServiceCommand

main = ServiceCommand(
    name=NAME,
    description="Binôme pairing: globally optimal, explained mentor/mentee pairs.",
    settings_class=PairingSettings,
    definition_factory=definition,
    extra_commands=(offline_cli.register,),
)


if __name__ == "__main__":
    raise SystemExit(main())
