"""The demo's closing figures, read from what the platform published.

Nothing here comes from what the demo *sent* to the participants, nor from a service's
schema: the programme report is the one the report server answered
(:mod:`binome_devstack.demo_served_report`, built from the events on Kafka and the HR
commands that defined the programme and enrolled its people); the demo adds what only an
operator sees, the dead letters from the ``.dlq`` topics' offsets (shared by all tenants,
so never in a tenant's report) and the ``.eml`` files on disk; its extra figures are folded
from the same events (:class:`~binome_integrations.report.events.ProgrammeEvents`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from binome_integrations.report.events import ProgrammeEvents, dead_letter_counts
from binome_integrations.report.history import ProgrammeHistory, programme_history
from binome_integrations.report.model import ProgrammeReport
from binome_shared.contracts.sessions_messages import CompletionReason


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
    fit_concerns: int = Field(
        ge=0, description="Running pairs where someone answered 'not a good fit'."
    )
    objectives_set: int = Field(ge=0)
    objectives_met: int = Field(ge=0)
    feedback_given: int = Field(ge=0)
    deliveries_not_sent: dict[str, int] = Field(
        default_factory=dict,
        description=(
            "Deliveries by final status other than sent (from notifications' ledger: "
            "expired, cancelled and pending deliveries are published by no service)."
        ),
    )
    emails_sent: int = Field(ge=0, description="E-mails notifications reported sent.")
    consent_pairs_asked: int = Field(
        default=0, ge=0, description="Pairs put to their members (PairConsentRequested)."
    )
    consent_accepted: int = Field(default=0, ge=0, description="Acceptances (PairAccepted).")
    consent_declined: int = Field(default=0, ge=0, description="Pairs declined by a member.")
    consent_re_paired: int = Field(
        default=0,
        ge=0,
        description="Pairs formed after a decline for a member of a declined pair (repairs).",
    )
    pulse_answers: int = Field(default=0, ge=0, description="Pulse answers clicked in e-mails.")
    link_clicks_recorded: int = Field(
        default=0, ge=0, description="E-mail action links clicked whose page said 'recorded'."
    )
    link_clicks_by_outcome: dict[str, int] = Field(
        default_factory=dict, description="Every click by what its page answered."
    )
    play_seconds: float = Field(default=0.0, ge=0)
    simulated_weeks: int = Field(default=0, ge=0)


class DemoSummary(BaseModel):
    """What ``summary.json`` holds: the programme report and the demo's extra figures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    report: ProgrammeReport
    figures: DemoFigures


def count_eml_files(directory: Path) -> int:
    """E-mails the SMTP sink wrote."""
    return sum(1 for _ in directory.glob("*.eml")) if directory.is_dir() else 0


def demo_figures(history: ProgrammeHistory, *, hr_rows: int, hr_rows_refused: int) -> DemoFigures:
    """The figures the report has no field for, from the same history."""
    tracks = history.tracks()
    followed = [track.followed for track in tracks]
    return DemoFigures(
        hr_rows=hr_rows,
        hr_rows_refused=hr_rows_refused,
        proposals_rejected=history.proposals_rejected,
        pairs_completed_plan=sum(track.completed_plan for track in tracks),
        pairs_ended_with_programme=sum(
            pair.completion is CompletionReason.PROGRAMME_ENDED for pair in followed
        ),
        pairs_resumed=len(history.resumed),
        sessions_planned=sum(pair.sessions_planned for pair in followed),
        sessions_held=sum(pair.sessions_held for pair in followed),
        sessions_skipped=sum(pair.sessions_skipped for pair in followed),
        sessions_missed=len(history.misses),
        fit_concerns=sum(pair.fit_concern for pair in followed),
        objectives_set=sum(pair.objectives_set for pair in followed),
        objectives_met=sum(pair.objectives_met for pair in followed),
        feedback_given=sum(len(pair.feedback) for pair in followed),
        emails_sent=history.emails_sent,
    )


async def collect_summary(
    *,
    bootstrap: str,
    topic_prefix: str,
    tenant_id: str,
    programme_id: str,
    mail_dir: Path,
    served: ProgrammeReport,
    hr_rows: int,
    hr_rows_refused: int,
) -> DemoSummary:
    """The served report with the run's dead letters and mail folder, and the demo's extra
    figures read from Kafka (events, HR commands)."""
    envelopes = await ProgrammeEvents(
        bootstrap_servers=bootstrap,
        topic_prefix=topic_prefix,
        tenant_id=tenant_id,
        programme_id=programme_id,
    ).collect()
    history = programme_history(envelopes)
    report = served.model_copy(
        update={
            "dead_letters": await dead_letter_counts(bootstrap, topic_prefix),
            "emails_directory": str(mail_dir),
            "emails_written": count_eml_files(mail_dir),
        }
    )
    figures = demo_figures(history, hr_rows=hr_rows, hr_rows_refused=hr_rows_refused)
    return DemoSummary(report=report, figures=figures)
