"""The served report on the real local Kafka: ``binome-report serve`` as a real process, read
with bearer tokens. Tenant A's token gets A's report (HTML in both languages and JSON, the
follow-up figures folded from the events); tenant B's token gets 404 for A's programme, as
for a programme that does not exist; no token or a forged one gets 401."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from binome_integrations.report.model import ProgrammeReport
from binome_shared.contracts.base import Message
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    PairCalledOff,
    PairConsentRequested,
    PairFormed,
)
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.sessions_messages.pulse import (
    PulseAnswer,
    PulseAnswered,
    PulseCheckRequested,
)
from tests.support.chromium import BROWSER_ABSENT, CHROMIUM, chromium_present
from tests.support.platform import Kafka, ServiceProcess, free_port
from tests.support.programmes import TENANT, programme_definition
from tests.support.published import pair_event, published
from tests.support.tokens import TokenIssuer, bearer

pytestmark = pytest.mark.integration

PROGRAMME = "prog-served"
OTHER_TENANT = "autre-groupe"
MENTOR = ParticipantRole.MENTOR


def consent_asked(pair_id: str) -> PairConsentRequested:
    proposed = pair_event(PairFormed, pair_id, f"Y{pair_id}", f"M{pair_id}")
    return PairConsentRequested(
        **proposed.model_dump(), respond_by=datetime(2027, 2, 1, tzinfo=UTC)
    )


def story() -> list[Message]:
    """Three pairs asked to consent (one formed, one declined), three asked a pulse."""
    return [
        programme_definition(ProgrammeRules(starts_on=date(2027, 1, 4)), name="Programme servi"),
        *(consent_asked(str(number)) for number in (1, 2, 3)),
        pair_event(PairFormed, "1", "Y1", "M1"),
        PairCalledOff(pair_id="2", reason=CallOffReason.DECLINED, declined_by=MENTOR),
        *(
            PulseCheckRequested(pulse_number=1, pair_id=p, mentor_id=f"Y{p}", mentee_id=f"M{p}")
            for p in ("a", "b", "c")
        ),
        PulseAnswered(
            pair_id="a", pulse_number=1, side=ParticipantRole.MENTEE, answer=PulseAnswer.NEED_HELP
        ),
    ]


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer()


def report_server(
    kafka_bootstrap: str, topic_prefix: str, issuer: TokenIssuer, log_path: Path, **extra: str
) -> ServiceProcess:
    """``binome-report serve`` on a free port, reading this test's topics (not started)."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("BINOME_")}
    env.update(
        {
            "BINOME_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "BINOME_TOPIC_PREFIX": topic_prefix,
            "BINOME_HTTP_PORT": str(port),
            **issuer.service_env(),
            **extra,
        }
    )
    return ServiceProcess(
        name="report",
        env=env,
        port=port,
        log_path=log_path,
        argv=[sys.executable, "-m", "binome_integrations.report.cli", "serve"],
    )


@pytest.fixture
def server(
    kafka_bootstrap: str, topic_prefix: str, issuer: TokenIssuer, tmp_path: Path
) -> Iterator[ServiceProcess]:
    process = report_server(kafka_bootstrap, topic_prefix, issuer, tmp_path / "report.log")
    process.start()
    yield process
    process.kill()


async def publish_story(kafka: Kafka) -> None:
    for data in story():
        await kafka.publish(published(data, programme_id=PROGRAMME, tenant_id=TENANT))


async def test_each_tenant_reads_only_its_own_programmes_report(
    kafka: Kafka, server: ServiceProcess, issuer: TokenIssuer
) -> None:
    await publish_story(kafka)
    # The other tenant has a programme of the same id: it must never show in A's report.
    await kafka.publish(
        published(
            programme_definition(ProgrammeRules(starts_on=date(2027, 1, 4)), name="Autre"),
            programme_id="prog-b-only",
            tenant_id=OTHER_TENANT,
        )
    )
    await server.wait_ready()
    address = f"{server.url}/programmes/{PROGRAMME}/report"
    token_a, token_b = issuer.token(TENANT), issuer.token(OTHER_TENANT)

    async with httpx.AsyncClient(timeout=60) as client:
        figures = await client.get(f"{address}.json", headers=bearer(token_a))
        french = await client.get(address, headers=bearer(token_a))
        english = await client.get(f"{address}?lang=en", headers=bearer(token_a))
        as_b = await client.get(address, headers=bearer(token_b))
        b_own = await client.get(
            f"{server.url}/programmes/prog-b-only/report.json", headers=bearer(token_b)
        )
        a_on_b = await client.get(
            f"{server.url}/programmes/prog-b-only/report.json", headers=bearer(token_a)
        )
        anonymous = await client.get(address)
        forged = await client.get(address, headers=bearer(TokenIssuer().token(TENANT)))
        # HR opens the report in a browser: a refusal is a page there, JSON for a program.
        as_b_in_browser = await client.get(
            address, headers={**bearer(token_b), "Accept": "text/html,*/*;q=0.8"}
        )
        nowhere = await client.get(f"{server.url}/programmes", headers=bearer(token_a))

    assert figures.status_code == 200, figures.text
    report = ProgrammeReport.model_validate_json(figures.content)
    assert report.programme_name == "Programme servi"
    assert report.consent.pairs_asked == 3
    assert report.consent.suppressed is False
    assert (report.consent.accepted, report.consent.declined, report.consent.pending) == (1, 1, 1)
    assert [(r.asked, r.answered, r.need_help) for r in report.pulse_rounds] == [(6, 1, 1)]
    assert report.dead_letters == [], "dead-letter topics are shared: no tenant sees them"

    assert french.status_code == 200
    assert french.headers["content-type"].startswith("text/html")
    assert french.text.startswith('<!DOCTYPE html>\n<html lang="fr">')
    assert english.text.startswith('<!DOCTYPE html>\n<html lang="en">')
    for chart in ("consent", "pulse", "ratings"):
        assert f'id="fr-{chart}"' in french.text

    assert as_b.status_code == 404
    assert as_b.json()["code"] == "unknown_programme"
    assert as_b_in_browser.status_code == 404
    assert as_b_in_browser.headers["content-type"].startswith("text/html")
    assert 'data-outcome="unknown_programme"' in as_b_in_browser.text
    assert "Programme inconnu" in as_b_in_browser.text
    assert "Unknown programme" in as_b_in_browser.text
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "not_found")
    assert b_own.status_code == 200
    assert ProgrammeReport.model_validate_json(b_own.content).programme_name == "Autre"
    assert a_on_b.status_code == 404
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="binome"'
    assert forged.status_code == 401
    assert "Programme servi" not in anonymous.text + forged.text + as_b.text


@pytest.mark.skipif(not chromium_present(), reason=BROWSER_ABSENT)
async def test_the_served_page_renders_in_chromium_in_both_languages(
    kafka: Kafka, server: ServiceProcess, issuer: TokenIssuer, tmp_path: Path
) -> None:
    await publish_story(kafka)
    await server.wait_ready()
    async with httpx.AsyncClient(timeout=60) as client:
        served = await client.get(
            f"{server.url}/programmes/{PROGRAMME}/report?lang=en",
            headers=bearer(issuer.token(TENANT)),
        )
    assert served.status_code == 200
    page = tmp_path / "served.html"
    page.write_text(served.text, encoding="utf-8")

    def dump_dom(address: str) -> str:
        completed = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={tmp_path / 'chromium'}",
                "--dump-dom",
                address,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
        return completed.stdout

    english = await asyncio.to_thread(dump_dom, page.as_uri())
    french = await asyncio.to_thread(dump_dom, f"{page.as_uri()}#fr")

    assert '<html lang="en">' in english
    assert '<html lang="fr">' in french, "the page's own script switched to French"
    for chart in ("consent", "pulse", "ratings"):
        for language in ("fr", "en"):
            assert f'<svg id="{language}-{chart}" class="chart"' in english
    consent = english.split('<svg id="en-consent"')[1].split("</svg>")[0]
    assert [int(n) for n in re.findall(r'data-count="(\d+)"', consent)] == [1, 1, 0, 0, 1]
    assert "Pair consent" in english
    assert "Consentement des binômes" in french
