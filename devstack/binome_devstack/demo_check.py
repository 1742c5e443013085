"""Check a demo's summary against the databases, the dead-letter topics and the mail folder.

The summary is built from what the services published (events on Kafka); this check
re-counts it another way, from the services' own schemas as the database administrator,
which only a verification tool of the local demo may do.
``python -m binome_devstack.demo_check`` re-counts, with queries of its own, what the summary
(``summary.json``) claims: pairs formed in pairing and followed by sessions and
notifications, unmatched people, sessions held, stalled and completed pairs, notifications
sent by kind (the ledger and the NotificationSent facts), ``.eml`` files, dead letters, pairs
asked to consent, their acceptances and declines, the pairs formed again after a decline,
pulse answers, e-mail links used.
Exit code 0 when every figure agrees, 1 otherwise (each disagreement is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from binome_devstack.demo_platform import DemoPlaces, database_dsn, read_run_file
from binome_devstack.demo_report import DemoSummary
from binome_devstack.settings import StackSettings
from binome_integrations.report.events import dead_letter_counts

_COUNTS = {
    "pairs formed (pairing)": (
        "SELECT count(*) FROM pairing.pairs WHERE programme_id = $1 AND status = 'formed'"
    ),
    "pairs followed (sessions)": "SELECT count(*) FROM sessions.pairs WHERE programme_id = $1",
    "pairs known (notifications)": (
        "SELECT count(*) FROM notifications.pairs WHERE programme_id = $1"
    ),
    "mentors": (
        "SELECT count(*) FROM pairing.participants"
        " WHERE programme_id = $1 AND role = 'mentor' AND status = 'enrolled'"
    ),
    "mentees": (
        "SELECT count(*) FROM pairing.participants"
        " WHERE programme_id = $1 AND role = 'mentee' AND status = 'enrolled'"
    ),
    "people in no formed pair": """
        SELECT count(*) FROM pairing.participants p
        WHERE p.programme_id = $1 AND p.status = 'enrolled' AND NOT EXISTS (
            SELECT 1 FROM pairing.pairs f
            WHERE f.programme_id = p.programme_id AND f.status = 'formed'
              AND p.participant_id IN (f.mentor_id, f.mentee_id))""",
    "active pairs": (
        "SELECT count(*) FROM sessions.pairs WHERE programme_id = $1 AND status = 'active'"
    ),
    "completed pairs": (
        "SELECT count(*) FROM sessions.pairs WHERE programme_id = $1 AND status = 'completed'"
    ),
    "pairs stalled at least once": """
        SELECT count(DISTINCT header_values[array_position(header_names, 'ce_subject')])
        FROM sessions.outbox
        WHERE header_values[array_position(header_names, 'ce_programmeid')]
              = convert_to($1, 'UTF8')
          AND header_values[array_position(header_names, 'ce_type')]
              = convert_to('binome.sessions.pair-stalled', 'UTF8')""",
    "sessions held": """
        SELECT count(*) FROM sessions.pairs, jsonb_array_elements(state -> 'sessions') s
        WHERE programme_id = $1 AND s ->> 'status' = 'held'""",
    "mentees with a session held": """
        SELECT count(DISTINCT mentee_id) FROM sessions.pairs
        WHERE programme_id = $1 AND EXISTS (
            SELECT 1 FROM jsonb_array_elements(state -> 'sessions') s
            WHERE s ->> 'status' = 'held')""",
    "pairs asked to consent": """
        SELECT count(*) FROM pairing.pair_consents c JOIN pairing.pairs p USING (tenant_id, pair_id)
        WHERE p.programme_id = $1""",
    "consent acceptances": """
        SELECT count(*) FILTER (WHERE c.mentor_answer = 'accepted')
             + count(*) FILTER (WHERE c.mentee_answer = 'accepted')
        FROM pairing.pair_consents c JOIN pairing.pairs p USING (tenant_id, pair_id)
        WHERE p.programme_id = $1""",
    "consent declines": """
        SELECT count(*) FILTER (WHERE c.mentor_answer = 'declined')
             + count(*) FILTER (WHERE c.mentee_answer = 'declined')
        FROM pairing.pair_consents c JOIN pairing.pairs p USING (tenant_id, pair_id)
        WHERE p.programme_id = $1 AND p.status = 'called_off'""",
    "pairs formed for a member of a declined pair": """
        SELECT count(*) FROM pairing.pairs f
        WHERE f.programme_id = $1 AND f.status = 'formed' AND EXISTS (
            SELECT 1 FROM pairing.pairs d JOIN pairing.pair_consents c USING (tenant_id, pair_id)
            WHERE d.tenant_id = f.tenant_id AND d.programme_id = f.programme_id
              AND d.status = 'called_off' AND 'declined' IN (c.mentor_answer, c.mentee_answer)
              AND (f.mentor_id IN (d.mentor_id, d.mentee_id)
                   OR f.mentee_id IN (d.mentor_id, d.mentee_id)))""",
    "pulse answers": """
        SELECT count(*) FROM sessions.pairs, jsonb_array_elements(state -> 'pulses') pulse,
                             jsonb_array_elements(pulse -> 'replies') reply
        WHERE programme_id = $1""",
    # One programme per demo database: every link used in it is this programme's.
    "action links used": """
        SELECT (SELECT count(*) FROM pairing.action_links_used)
             + (SELECT count(*) FROM sessions.action_links_used)
             + (SELECT count(*) FROM notifications.action_links_used)
        WHERE $1::text IS NOT NULL""",
    "notifications sent (ledger)": (
        "SELECT count(*) FROM notifications.deliveries WHERE programme_id = $1 AND status = 'sent'"
    ),
    "e-mails sent (ledger)": """
        SELECT count(*) FROM notifications.deliveries
        WHERE programme_id = $1 AND status = 'sent' AND channel = 'email'""",
    "notifications sent (NotificationSent facts)": """
        SELECT count(*) FROM notifications.outbox
        WHERE header_values[array_position(header_names, 'ce_programmeid')]
              = convert_to($1, 'UTF8')
          AND header_values[array_position(header_names, 'ce_type')]
              = convert_to('binome.notifications.notification-sent', 'UTF8')""",
}
_SENT_BY_KIND = """
SELECT kind, count(*) AS count FROM notifications.deliveries
WHERE programme_id = $1 AND status = 'sent' GROUP BY kind
"""
_NOT_SENT = """
SELECT status, count(*) AS count FROM notifications.deliveries
WHERE programme_id = $1 AND status <> 'sent' GROUP BY status
"""
_FORMED_SCORES = """
SELECT score FROM pairing.pairs WHERE programme_id = $1 AND status = 'formed' ORDER BY score
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class Mismatch:
    """A figure of the summary that the sources do not confirm."""

    figure: str
    summary: object
    source: object

    def __str__(self) -> str:
        return f"{self.figure}: summary says {self.summary}, the sources say {self.source}"


async def deliveries_not_sent(admin_dsn: str, programme_id: str) -> dict[str, int]:
    """Deliveries by final status other than sent, read from notifications' ledger.

    The one figure of the demo's summary that is not built from what the services publish:
    notifications publishes a NotificationFailed, but nothing for a reminder that expired,
    a delivery cancelled by a later change, or one still pending.
    """
    conn = await asyncpg.connect(admin_dsn)
    try:
        rows = await conn.fetch(_NOT_SENT, programme_id)
    finally:
        await conn.close()
    return {row["status"]: int(row["count"]) for row in sorted(rows, key=lambda row: row["status"])}


@dataclass(frozen=True, slots=True)
class Sources:
    """What the databases, the dead-letter topics and the mail folder say about a run."""

    counts: dict[str, int]
    """Each of ``_COUNTS``, by name."""
    sent_by_kind: dict[str, int]
    formed_scores: list[float]
    dead_letters: int
    eml_files: int


async def read_sources(
    programme_id: str, *, admin_dsn: str, bootstrap: str, topic_prefix: str, mail_dir: Path
) -> Sources:
    """Re-count the programme's figures from the sources, as the database administrator."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        counts = {
            name: int(await conn.fetchval(query, programme_id)) for name, query in _COUNTS.items()
        }
        by_kind = {
            row["kind"]: int(row["count"]) for row in await conn.fetch(_SENT_BY_KIND, programme_id)
        }
        scores = [float(row["score"]) for row in await conn.fetch(_FORMED_SCORES, programme_id)]
    finally:
        await conn.close()
    return Sources(
        counts=counts,
        sent_by_kind=by_kind,
        formed_scores=scores,
        dead_letters=sum(
            entry.count for entry in await dead_letter_counts(bootstrap, topic_prefix)
        ),
        eml_files=await asyncio.to_thread(lambda: sum(1 for _ in mail_dir.glob("*.eml"))),
    )


async def check_summary(
    summary: DemoSummary, *, admin_dsn: str, bootstrap: str, topic_prefix: str, mail_dir: Path
) -> list[Mismatch]:
    """Every figure of ``summary`` the sources disagree with (empty when all agree)."""
    sources = await read_sources(
        summary.report.programme_id,
        admin_dsn=admin_dsn,
        bootstrap=bootstrap,
        topic_prefix=topic_prefix,
        mail_dir=mail_dir,
    )
    return mismatches(summary, sources)


def mismatches(summary: DemoSummary, sources: Sources) -> list[Mismatch]:
    """Every figure of ``summary`` that ``sources`` do not confirm."""
    report, figures, counts = summary.report, summary.figures, sources.counts
    expected: list[tuple[str, object, object]] = [
        ("pairs formed", report.pairs_formed, counts["pairs formed (pairing)"]),
        (
            "pairs followed by sessions",
            report.pairs_formed,
            counts["pairs followed (sessions)"],
        ),
        (
            # Notifications learns of a pair when it is formed, or first when it is put to
            # its members: a pair called off before it was formed stays known to it.
            "pairs known to notifications",
            report.pairs_formed + _called_off_before_forming(summary),
            counts["pairs known (notifications)"],
        ),
        ("mentors", report.mentors, counts["mentors"]),
        ("mentees", report.mentees, counts["mentees"]),
        ("unmatched", report.unmatched_total, counts["people in no formed pair"]),
        ("active pairs", report.active_pairs, counts["active pairs"]),
        ("completed pairs", report.completed_pairs, counts["completed pairs"]),
        ("stalled pairs", report.stalled_pairs, counts["pairs stalled at least once"]),
        ("sessions held", figures.sessions_held, counts["sessions held"]),
        (
            "sessions held by month",
            sum(m.held for m in report.sessions_by_month),
            counts["sessions held"],
        ),
        (
            "first session held",
            report.funnel.first_session_held,
            counts["mentees with a session held"],
        ),
        (
            "notifications sent",
            report.notifications_total,
            counts["notifications sent (ledger)"],
        ),
        (
            "notifications sent (facts)",
            report.notifications_total,
            counts["notifications sent (NotificationSent facts)"],
        ),
        (
            "notifications by kind",
            {k.kind: k.count for k in report.notifications_by_kind},
            sources.sent_by_kind,
        ),
        ("e-mails sent", figures.emails_sent, counts["e-mails sent (ledger)"]),
        ("e-mails written (.eml)", report.emails_written, counts["e-mails sent (ledger)"]),
        ("pair scores", sorted(report.pair_scores), sources.formed_scores),
        (
            "dead letters",
            report.dead_lettered_total,
            sources.dead_letters,
        ),
        ("e-mail files on disk", report.emails_written, sources.eml_files),
        (
            "pairs asked to consent",
            figures.consent_pairs_asked,
            counts["pairs asked to consent"],
        ),
        ("consent acceptances", figures.consent_accepted, counts["consent acceptances"]),
        ("consent declines", figures.consent_declined, counts["consent declines"]),
        (
            "re-paired after a decline",
            figures.consent_re_paired,
            counts["pairs formed for a member of a declined pair"],
        ),
        ("pulse answers", figures.pulse_answers, counts["pulse answers"]),
        ("link clicks recorded", figures.link_clicks_recorded, counts["action links used"]),
    ]
    return [
        Mismatch(figure=figure, summary=claimed, source=found)
        for figure, claimed, found in expected
        if claimed != found
    ]


def _called_off_before_forming(summary: DemoSummary) -> int:
    """Pairs asked to consent and called off: declined, lapsed, or a member left."""
    consent = summary.report.consent
    return summary.figures.consent_declined + (consent.lapsed or 0) + (consent.left or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Check the last run's ``summary.json``; exit 1 on any disagreement."""
    parser = argparse.ArgumentParser(prog="binome-demo-check", description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", default=None, help="The run's state (.stack/demo).")
    parser.add_argument("--output-dir", default="demo-output", help="Where summary.json is.")
    arguments = parser.parse_args(argv)
    settings = StackSettings.from_env()
    places = DemoPlaces(
        state_dir=Path(arguments.state_dir or settings.stack_dir / "demo").resolve(),
        output_dir=Path(arguments.output_dir).resolve(),
        database="",
        ports={},
        smtp_port=0,
    )
    run = read_run_file(places)
    if run is None:
        print(f"no demo run recorded in {places.state_dir}", file=sys.stderr)
        return 2
    summary = DemoSummary.model_validate(
        json.loads((places.output_dir / "summary.json").read_text(encoding="utf-8"))
    )
    mismatches = asyncio.run(
        check_summary(
            summary,
            admin_dsn=database_dsn(settings.admin_dsn, str(run["database"])),
            bootstrap=settings.kafka_bootstrap,
            topic_prefix=str(run["topic_prefix"]),
            mail_dir=places.mail_dir,
        )
    )
    for mismatch in mismatches:
        print(f"✗ {mismatch}")
    if not mismatches:
        print(f"✓ summary.json agrees with the databases, the DLQ topics and {places.mail_dir}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
