"""The report server SIGKILLed on the real local Kafka, while catching up and while tailing,
then restarted: it answers ``/ready`` 200 only once caught up again (every report read on a
200 already has every figure), and its report then equals the one before the kill, plus
exactly what was published meanwhile (nothing lost, nothing folded twice)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.integrations.test_integrations_report_server import (
    PROGRAMME,
    consent_asked,
    publish_story,
    report_server,
)
from tests.support.platform import Kafka, ServiceProcess
from tests.support.programmes import TENANT
from tests.support.published import published
from tests.support.tokens import TokenIssuer, bearer

pytestmark = pytest.mark.integration

BULK = 600
"""Consent requests published before the first start: a catch-up long enough to kill."""
TAIL = 300
"""Consent requests published while the server tails the topic, killed among them."""


async def publish_asked(kafka: Kafka, numbers: range, *, pause: float = 0.0) -> None:
    for number in numbers:
        data = consent_asked(f"bulk-{number}")
        await kafka.publish(published(data, programme_id=PROGRAMME, tenant_id=TENANT))
        await asyncio.sleep(pause)


async def asked_so_far(server: ServiceProcess, token: str) -> int:
    address = f"{server.url}/programmes/{PROGRAMME}/report.json"
    async with httpx.AsyncClient(timeout=30) as client:
        return consent_asked_count((await client.get(address, headers=bearer(token))).json())


async def report_once_ready(server: ServiceProcess, token: str) -> tuple[dict[str, Any], int]:
    """The report read as soon as ``/ready`` says 200, and how many 503 came before it."""
    not_ready = 0
    async with httpx.AsyncClient(timeout=30) as client:
        while True:
            assert server.process is not None
            assert server.process.poll() is None, server.log_tail()
            with contextlib.suppress(httpx.TransportError):
                ready = await client.get(f"{server.url}/ready")
                if ready.status_code == 200:
                    address = f"{server.url}/programmes/{PROGRAMME}/report.json"
                    report = await client.get(address, headers=bearer(token))
                    assert report.status_code == 200, report.text
                    return dict(report.json()), not_ready
                assert ready.status_code == 503, ready.text
                not_ready += 1
            await asyncio.sleep(0.02)


def without_consent(report: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in report.items() if name != "consent"}


def consent_asked_count(report: dict[str, Any]) -> int:
    return int(report["consent"]["pairs_asked"])


async def test_report_killed_catching_up_and_tailing_shows_the_same_figures(
    kafka: Kafka, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    issuer = TokenIssuer()
    token = issuer.token(TENANT)
    server = report_server(kafka_bootstrap, topic_prefix, issuer, tmp_path / "report.log")
    await publish_story(kafka)
    await publish_asked(kafka, range(BULK))
    try:
        server.start()
        before, _ = await report_once_ready(server, token)
        assert consent_asked_count(before) == 3 + BULK

        # Killed while catching up: as soon as it answers 503.
        server.kill()
        server.start()
        async with httpx.AsyncClient(timeout=5) as client:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{server.url}/ready")).status_code == 503:
                        break
                await asyncio.sleep(0.01)
        server.kill()
        server.start()
        again, waited = await report_once_ready(server, token)
        assert again == before
        print("503 answers before ready after a kill during catch-up:", waited)

        # Killed while tailing, in the middle of a stream of new events.
        tail = asyncio.create_task(publish_asked(kafka, range(BULK, BULK + TAIL), pause=0.003))
        for _ in range(1000):  # until the first new events are folded (10 s at most)
            if (folded := await asked_so_far(server, token)) > 3 + BULK:
                break
            await asyncio.sleep(0.01)
        server.kill()
        assert not tail.done(), "killed in the middle of the stream"
        await tail
        print("killed tailing with", folded - 3 - BULK, "of", TAIL, "new events folded")
        server.start()
        after, waited = await report_once_ready(server, token)
        assert consent_asked_count(after) == 3 + BULK + TAIL
        assert without_consent(after) == without_consent(before)
        print("503 answers before ready after a kill while tailing:", waited)
    finally:
        server.kill()
