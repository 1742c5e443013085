"""The demo's closing figures, read from the services' own databases and the DLQ topics.

Nothing here comes from what the demo *sent*: pairs, scores and unmatched reasons come
from the pairing schema (its tables and the MatchingCompleted it published through its
outbox), sessions, stalls and completions from the sessions schema (each pair's track and
its outbox), notifications from the delivery ledger, dead letters from the ``.dlq``
topics' offsets, and e-mails from the ``.eml`` files on disk. The administrator's role
reads every schema; the services' own roles could not (privacy by design).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel, ConfigDict, Field

from binome_integrations.report.model import (
    BusinessUnitProgress,
    DeadLetterCount,
    KindCount,
    ProgrammeFunnel,
    ProgrammeReport,
    SessionsMonth,
    UnmatchedGroup,
)
from binome_sessions.domain.track import PairTrack
from binome_shared.contracts.sessions_messages import FeedbackMoment
from binome_shared.contracts.topics import ALL_TOPICS
from binome_shared.contracts.values import LocalisedText

_REASONS: dict[str, LocalisedText] = {
    "no_feasible_mentor": LocalisedText(
        fr="Aucun mentor ne respecte toutes les règles (langue, âge, ligne hiérarchique…).",
        en="No mentor meets every rule (language, age, reporting line…).",
    ),
    "no_feasible_mentee": LocalisedText(
        fr="Aucun mentoré compatible avec toutes les règles du programme.",
        en="No mentee is compatible under every rule of the programme.",
    ),
    "mentors_needed_elsewhere": LocalisedText(
        fr="Des mentors étaient possibles, mais tous sont mieux employés ailleurs (capacité).",
        en="Possible mentors are all better used in other pairs (capacity).",
    ),
    "not_needed": LocalisedText(
        fr="Plus de mentors que de mentorés : gardé en réserve.",
        en="More mentors than mentees: kept in reserve.",
    ),
}

_MATCHING_COMPLETED = """
SELECT convert_from(value, 'UTF8')::jsonb AS body
FROM pairing.outbox
WHERE header_values[array_position(header_names, 'ce_type')]
      = convert_to('binome.pairing.matching-completed', 'UTF8')
  AND header_values[array_position(header_names, 'ce_programmeid')] = convert_to($1, 'UTF8')
ORDER BY id
"""
_SESSIONS_EVENTS = """
SELECT convert_from(header_values[array_position(header_names, 'ce_type')], 'UTF8') AS type,
       convert_from(value, 'UTF8')::jsonb AS body
FROM sessions.outbox
WHERE header_values[array_position(header_names, 'ce_programmeid')] = convert_to($1, 'UTF8')
  AND convert_from(header_values[array_position(header_names, 'ce_type')], 'UTF8') = ANY($2)
"""


class DemoFigures(BaseModel):
    """Figures the programme report has no field for, shown under it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hr_rows: int = Field(ge=0, description="Data rows in the HR export.")
    hr_rows_refused: int = Field(ge=0)
    proposals_rejected: int = Field(ge=0, description="Proposals HR turned down.")
    pairs_completed_plan: int = Field(ge=0, description="Completed their whole plan.")
    pairs_ended_with_programme: int = Field(ge=0, description="Closed by the programme's end.")
    pairs_resumed: int = Field(ge=0, description="Stalled, then held a session again.")
    sessions_planned: int = Field(ge=0, description="In the pairs' plans, skipped ones excluded.")
    sessions_held: int = Field(ge=0)
    sessions_skipped: int = Field(ge=0)
    sessions_missed: int = Field(ge=0)
    fit_concerns: int = Field(ge=0, description="Pairs where someone answered 'not a good fit'.")
    objectives_set: int = Field(ge=0)
    objectives_met: int = Field(ge=0)
    feedback_given: int = Field(ge=0)
    deliveries_not_sent: dict[str, int] = Field(
        default_factory=dict, description="Deliveries by final status other than sent."
    )
    emails_sent: int = Field(ge=0, description="E-mail deliveries the ledger marks sent.")
    play_seconds: float = Field(default=0.0, ge=0)
    simulated_weeks: int = Field(default=0, ge=0)


class DemoSummary(BaseModel):
    """What ``summary.json`` holds: the programme report and the demo's extra figures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    report: ProgrammeReport
    figures: DemoFigures


def _month(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def unmatched_groups(last_round: Mapping[str, Any] | None) -> list[UnmatchedGroup]:
    """Everyone the last committed round left without a pair, grouped by reason."""
    if last_round is None:
        return []
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for person in last_round.get("unmatched", []):
        groups[(person["reason_code"], person["role"])].append(person)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [
        UnmatchedGroup(
            reason_code=code,
            role=role,
            reason=_REASONS.get(code) or LocalisedText.model_validate(people[0]["reason"]),
            count=len(people),
            examples=sorted(person["participant_id"] for person in people)[:3],
        )
        for (code, role), people in ordered
    ]


def sessions_by_month(
    tracks: Iterable[PairTrack], events: Iterable[tuple[str, Mapping[str, Any]]], zone: ZoneInfo
) -> list[SessionsMonth]:
    """Held and still planned sessions from the tracks; misses and cancellations from the
    events (a missed appointment goes back to *planned*, so only its event dates it)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for track in tracks:
        for session in track.sessions:
            if session.held_at is not None:
                counts[_month(session.held_at, zone)]["held"] += 1
            elif session.status.value == "scheduled" and session.scheduled_at is not None:
                counts[_month(session.scheduled_at, zone)]["planned"] += 1
    for event_type, body in events:
        if event_type == "binome.sessions.session-missed":
            moment = _moment(body.get("scheduled_at"))
            if moment is not None:
                counts[_month(moment, zone)]["missed"] += 1
        elif event_type == "binome.sessions.session-cancelled":
            moment = _moment(body.get("cancelled_starts_at"))
            if moment is not None:
                counts[_month(moment, zone)]["cancelled"] += 1
    return [
        SessionsMonth(
            month=month,
            planned=figures["planned"],
            held=figures["held"],
            missed=figures["missed"],
            cancelled=figures["cancelled"],
        )
        for month, figures in sorted(counts.items())
    ]


def business_units(tracks: Iterable[PairTrack]) -> list[BusinessUnitProgress]:
    """Progress by the mentees' business unit; small units are suppressed."""
    by_unit: dict[str, list[PairTrack]] = defaultdict(list)
    for track in tracks:
        by_unit[track.mentee_business_unit].append(track)
    entries = []
    for unit, members in sorted(by_unit.items(), key=lambda item: (-len(item[1]), item[0])):
        ratings = [
            feedback.rating
            for track in members
            for feedback in track.feedback
            if feedback.moment.value == FeedbackMoment.AFTER_SESSION.value
        ]
        completed = sum(1 for track in members if _completed_plan(track))
        entries.append(
            BusinessUnitProgress.measured(
                business_unit=unit,
                people=len({track.mentee_id for track in members}),
                pairs=len(members),
                sessions_planned=sum(track.sessions_planned for track in members),
                sessions_held=sum(track.sessions_held for track in members),
                completion_rate=completed / len(members),
                average_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
            )
        )
    return entries


def _completed_plan(track: PairTrack) -> bool:
    return track.completion_reason is not None and track.completion_reason.value == "plan_completed"


def count_eml_files(directory: Path) -> int:
    """E-mails the SMTP sink wrote."""
    return sum(1 for _ in directory.glob("*.eml")) if directory.is_dir() else 0


async def dead_letters(bootstrap: str, prefix: str) -> list[DeadLetterCount]:
    """Messages on each dead-letter topic of this run (offsets: nothing is consumed)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        existing = await consumer.topics()
        counts = []
        for spec in ALL_TOPICS:
            name = spec.dead_letter_name(prefix)
            if name not in existing:
                counts.append(DeadLetterCount(topic=name, count=0))
                continue
            partitions = [
                TopicPartition(name, partition)
                for partition in sorted(consumer.partitions_for_topic(name) or {0})
            ]
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
            counts.append(
                DeadLetterCount(topic=name, count=sum(ends[tp] - starts[tp] for tp in partitions))
            )
        return counts
    finally:
        await consumer.stop()


async def collect_summary(
    *,
    admin_dsn: str,
    bootstrap: str,
    topic_prefix: str,
    programme_id: str,
    mail_dir: Path,
    generated_at: datetime,
    hr_rows: int,
    hr_rows_refused: int,
) -> DemoSummary:
    """Read the run's figures from the databases, the DLQ topics and the mail folder."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        programme = await conn.fetchrow(
            "SELECT definition FROM pairing.programmes WHERE programme_id = $1", programme_id
        )
        if programme is None:
            raise LookupError(f"programme {programme_id} is not in the pairing database")
        definition = json.loads(programme["definition"])
        zone = ZoneInfo(definition["session_plan"]["time_zone"])
        roles = dict(
            await conn.fetch(
                "SELECT role, count(*) FROM pairing.participants"
                " WHERE programme_id = $1 AND status = 'enrolled' GROUP BY role",
                programme_id,
            )
        )
        pair_rows = await conn.fetch(
            "SELECT mentee_id, status, score FROM pairing.pairs WHERE programme_id = $1",
            programme_id,
        )
        rounds = [
            json.loads(row["body"]) for row in await conn.fetch(_MATCHING_COMPLETED, programme_id)
        ]
        tracks = [
            PairTrack.from_dict(json.loads(row["state"]))
            for row in await conn.fetch(
                "SELECT state FROM sessions.pairs WHERE programme_id = $1 AND state IS NOT NULL"
                " ORDER BY pair_id",
                programme_id,
            )
        ]
        events = [
            (row["type"], json.loads(row["body"]))
            for row in await conn.fetch(
                _SESSIONS_EVENTS,
                programme_id,
                [
                    "binome.sessions.session-missed",
                    "binome.sessions.session-cancelled",
                    "binome.sessions.pair-stalled",
                    "binome.sessions.pair-resumed",
                ],
            )
        ]
        deliveries = await conn.fetch(
            "SELECT kind, channel, status, count(*) AS count FROM notifications.deliveries"
            " WHERE programme_id = $1 GROUP BY kind, channel, status",
            programme_id,
        )
    finally:
        await conn.close()

    formed = [row for row in pair_rows if row["status"] == "formed"]
    committed_rounds = [body for body in rounds if not body.get("preview")]
    stalled_pairs = {body["pair_id"] for kind, body in events if kind.endswith("pair-stalled")}
    resumed_pairs = {body["pair_id"] for kind, body in events if kind.endswith("pair-resumed")}
    sent_by_kind: Counter[str] = Counter()
    not_sent: Counter[str] = Counter()
    emails_sent = 0
    for row in deliveries:
        if row["status"] == "sent":
            sent_by_kind[row["kind"]] += row["count"]
            emails_sent += row["count"] if row["channel"] == "email" else 0
        else:
            not_sent[row["status"]] += row["count"]
    completed_plan = sum(1 for track in tracks if _completed_plan(track))
    report = ProgrammeReport(
        programme_id=programme_id,
        programme_name=definition["name"],
        organisation=definition["organisation_name"],
        generated_at=generated_at,
        mentors=int(roles.get("mentor", 0)),
        mentees=int(roles.get("mentee", 0)),
        pairs_formed=len(formed),
        unmatched=unmatched_groups(committed_rounds[-1] if committed_rounds else None),
        pair_scores=sorted(float(row["score"]) for row in formed),
        funnel=ProgrammeFunnel(
            enrolled_mentees=int(roles.get("mentee", 0)),
            matched=len({row["mentee_id"] for row in pair_rows}),
            formed=len({row["mentee_id"] for row in formed}),
            first_session_held=sum(1 for track in tracks if track.sessions_held > 0),
            completed=completed_plan,
        ),
        sessions_by_month=sessions_by_month(tracks, events, zone),
        active_pairs=sum(1 for track in tracks if track.status.value == "active"),
        stalled_pairs=len(stalled_pairs),
        completed_pairs=sum(1 for track in tracks if track.status.value == "completed"),
        progress_by_business_unit=business_units(tracks),
        notifications_by_kind=[
            KindCount(kind=kind, count=count) for kind, count in sorted(sent_by_kind.items())
        ],
        dead_letters=await dead_letters(bootstrap, topic_prefix),
        emails_directory=str(mail_dir),
        emails_written=count_eml_files(mail_dir),
    )
    figures = DemoFigures(
        hr_rows=hr_rows,
        hr_rows_refused=hr_rows_refused,
        proposals_rejected=sum(1 for row in pair_rows if row["status"] == "rejected"),
        pairs_completed_plan=completed_plan,
        pairs_ended_with_programme=sum(
            1
            for track in tracks
            if track.completion_reason is not None
            and track.completion_reason.value == "programme_ended"
        ),
        pairs_resumed=len(resumed_pairs),
        sessions_planned=sum(track.sessions_planned for track in tracks),
        sessions_held=sum(track.sessions_held for track in tracks),
        sessions_skipped=sum(
            1 for track in tracks for session in track.sessions if session.status.value == "skipped"
        ),
        sessions_missed=sum(session.times_missed for track in tracks for session in track.sessions),
        fit_concerns=sum(
            1 for track in tracks if any(feedback.good_fit is False for feedback in track.feedback)
        ),
        objectives_set=sum(len(track.objectives) for track in tracks),
        objectives_met=sum(
            1
            for track in tracks
            for objective in track.objectives
            if objective.status.value == "met"
        ),
        feedback_given=sum(len(track.feedback) for track in tracks),
        deliveries_not_sent=dict(sorted(not_sent.items())),
        emails_sent=emails_sent,
    )
    return DemoSummary(report=report, figures=figures)
