"""From a programme's published history to its report: pure, so the demo and the platform
compute the same figures the same way."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from binome_integrations.report.followup import (
    consent_figures,
    imposed_counts,
    pulse_rounds,
    ratings_by_session,
)
from binome_integrations.report.history import ProgrammeHistory, TrackedPair
from binome_integrations.report.model import (
    BusinessUnitProgress,
    DeadLetterCount,
    KindCount,
    ProgrammeFunnel,
    ProgrammeReport,
    SessionsMonth,
    UnmatchedGroup,
)
from binome_shared.contracts.pairing_events import MatchingCompleted, UnmatchedParticipant
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages import FeedbackMoment
from binome_shared.contracts.values import LocalisedText

REASONS: dict[str, LocalisedText] = {
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
"""How the report words each reason a round leaves someone unmatched (shorter than the
round's own explanation, which is used for a reason not listed here)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Delivery:
    """What the report shows of the run's surroundings: dead letters and e-mail files."""

    dead_letters: Sequence[DeadLetterCount] = ()
    emails_directory: str | None = None
    emails_written: int = 0


def programme_report(
    history: ProgrammeHistory,
    *,
    programme_id: str,
    generated_at: datetime,
    delivery: Delivery = Delivery(),
) -> ProgrammeReport:
    """The programme's report, as of the last message folded into ``history``."""
    definition = history.definition
    if definition is None:
        raise LookupError(f"no DefineProgramme was published for {programme_id}")
    zone = ZoneInfo(definition.session_plan.time_zone)
    tracks = history.tracks()
    formed = history.formed_pairs
    mentees = history.role_count(ParticipantRole.MENTEE)
    imposed, overrides = imposed_counts(formed)
    return ProgrammeReport(
        programme_id=programme_id,
        programme_name=definition.name,
        organisation=definition.organisation_name,
        generated_at=generated_at,
        mentors=history.role_count(ParticipantRole.MENTOR),
        mentees=mentees,
        pairs_formed=len(formed),
        unmatched=unmatched_groups(history.last_round),
        pair_scores=sorted(pair.explanation.score for pair in formed),
        funnel=ProgrammeFunnel(
            enrolled_mentees=mentees,
            matched=len(history.matched_mentees),
            formed=len({pair.mentee.participant_id for pair in formed}),
            first_session_held=sum(1 for track in tracks if track.followed.sessions_held > 0),
            completed=sum(1 for track in tracks if track.completed_plan),
        ),
        sessions_by_month=sessions_by_month(history, tracks, zone),
        active_pairs=sum(1 for track in tracks if track.active),
        stalled_pairs=len(history.stalled),
        completed_pairs=sum(1 for track in tracks if track.followed.completion is not None),
        progress_by_business_unit=business_units(tracks),
        notifications_by_kind=[
            KindCount(kind=kind, count=count)
            for kind, count in sorted(history.sent_by_kind.items())
        ],
        dead_letters=list(delivery.dead_letters),
        emails_directory=delivery.emails_directory,
        emails_written=delivery.emails_written,
        imposed_pairs=imposed,
        imposed_overrides=overrides,
        consent=consent_figures(history.follow_up),
        pulse_rounds=pulse_rounds(history.follow_up),
        ratings_by_session=ratings_by_session(history.follow_up),
    )


def unmatched_groups(last_round: MatchingCompleted | None) -> list[UnmatchedGroup]:
    """Everyone the last committed round left without a pair, grouped by reason."""
    if last_round is None:
        return []
    groups: dict[tuple[str, str], list[UnmatchedParticipant]] = defaultdict(list)
    for person in last_round.unmatched:
        groups[(person.reason_code, person.role)].append(person)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [
        UnmatchedGroup(
            reason_code=code,
            role=role,
            reason=REASONS.get(code) or people[0].reason,
            count=len(people),
            examples=sorted(person.participant_id for person in people)[:3],
        )
        for (code, role), people in ordered
    ]


def sessions_by_month(
    history: ProgrammeHistory, tracks: Iterable[TrackedPair], zone: ZoneInfo
) -> list[SessionsMonth]:
    """Held and still scheduled sessions from each pair's sessions; misses and cancellations
    from their facts (a missed appointment goes back to be scheduled, so only its fact
    dates it)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)

    def count(moments: Iterable[datetime | None], column: str) -> None:
        for moment in moments:
            if moment is not None:
                counts[moment.astimezone(zone).strftime("%Y-%m")][column] += 1

    for track in tracks:
        count(track.followed.held_at(), "held")
        count(track.followed.scheduled_starts(), "planned")
    count(history.misses, "missed")
    count(history.cancellations, "cancelled")
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


def business_units(tracks: Iterable[TrackedPair]) -> list[BusinessUnitProgress]:
    """Progress by the mentees' business unit; small units are suppressed."""
    by_unit: dict[str, list[TrackedPair]] = defaultdict(list)
    for track in tracks:
        by_unit[track.formed.mentee.business_unit].append(track)
    entries = []
    for unit, members in sorted(by_unit.items(), key=lambda item: (-len(item[1]), item[0])):
        ratings = [
            feedback.rating
            for track in members
            for feedback in track.followed.feedback
            if feedback.moment is FeedbackMoment.AFTER_SESSION
        ]
        entries.append(
            BusinessUnitProgress.measured(
                business_unit=unit,
                people=len({track.formed.mentee.participant_id for track in members}),
                pairs=len(members),
                sessions_planned=sum(track.followed.sessions_planned for track in members),
                sessions_held=sum(track.followed.sessions_held for track in members),
                completion_rate=sum(track.completed_plan for track in members) / len(members),
                average_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
            )
        )
    return entries
