"""``make demo``: the local platform — Kafka, PostgreSQL, the three services — up and talking.

``up`` starts what is not running (reusing what is), provisions the database, starts the
three service processes in the background, waits for their ``/ready``, then sends a
PairFormed through the pairing service's outbox and shows sessions and notifications
recording it. ``down`` stops the services and whatever part of the stack ``up`` started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from binome_devstack.processes import process_alive, terminate
from binome_devstack.settings import StackSettings
from binome_devstack.stack import append_owner_file, ensure_stack, read_owner_file, stop_stack

SERVICES = {"pairing": 8001, "sessions": 8002, "notifications": 8003}


def _services_dir(settings: StackSettings) -> Path:
    path = settings.stack_dir / "services"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _say(message: str) -> None:
    print(message, flush=True)


async def _provision(admin_dsn: str) -> None:
    from binome_shared.db.provision import provision  # noqa: PLC0415

    await provision(admin_dsn, passwords={name: f"binome_{name}" for name in SERVICES})


def _start_service(name: str, settings: StackSettings) -> None:
    folder = _services_dir(settings)
    pid_file = folder / f"{name}.pid"
    if pid_file.exists() and process_alive(int(pid_file.read_text())):
        _say(f"  {name}: already running (pid {pid_file.read_text().strip()})")
        return
    env = {
        **os.environ,
        "BINOME_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap,
        "BINOME_HTTP_PORT": str(SERVICES[name]),
    }
    log = (folder / f"{name}.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", f"binome_{name}.cli", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pid_file.write_text(str(process.pid))
    _say(f"  {name}: started (pid {process.pid}, log {folder / f'{name}.log'})")


async def _wait_ready(name: str, limit_seconds: float = 90.0) -> dict[str, object]:
    deadline = time.monotonic() + limit_seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(f"http://127.0.0.1:{SERVICES[name]}/ready", timeout=3)
                if response.status_code == 200:
                    return dict(response.json())
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise SystemExit(
        f"{name} is not ready after {limit_seconds:.0f} s: see .stack/services/{name}.log"
    )


async def _show_them_talking(admin_dsn: str) -> None:
    from binome_shared.contracts.base import Envelope  # noqa: PLC0415
    from binome_shared.contracts.pairing_events import (  # noqa: PLC0415
        PairExplanation,
        PairFormed,
        PairSide,
    )
    from binome_shared.contracts.values import LocalisedText  # noqa: PLC0415
    from binome_shared.messaging.outbox import Outbox  # noqa: PLC0415

    pair_id = f"demo-{uuid.uuid4().hex[:8]}"
    event = Envelope.new(
        PairFormed(
            pair_id=pair_id,
            round_id="demo",
            mentor=PairSide(participant_id="M-0001", business_unit="Direction digitale"),
            mentee=PairSide(participant_id="E-0001", business_unit="Finance"),
            explanation=PairExplanation(
                score=0.82,
                breakdown={"needs_coverage": 0.9, "availability": 0.7},
                summary=LocalisedText(
                    fr="Ses compétences en IA générative répondent à vos besoins prioritaires.",
                    en="Their generative AI skills answer your top learning needs.",
                ),
            ),
        ),
        source="/binome/pairing",
        time=datetime.now(UTC),
        tenant_id="groupe-demo",
        programme_id="demo-programme",
    )
    base = admin_dsn.rsplit("@", 1)[1]
    pairing = await asyncpg.connect(f"postgresql://binome_pairing:binome_pairing@{base}")
    try:
        async with pairing.transaction():
            await Outbox().add(pairing, event)
    finally:
        await pairing.close()
    _say(f"  pairing → PairFormed {pair_id} written to its outbox, relayed to Kafka")
    checks = {
        "sessions": ("binome_sessions", "SELECT count(*) FROM sessions.pairs WHERE pair_id = $1"),
        "notifications": (
            "binome_notifications",
            "SELECT count(*) FROM notifications.deliveries WHERE subject_id = $1",
        ),
    }
    for name, (role, query) in checks.items():
        conn = await asyncpg.connect(f"postgresql://{role}:{role}@{base}")
        try:
            deadline = time.monotonic() + 30
            count = 0
            while time.monotonic() < deadline and count == 0:
                count = int(await conn.fetchval(query, pair_id))
                await asyncio.sleep(0.2)
        finally:
            await conn.close()
        if count == 0:
            raise SystemExit(f"{name} did not record the pair: see .stack/services/{name}.log")
        _say(f"  {name} ← recorded it in its own schema ({count} row(s))")


def up() -> int:
    settings = StackSettings.from_env()
    _say("Binôme — starting the local platform / démarrage de la plateforme locale")
    stack = ensure_stack()
    append_owner_file(settings.stack_dir / "started-by-demo", stack.started)
    asyncio.run(_provision(stack.admin_dsn))
    _say("Database schemas and roles provisioned (one per service).")
    _say("Services:")
    for name in SERVICES:
        _start_service(name, settings)
    for name, port in SERVICES.items():
        checks = asyncio.run(_wait_ready(name))
        _say(f"  {name:<13} ready on http://127.0.0.1:{port}  {checks}")
    _say("Talking over Kafka / échanges par Kafka:")
    asyncio.run(_show_them_talking(stack.admin_dsn))
    _say(
        "\nThe platform is running. Endpoints: /health /ready /metrics /asyncapi.json on ports "
        "8001-8003.\nStop everything with `make demo-stop`."
    )
    return 0


def down() -> int:
    settings = StackSettings.from_env()
    folder = _services_dir(settings)
    for name in SERVICES:
        pid_file = folder / f"{name}.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
            if process_alive(pid):
                terminate(pid, timeout=40)
                _say(f"  {name}: stopped")
            pid_file.unlink()
    owner = settings.stack_dir / "started-by-demo"
    components = read_owner_file(owner)
    if components:
        stop_stack(components=components, settings=settings)
    owner.unlink(missing_ok=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="binome-demo", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    arguments = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return up() if arguments.action == "up" else down()


if __name__ == "__main__":
    raise SystemExit(main())
