"""The README's first command, at executive-committee size: ``demo up`` plays a whole
programme through the real services (Kafka, PostgreSQL, SMTP), its summary agrees with the
databases, and ``demo down`` leaves nothing running."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from binome_devstack.demo_check import check_summary
from binome_devstack.demo_cohort import EXECUTIVE_GRADE, SIZES, demo_cohort
from binome_devstack.demo_platform import database_dsn, delete_topics
from binome_devstack.demo_report import DemoSummary
from tests.support.platform import REPO_ROOT, free_port

pytestmark = pytest.mark.e2e

COMMITTEE = 15
SIZE = SIZES["committee"]
EXECUTIVES = sum(
    person.job_grade >= EXECUTIVE_GRADE
    for person in demo_cohort(SIZE, seed=2027, starts_on=date(2027, 1, 4)).mentees
)
"""The committee's mentees asked to consent (grades do not depend on the start date)."""
DECLINED_PAIRS = """
SELECT d.mentor_id, d.mentee_id, c.mentor_answer, c.mentee_answer, f.mentor_id AS new_mentor
FROM pairing.pairs d JOIN pairing.pair_consents c USING (tenant_id, pair_id)
LEFT JOIN pairing.pairs f
  ON f.programme_id = d.programme_id AND f.mentee_id = d.mentee_id AND f.status = 'formed'
WHERE d.status = 'called_off'
"""


@pytest.fixture
def demo_places(tmp_path: Path, stack: object) -> Iterator[dict[str, object]]:
    """A demo run of this test's own: state, output, database, ports; cleaned up after."""
    places: dict[str, object] = {
        "state": tmp_path / "state",
        "output": tmp_path / "output",
        "database": f"binome_demo_e2e_{uuid.uuid4().hex[:8]}",
        "ports": [free_port() for _ in range(3)],
        "smtp_port": free_port(),
    }
    yield places
    demo("down", places)
    run_file = tmp_path / "state" / "run.json"
    prefix = json.loads(run_file.read_text("utf-8"))["topic_prefix"] if run_file.exists() else ""
    asyncio.run(_drop(stack, str(places["database"]), str(prefix)))


async def _drop(stack: object, database: str, prefix: str) -> None:
    conn = await asyncpg.connect(str(stack.admin_dsn))  # type: ignore[attr-defined]
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()
    if prefix:
        await delete_topics(str(stack.kafka_bootstrap), prefix)  # type: ignore[attr-defined]


def demo(action: str, places: dict[str, object]) -> subprocess.CompletedProcess[str]:
    ports = ",".join(str(port) for port in places["ports"])  # type: ignore[attr-defined]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "binome_devstack.demo",
            action,
            "--size",
            "committee",
            "--language",
            "en",
            "--state-dir",
            str(places["state"]),
            "--output-dir",
            str(places["output"]),
            "--database",
            str(places["database"]),
            "--ports",
            ports,
            "--smtp-port",
            str(places["smtp_port"]),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def test_the_demo_plays_a_committee_programme_end_to_end(
    demo_places: dict[str, object], stack: object
) -> None:
    played = await asyncio.to_thread(demo, "up", demo_places)
    assert played.returncode == 0, played.stdout[-3000:] + played.stderr[-3000:]

    output = Path(str(demo_places["output"]))
    summary = DemoSummary.model_validate_json((output / "summary.json").read_text("utf-8"))
    report, figures = summary.report, summary.figures
    # HR import: the three broken rows are refused with their line numbers; the rest go in.
    assert figures.hr_rows_refused == 3
    assert "line  " in played.stdout
    assert "X900001" in played.stdout
    assert report.mentees == COMMITTEE
    # Every executive gets a mentor, after HR rejected one proposal and re-matched.
    assert figures.proposals_rejected == 1
    assert report.pairs_formed == COMMITTEE
    assert report.funnel.formed == COMMITTEE
    # Six months later every pair is closed: most finished their plan, the rest by the end.
    assert report.active_pairs == 0
    assert report.completed_pairs == COMMITTEE
    assert figures.pairs_completed_plan + figures.pairs_ended_with_programme == COMMITTEE
    assert figures.pairs_completed_plan >= COMMITTEE // 2
    assert figures.sessions_held >= 4 * COMMITTEE
    # The services reacted on their own: introductions, invitations, reminders, feedback
    # requests and thanks; one e-mail file per e-mail sent; nothing dead-lettered.
    kinds = {entry.kind: entry.count for entry in report.notifications_by_kind}
    assert kinds["introduction"] == 2 * COMMITTEE
    assert kinds["pair_thanks"] == 2 * COMMITTEE
    assert kinds["session_invitation"] > 0
    assert kinds["session_reminder"] > 0
    assert kinds["feedback_request"] == 2 * figures.sessions_held
    # Only the executives' pairs were put to their members (the managers' were formed once
    # HR approved them); one executive declined by the e-mail's link and was re-paired (and
    # asked again); of the others two pairs in three accepted by the link, the rest through
    # the HR platform; pulse check-ins answered by their links, HR alerted.
    assert 0 < EXECUTIVES < COMMITTEE // 2
    assert SIZE.declines == 1
    assert figures.consent_pairs_asked == EXECUTIVES + SIZE.declines < COMMITTEE
    assert figures.consent_declined == SIZE.declines
    assert figures.consent_re_paired == SIZE.declines
    assert figures.consent_accepted == 2 * EXECUTIVES
    assert kinds["consent_request"] == 2 * (EXECUTIVES + SIZE.declines)
    assert report.consent.pairs_asked == EXECUTIVES + SIZE.declines
    assert (report.consent.accepted, report.consent.declined) == (EXECUTIVES, SIZE.declines)
    assert (report.consent.lapsed, report.consent.left, report.consent.pending) == (0, 0, 0)
    assert figures.pulse_answers > 0
    assert kinds["hr_help_alert"] >= 1
    answering = EXECUTIVES - SIZE.declines
    by_link = SIZE.declines + 2 * (answering - answering // 3) + 2 * SIZE.declines
    assert figures.link_clicks_recorded == figures.pulse_answers + by_link
    # A click is recorded, or refused when a pair ended in the week its pulse was asked.
    assert set(figures.link_clicks_by_outcome) <= {"recorded", "refused"}
    assert figures.link_clicks_by_outcome["recorded"] == figures.link_clicks_recorded
    eml_files = list((output / "mail").glob("*.eml"))
    assert len(eml_files) == figures.emails_sent == report.notifications_total
    assert report.dead_lettered_total == 0
    # The summary is what the databases, the DLQ topics and the mail folder say.
    run = json.loads((Path(str(demo_places["state"])) / "run.json").read_text("utf-8"))
    sources = {
        "admin_dsn": database_dsn(str(stack.admin_dsn), str(demo_places["database"])),  # type: ignore[attr-defined]
        "bootstrap": str(stack.kafka_bootstrap),  # type: ignore[attr-defined]
        "topic_prefix": str(run["topic_prefix"]),
        "mail_dir": output / "mail",
    }
    assert await check_summary(summary, **sources) == []  # type: ignore[arg-type]
    # The executive who declined (before their mentor answered) is now in a formed pair
    # with another mentor.
    conn = await asyncpg.connect(str(sources["admin_dsn"]))
    try:
        declined = [tuple(row) for row in await conn.fetch(DECLINED_PAIRS)]
    finally:
        await conn.close()
    assert len(declined) == SIZE.declines
    for mentor_id, _, mentor_answer, mentee_answer, new_mentor in declined:
        assert (mentor_answer, mentee_answer) == (None, "declined")
        assert new_mentor is not None
        assert new_mentor != mentor_id
    tampered = summary.model_copy(
        update={"report": report.model_copy(update={"pairs_formed": COMMITTEE - 1})}
    )
    assert [m.figure for m in await check_summary(tampered, **sources)][:1] == ["pairs formed"]  # type: ignore[arg-type]
    # The HTML report is a page with its charts.
    html = (output / "report.html").read_text("utf-8")
    assert html.count("<svg") >= 3
    assert "Binôme" in played.stdout

    stopped = await asyncio.to_thread(demo, "down", demo_places)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    ports = [*demo_places["ports"], demo_places["smtp_port"]]  # type: ignore[misc]
    assert not any(port_open(int(port)) for port in ports), "nothing is left listening"
