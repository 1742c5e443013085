"""The demo's programme report, fetched from the report server as an HR dashboard would.

The demo starts ``binome-report serve`` beside the three services (the same code the
platform deploys, reading this run's topics) and asks it for the programme's report with a
local bearer token (:mod:`binome_devstack.local_tokens`): the figures in ``summary.json``
and the page in ``report.html`` are what the endpoint answered, not a report built on the
side.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from dataclasses import dataclass
from typing import Final

import httpx

from binome_devstack.demo_platform import DemoError, DemoPlaces, DemoRun
from binome_devstack.local_tokens import LocalTokens
from binome_integrations.report.model import ProgrammeReport
from binome_shared.contracts.values import Language

REPORT_SERVER: Final = "report"
"""The report server's name among the run's processes (its log: ``report.log``)."""
PREFERRED_PORT: Final = 8004


@dataclass(frozen=True, kw_only=True, slots=True)
class ServedReport:
    """What the report endpoint answered: the figures, and the page in one language."""

    report: ProgrammeReport
    html: str


def report_port() -> int:
    """8004 when it is free (the docker-compose port), any free port otherwise."""
    for wanted in (PREFERRED_PORT, 0):
        with socket.socket() as probe, contextlib.suppress(OSError):
            probe.bind(("127.0.0.1", wanted))
            return int(probe.getsockname()[1])
    raise DemoError("no free port for the report server")


def report_server_command() -> list[str]:
    """``binome-report serve``, with this interpreter."""
    return [sys.executable, "-m", "binome_integrations.report.cli", "serve"]


def report_server_env(places: DemoPlaces, run: DemoRun, port: int) -> dict[str, str]:
    """This run's topics, the port, the local token key (the server reads the topics as
    they fill, and a request waits for what was published before it)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BINOME_")}
    env.update(
        {
            "BINOME_KAFKA_BOOTSTRAP_SERVERS": run.kafka_bootstrap,
            "BINOME_TOPIC_PREFIX": run.topic_prefix,
            "BINOME_HTTP_PORT": str(port),
            **LocalTokens(places.tokens_dir).service_env(),
        }
    )
    return env


async def wait_report_server(base_url: str, *, limit_seconds: float = 60.0) -> None:
    """Until the server answers ``/ready``."""
    deadline = time.monotonic() + limit_seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base_url}/ready", timeout=3)).status_code == 200:
                    return
            await asyncio.sleep(0.3)
    raise DemoError(f"the report server at {base_url} is not ready after {limit_seconds:.0f} s")


async def fetch_served_report(
    base_url: str, *, token: str, programme_id: str, language: Language
) -> ServedReport:
    """The programme's report from ``GET /programmes/{id}/report.json`` and its page."""
    address = f"{base_url}/programmes/{programme_id}/report"
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=120) as client:
        figures = await client.get(f"{address}.json", headers=headers)
        page = await client.get(address, params={"lang": str(language)}, headers=headers)
    for response in (figures, page):
        if response.status_code != 200:
            raise DemoError(
                f"the report server answered {response.status_code} for {response.url}: "
                f"{response.text[:300]}"
            )
    return ServedReport(report=ProgrammeReport.model_validate_json(figures.content), html=page.text)


def write_served_page(places: DemoPlaces, served: ServedReport) -> None:
    """The page as served, as ``report.html`` in the output folder."""
    places.output_dir.mkdir(parents=True, exist_ok=True)
    (places.output_dir / "report.html").write_text(served.html, encoding="utf-8")
