"""The README's first command: the platform comes up, its services answer /ready and talk,
and `make demo-stop` leaves nothing running."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx
import pytest

from tests.support.platform import REPO_ROOT

pytestmark = pytest.mark.e2e

PORTS = {"pairing": 8001, "sessions": 8002, "notifications": 8003}


def demo(action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "binome_devstack.demo", action],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_demo_brings_up_three_ready_services_that_talk_then_stops_them(stack: object) -> None:
    started = demo("up")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert "sessions ← recorded it in its own schema (1 row(s))" in started.stdout
        assert "notifications ← recorded it in its own schema (2 row(s))" in started.stdout
        for name, port in PORTS.items():
            ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5)
            assert ready.status_code == 200, name
            assert ready.json() == {
                "ready": True,
                "kafka": True,
                "postgres": True,
                "migrations": True,
            }
            assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["service"] == name
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            assert "binome_outbox_pending" in metrics
            document = httpx.get(f"http://127.0.0.1:{port}/asyncapi.json", timeout=5).json()
            assert document["info"]["title"] == f"binome-{name}"
    finally:
        stopped = demo("down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not any(port_open(port) for port in PORTS.values()), "no service is left listening"
