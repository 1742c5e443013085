"""``make demo``: a whole reverse-mentoring programme, played end to end on the local platform.

``up`` starts what is not running of the stack (Kafka, PostgreSQL), gives this run a clean
slate (a fresh database and a topic prefix of its own; the previous run's processes,
database and topics are removed), starts a local SMTP sink and the three services on a
simulated clock, then plays the programme as HR and the participants would:

1. HR defines the programme (rules, six-session déroulé over six months), records the
   reporting lines and imports the generated cohort from a CSV export, through the same
   path as ``binome-hr-import`` (broken rows are reported with their line numbers);
2. HR asks for a matching round, rejects a few proposals, asks for a second round for
   those people and approves the rest: pairs are formed;
3. the clock moves a week at a time; each week the pairs book, hold or miss sessions, give
   feedback and move their objectives, while the services do the rest (introductions,
   invitations, reminders, feedback requests, stall detection, completions);
4. the figures are read back from what the services published (their events on Kafka,
   with HR's own commands) and the dead-letter topics: a summary in the terminal,
   ``summary.json``, an HTML report, and every e-mail as ``.eml``.

``down`` stops the processes the run started and whatever part of the stack ``up`` started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from binome_devstack.demo_check import deliveries_not_sent
from binome_devstack.demo_cohort import (
    DEFAULT_SIZE,
    EXECUTIVE_GRADE,
    SIZES,
    TENANT_ID,
    DemoSize,
    demo_cohort,
    export_with_mistakes,
    first_monday_after,
    programme_definition,
)
from binome_devstack.demo_consent import ConsentPlay
from binome_devstack.demo_links import EmailReaders
from binome_devstack.demo_platform import (
    CALENDAR_SOURCE,
    DEFAULT_PORTS,
    DEFAULT_SMTP_PORT,
    DEMO_SOURCE,
    CommandSender,
    DemoError,
    DemoPlaces,
    DemoProcesses,
    DemoRun,
    EventReader,
    PlatformProbe,
    database_dsn,
    delete_topics,
    move_clocks,
    read_run_file,
    recreate_database,
    stop_recorded_processes,
)
from binome_devstack.demo_report import DemoSummary, collect_summary, count_eml_files
from binome_devstack.demo_served_report import (
    REPORT_SERVER,
    ServedReport,
    fetch_served_report,
    report_port,
    report_server_command,
    report_server_env,
    wait_report_server,
    write_served_page,
)
from binome_devstack.demo_simulation import PairPeople, ProgrammeSimulation
from binome_devstack.local_tokens import LocalTokens
from binome_devstack.settings import StackSettings
from binome_devstack.stack import append_owner_file, ensure_stack, read_owner_file, stop_stack
from binome_integrations.hr_publishing import publish_participants
from binome_integrations.language import default_language, localised
from binome_integrations.participants_csv import parse_participants_csv
from binome_integrations.report.terminal import render_terminal
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import (
    ApprovePair,
    MatchingScope,
    RecordReportingLines,
    RejectPair,
    RequestMatching,
)
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    PairFormed,
    PairProposed,
)
from binome_shared.contracts.participants import ParticipantProfile
from binome_shared.contracts.topics import ALL_TOPICS, PAIRING_EVENTS
from binome_shared.contracts.values import Language, LocalisedText
from binome_shared.db.provision import SERVICES
from binome_shared.runtime.observability import tracer_provider
from binome_shared.runtime.topic_policy import single_broker_policy
from binome_shared.runtime.topics import ensure_topics

SERVICE_ENV = {"BINOME_LOG_LEVEL": "WARNING"}
"""Given to every service: each refuses a ``BINOME_*`` variable it does not read, so what
one service alone reads goes in :data:`OWN_ENV`."""
NOTIFICATIONS_ENV = {
    # One HR mailbox receives every alert of a thousand pairs in the same simulated minute.
    "BINOME_RATE_PER_RECIPIENT_BURST": "1000",
    # Sending is latency-bound: keep a few SMTP transactions in flight.
    "BINOME_DELIVERY_CONCURRENCY": "8",
}
OWN_ENV = {"notifications": NOTIFICATIONS_ENV}
REJECTION_REASON = "Déjà en contact au quotidien / already work together every day"

_TEXTS: dict[str, LocalisedText] = {
    "title": LocalisedText(
        fr="Binôme — démonstration : un programme de mentorat inversé de bout en bout",
        en="Binôme — demo: a reverse-mentoring programme from start to finish",
    ),
    "size": LocalisedText(
        fr="Taille : {label} (graine {seed}), début le {start}",
        en="Size: {label} (seed {seed}), starting on {start}",
    ),
    "stack": LocalisedText(fr="Kafka et PostgreSQL prêts.", en="Kafka and PostgreSQL ready."),
    "slate": LocalisedText(
        fr="Nouvelle exécution {run} : base {database}, préfixe de topics « {prefix} »",
        en="New run {run}: database {database}, topic prefix '{prefix}'",
    ),
    "services": LocalisedText(
        fr="Services démarrés (horloge simulée) : {where}",
        en="Services started (simulated clock): {where}",
    ),
    "export": LocalisedText(
        fr="Export RH écrit : {path} ({rows} lignes)",
        en="HR export written: {path} ({rows} rows)",
    ),
    "refused": LocalisedText(
        fr="Import RH : {count} ligne(s) refusée(s), les autres sont importées :",
        en="HR import: {count} row(s) refused, the others go in:",
    ),
    "line": LocalisedText(fr="ligne", en="line"),
    "enrolled": LocalisedText(
        fr="{count} inscriptions envoyées sur {topic}.",
        en="{count} enrolments sent to {topic}.",
    ),
    "round": LocalisedText(
        fr="Appariement {round} : {pairs} binômes proposés, {unmatched} personnes sans binôme.",
        en="Matching {round}: {pairs} pairs proposed, {unmatched} people unmatched.",
    ),
    "decided": LocalisedText(
        fr="RH : {approved} propositions approuvées, {rejected} refusée(s).",
        en="HR: {approved} proposals approved, {rejected} rejected.",
    ),
    "formed": LocalisedText(fr="{count} binômes formés.", en="{count} pairs formed."),
    "consent": LocalisedText(
        fr="Accord des participants demandé pour {asked} binômes (mentorés de niveau {grade} et "
        "plus ; les {direct} autres sont formés sans leur demander) : {clicked} acceptations "
        "par le lien de l'e-mail, {platform} par la plateforme RH, {declined} refus par le lien.",
        en="Participants asked to accept {asked} pairs (mentees of grade {grade} and above; the "
        "other {direct} are formed without asking them): {clicked} accepted through the "
        "e-mail's link, {platform} through the HR platform, {declined} declined by the link.",
    ),
    "re_paired": LocalisedText(
        fr="Après {declined} refus : binôme(s) annulé(s), {proposed} nouvelle(s) proposition(s) "
        "du réappariement, approuvée(s) par les RH, dont {asked} soumise(s) à l'accord.",
        en="After {declined} decline(s): pair(s) called off, {proposed} new proposal(s) from "
        "the repair round, approved by HR, {asked} of them put to their members.",
    ),
    "playing": LocalisedText(
        fr="Six mois de programme, une semaine à la fois :",
        en="Six months of programme, one week at a time:",
    ),
    "week": LocalisedText(fr="semaine", en="week"),
    "mails": LocalisedText(fr="e-mails", en="e-mails"),
    "commands": LocalisedText(fr="commandes", en="commands"),
    "extra_title": LocalisedText(fr="Et aussi", en="Also"),
    "held_vs_planned": LocalisedText(
        fr="Séances tenues / prévues : {held} / {planned} ({skipped} sautées, {missed} manquées)",
        en="Sessions held / planned: {held} / {planned} ({skipped} skipped, {missed} missed)",
    ),
    "completions": LocalisedText(
        fr="Binômes terminés : {plan} ont suivi tout le déroulé, {ended} clos par la fin du "
        "programme",
        en="Pairs completed: {plan} finished the whole plan, {ended} closed by the programme's end",
    ),
    "stalls": LocalisedText(
        fr="À l'arrêt au moins une fois : {stalled} binômes ({resumed} ont repris)",
        en="Stalled at least once: {stalled} pairs ({resumed} resumed)",
    ),
    "fit": LocalisedText(
        fr="« Pas un bon binôme » : {count} binômes · objectifs atteints {met} / {set}",
        en="'Not a good fit': {count} pairs · objectives met {met} / {set}",
    ),
    "hr": LocalisedText(
        fr="Import RH : {rows} lignes, {refused} refusées · propositions refusées par les RH : "
        "{rejected}",
        en="HR import: {rows} rows, {refused} refused · proposals rejected by HR: {rejected}",
    ),
    "links": LocalisedText(
        fr="Liens des e-mails : {clicks} clics enregistrés · accord demandé pour {asked} "
        "binômes, {accepted} acceptations, {declined} refus, {repaired} réappariement(s) · {pulse} "
        "réponses aux baromètres",
        en="E-mail links: {clicks} clicks recorded · consent asked for {asked} pairs, "
        "{accepted} acceptances, {declined} declines, {repaired} re-paired · {pulse} pulse "
        "answers",
    ),
    "not_sent": LocalisedText(
        fr="Notifications non envoyées (par statut) : {detail}",
        en="Notifications not sent (by status): {detail}",
    ),
    "timing": LocalisedText(
        fr="Durée du jeu : {seconds:.0f} s pour {weeks} semaines simulées",
        en="Play time: {seconds:.0f} s for {weeks} simulated weeks",
    ),
    "written": LocalisedText(
        fr="Rapport HTML : {html}\nRésumé JSON : {json}\nE-mails (.eml) : {mail}",
        en="HTML report: {html}\nJSON summary: {json}\nE-mails (.eml): {mail}",
    ),
    "running": LocalisedText(
        fr="La plateforme reste démarrée (ports {ports}). Tout arrêter : make demo-stop",
        en="The platform keeps running (ports {ports}). Stop everything: make demo-stop",
    ),
    "interrupted": LocalisedText(
        fr="Interrompu : arrêt de ce que la démo a démarré…",
        en="Interrupted: stopping what the demo started…",
    ),
}


def _text(language: Language, key: str, **values: Any) -> str:
    return localised(_TEXTS[key], language, **values)


def _say(message: str) -> None:
    print(message, flush=True)


def _number(value: int, language: Language) -> str:
    return f"{value:,}".replace(",", "\u202f" if language is Language.FR else ",")


class ProgressBar:
    """A plain text progress bar on stderr: redrawn in place on a terminal, else one line
    per step (logs of CI stay readable)."""

    def __init__(self, *, total: int, width: int = 30) -> None:
        self._total = max(total, 1)
        self._width = width
        self._interactive = sys.stderr.isatty()

    def show(self, done: int, caption: str) -> None:
        """Draw the bar at ``done`` of ``total`` with a caption."""
        filled = round(self._width * done / self._total)
        bar = "█" * filled + "░" * (self._width - filled)
        line = f"  [{bar}] {done}/{self._total}  {caption}"
        if self._interactive:
            sys.stderr.write("\r\033[K" + line)
            if done >= self._total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoOptions:
    """What the command line chose."""

    size: DemoSize
    seed: int
    language: Language
    places: DemoPlaces


def _places(arguments: argparse.Namespace, settings: StackSettings) -> DemoPlaces:
    ports = [int(port) for port in arguments.ports.split(",")] if arguments.ports else []
    return DemoPlaces(
        state_dir=Path(arguments.state_dir or settings.stack_dir / "demo").resolve(),
        output_dir=Path(arguments.output_dir).resolve(),
        database=arguments.database,
        ports=dict(zip(SERVICES, ports, strict=True)) if ports else dict(DEFAULT_PORTS),
        smtp_port=arguments.smtp_port,
    )


# ---------------------------------------------------------------------------- the play


def _hr(data: Message, *, programme_id: str, now: datetime) -> Envelope[Any]:
    return Envelope.new(
        data, source=DEMO_SOURCE, time=now, tenant_id=TENANT_ID, programme_id=programme_id
    )


def _pair_people(formed: PairFormed, by_id: Mapping[str, ParticipantProfile]) -> PairPeople:
    """What the simulation needs of a formed pair's people, from their HR profiles."""
    mentee, mentor = by_id[formed.mentee.participant_id], by_id[formed.mentor.participant_id]
    return PairPeople(
        pair_id=formed.pair_id,
        mentor_id=formed.mentor.participant_id,
        mentee_id=formed.mentee.participant_id,
        mentee_slots=tuple(mentee.availability),
        mentee_time_zone=mentee.time_zone,
        mentee_language=mentee.preferred_language,
        mentor_language=mentor.preferred_language,
        mentee_needs=tuple(
            need.topic for need in sorted(mentee.learning_needs, key=lambda need: -need.priority)
        ),
    )


class DemoPlay:
    """One run: HR's setup, the matching rounds, the weeks, the figures."""

    def __init__(self, *, options: DemoOptions, run: DemoRun) -> None:
        self._options = options
        self._places = options.places
        self._language = options.language
        self._run = run
        self.programme_id = f"programme-{run.run_id}"
        self._sender = CommandSender(run)
        self._pairing_events = EventReader(run, PAIRING_EVENTS)
        self._probe = PlatformProbe(run)
        self._readers = EmailReaders(options.places.mail_dir)
        self._now = datetime.now(UTC)

    def _say(self, key: str, **values: Any) -> None:
        _say(_text(self._language, key, **values))

    async def run(self) -> DemoSummary:
        """Play the whole programme; returns the figures read back at the end."""
        await ensure_topics(
            self._run.kafka_bootstrap,
            ALL_TOPICS,
            policy=single_broker_policy(),
            prefix=self._run.topic_prefix,
        )
        processes = DemoProcesses(
            places=self._places, run=self._run, extra_env=SERVICE_ENV, own_env=OWN_ENV
        )
        processes.start_sink()
        for name in SERVICES:
            processes.start_service(name)
        await asyncio.gather(*(processes.wait_ready(name) for name in SERVICES))
        report_url = await _start_report_server(processes, self._places, self._run)
        self._say(
            "services",
            where=", ".join(f"{name} :{port}" for name, port in self._places.ports.items()),
        )
        await self._sender.start()
        await self._pairing_events.start()
        await self._probe.start()
        try:
            started = time.monotonic()
            await move_clocks(self._places, self._now)
            hr_rows, refused, simulation = await self._setup()
            await self._play(simulation)
            play_seconds = time.monotonic() - started
            served = await _served_report(
                report_url, self._places, self.programme_id, self._language
            )
            summary = await collect_summary(
                bootstrap=self._run.kafka_bootstrap,
                topic_prefix=self._run.topic_prefix,
                tenant_id=TENANT_ID,
                programme_id=self.programme_id,
                mail_dir=self._places.mail_dir,
                served=served.report,
                hr_rows=hr_rows,
                hr_rows_refused=refused,
            )
            figures = summary.figures.model_copy(
                update={
                    "play_seconds": round(play_seconds, 1),
                    "simulated_weeks": simulation.weeks,
                    "deliveries_not_sent": await deliveries_not_sent(
                        self._run.admin_dsn, self.programme_id
                    ),
                    **self._readers.figures(
                        [envelope.data for envelope in self._pairing_events.envelopes]
                    ),
                }
            )
            return summary.model_copy(update={"figures": figures})
        finally:
            await self._probe.stop()
            await self._pairing_events.stop()
            await self._sender.stop()
            await self._readers.aclose()

    async def _send(self, envelopes: Sequence[Envelope[Any]]) -> None:
        await self._sender.send(envelopes)

    async def _send_hr(self, commands: Sequence[Message]) -> None:
        await self._send(
            [_hr(command, programme_id=self.programme_id, now=self._now) for command in commands]
        )

    async def _setup(
        self,
    ) -> tuple[int, int, ProgrammeSimulation]:
        size, places, language = self._options.size, self._places, self._language
        starts_on = first_monday_after(self._now.date())
        self._say(
            "size",
            label=size.label.in_language(language),
            seed=self._options.seed,
            start=starts_on,
        )
        cohort = demo_cohort(size, seed=self._options.seed, starts_on=starts_on)
        definition = programme_definition(cohort, size=size)
        export = places.output_dir / "participants.csv"
        export_with_mistakes(cohort.participants, export)
        imported = parse_participants_csv(export)
        self._say("export", path=export, rows=imported.rows)
        if imported.problems:
            self._say("refused", count=len(imported.refused_lines))
            for problem in imported.problems:
                _say(
                    f"    {_text(language, 'line')} {problem.line:>5}  "
                    f"{problem.participant_id or '—':<8}  {problem.message(language)}"
                )
        commands: list[Message] = [definition]
        if cohort.reporting_lines:
            commands.append(RecordReportingLines(lines=cohort.reporting_lines))
        await self._send_hr(commands)
        published = await publish_participants(
            imported.accepted,
            programme_id=self.programme_id,
            tenant_id=TENANT_ID,
            bootstrap_servers=self._run.kafka_bootstrap,
            topic_prefix=self._run.topic_prefix,
            clock=lambda: self._now,
        )
        self._say("enrolled", count=_number(published.published, language), topic=published.topic)
        await self._probe.settle(self._now)

        by_id = {profile.participant_id: profile for profile in imported.accepted}
        formed = await self._match({key: person.job_grade for key, person in by_id.items()})
        simulation = ProgrammeSimulation(
            pairs=[_pair_people(event, by_id) for event in formed],
            plan=definition.session_plan,
            seed=self._options.seed,
        )
        return imported.rows, len(imported.refused_lines), simulation

    async def _round(self, round_id: str, scope: MatchingScope) -> list[PairProposed]:
        await self._send_hr([RequestMatching(round_id=round_id, scope=scope)])

        def completed(envelopes: list[Envelope[Message]]) -> bool:
            return any(
                isinstance(envelope.data, MatchingCompleted) and envelope.data.round_id == round_id
                for envelope in envelopes
            )

        await self._pairing_events.wait_for(completed, limit_seconds=600, what=f"round {round_id}")
        envelopes = self._pairing_events.envelopes
        summary = next(
            envelope.data
            for envelope in envelopes
            if isinstance(envelope.data, MatchingCompleted) and envelope.data.round_id == round_id
        )
        proposals = [
            envelope.data
            for envelope in envelopes
            if isinstance(envelope.data, PairProposed) and envelope.data.round_id == round_id
        ]
        self._say(
            "round",
            round=round_id,
            pairs=_number(len(proposals), self._language),
            unmatched=_number(len(summary.unmatched), self._language),
        )
        return proposals

    async def _match(self, grades: dict[str, int]) -> list[PairFormed]:
        """HR's part of matching: two rounds, a few rejections, approvals; then the
        executives' consent (``grades``: each person's job grade), a few declines re-paired."""
        first = await self._round("round-1", MatchingScope.FULL)
        by_score = sorted(
            first, key=lambda proposal: (proposal.explanation.score, proposal.pair_id)
        )
        rejected = by_score[: self._options.size.rejections]
        approved = [proposal for proposal in first if proposal not in rejected]
        await self._send_hr(
            [RejectPair(pair_id=proposal.pair_id, reason=REJECTION_REASON) for proposal in rejected]
            + [ApprovePair(pair_id=proposal.pair_id) for proposal in approved]
        )
        second = await self._round("round-2", MatchingScope.UNMATCHED) if rejected else []
        await self._send_hr([ApprovePair(pair_id=proposal.pair_id) for proposal in second])
        self._say(
            "decided",
            approved=_number(len(approved) + len(second), self._language),
            rejected=len(rejected),
        )
        expected = await self._consent([*approved, *second], grades)

        def all_formed(envelopes: list[Envelope[Message]]) -> bool:
            return sum(isinstance(envelope.data, PairFormed) for envelope in envelopes) >= expected

        await self._pairing_events.wait_for(all_formed, limit_seconds=600, what="the formed pairs")
        await self._probe.settle(self._now)
        formed = [
            envelope.data
            for envelope in self._pairing_events.envelopes
            if isinstance(envelope.data, PairFormed)
        ]
        self._say("formed", count=_number(len(formed), self._language))
        return formed

    async def _consent(self, approved: list[PairProposed], grades: dict[str, int]) -> int:
        """The executives' consent to the ``approved`` pairs, and the repairs of their
        declines; how many pairs will be formed in all."""
        played = await ConsentPlay(
            events=self._pairing_events, readers=self._readers, send=self._send_hr
        ).play(approved, grades=grades, declines=self._options.size.declines)
        self._say(
            "consent",
            asked=_number(played.asked, self._language),
            grade=EXECUTIVE_GRADE,
            direct=_number(len(approved) - played.asked, self._language),
            clicked=_number(played.by_link, self._language),
            platform=_number(played.by_platform, self._language),
            declined=_number(played.declined, self._language),
        )
        if played.declined:
            self._say(
                "re_paired",
                declined=_number(played.declined, self._language),
                proposed=_number(played.re_proposed, self._language),
                asked=_number(played.re_asked, self._language),
            )
        # A declined pair is called off, never formed; each repair proposal, approved, is.
        return len(approved) - played.declined + played.re_proposed

    async def _play(self, simulation: ProgrammeSimulation) -> None:
        self._say("playing")
        bar = ProgressBar(total=simulation.weeks)
        commands_sent = 0
        for week in range(simulation.weeks + 1):
            tick = simulation.tick_time(week)
            await move_clocks(self._places, tick)
            self._now = tick
            commands = simulation.week(week)
            if week == simulation.weeks:
                await self._probe.settle(tick)  # the programme's end closes the pairs first
                commands += simulation.closing_feedback()
            await self._send(
                [
                    Envelope.new(
                        command.command,
                        source=CALENDAR_SOURCE,
                        time=tick,
                        tenant_id=TENANT_ID,
                        programme_id=self.programme_id,
                        subject=command.pair_id,
                    )
                    for command in commands
                ]
            )
            commands_sent += len(commands)
            await self._probe.settle(tick)
            if await self._readers.answer_pulses():
                await self._probe.settle(tick)
            bar.show(
                week,
                f"{_text(self._language, 'week')} {week} · {tick:%d/%m/%Y} · "
                f"{_number(commands_sent, self._language)} {_text(self._language, 'commands')} · "
                f"{_number(count_eml_files(self._places.mail_dir), self._language)} "
                f"{_text(self._language, 'mails')}",
            )


# ---------------------------------------------------------------------------- output


def summary_text(summary: DemoSummary, language: Language) -> str:
    """The terminal summary: the programme report, then the demo's extra figures."""
    figures = summary.figures
    counted: list[tuple[str, dict[str, int]]] = [
        (
            "held_vs_planned",
            {
                "held": figures.sessions_held,
                "planned": figures.sessions_planned,
                "skipped": figures.sessions_skipped,
                "missed": figures.sessions_missed,
            },
        ),
        (
            "completions",
            {"plan": figures.pairs_completed_plan, "ended": figures.pairs_ended_with_programme},
        ),
        (
            "stalls",
            {"stalled": summary.report.stalled_pairs, "resumed": figures.pairs_resumed},
        ),
        (
            "fit",
            {
                "count": figures.fit_concerns,
                "met": figures.objectives_met,
                "set": figures.objectives_set,
            },
        ),
        (
            "links",
            {
                "clicks": figures.link_clicks_recorded,
                "asked": figures.consent_pairs_asked,
                "accepted": figures.consent_accepted,
                "declined": figures.consent_declined,
                "repaired": figures.consent_re_paired,
                "pulse": figures.pulse_answers,
            },
        ),
        (
            "hr",
            {
                "rows": figures.hr_rows,
                "refused": figures.hr_rows_refused,
                "rejected": figures.proposals_rejected,
            },
        ),
    ]
    title = _text(language, "extra_title")
    lines = [render_terminal(summary.report, language=language), "", title, "─" * len(title)]
    for key, values in counted:
        shown = {name: _number(value, language) for name, value in values.items()}
        lines.append("  " + _text(language, key, **shown))
    if figures.deliveries_not_sent:
        detail = ", ".join(
            f"{status} {_number(count, language)}"
            for status, count in figures.deliveries_not_sent.items()
        )
        lines.append("  " + _text(language, "not_sent", detail=detail))
    lines.append(
        "  "
        + _text(language, "timing", seconds=figures.play_seconds, weeks=figures.simulated_weeks)
    )
    return "\n".join(lines)


def write_outputs(summary: DemoSummary, places: DemoPlaces) -> tuple[Path, Path]:
    """``summary.json`` in the output folder, beside the served ``report.html``."""
    places.output_dir.mkdir(parents=True, exist_ok=True)
    summary_path = places.output_dir / "summary.json"
    summary_path.write_text(summary.model_dump_json(indent=2), encoding="utf-8")
    return summary_path, places.output_dir / "report.html"


# ---------------------------------------------------------------------------- served report


async def _start_report_server(processes: DemoProcesses, places: DemoPlaces, run: DemoRun) -> str:
    """``binome-report serve`` on this run's topics; returns its base URL."""
    port = report_port()
    processes.start_tool(
        REPORT_SERVER, report_server_command(), report_server_env(places, run, port)
    )
    url = f"http://127.0.0.1:{port}"
    await wait_report_server(url)
    return url


async def _served_report(
    url: str, places: DemoPlaces, programme_id: str, language: Language
) -> ServedReport:
    """The report as the endpoint serves it to the demo tenant's token; the page is saved
    as ``report.html`` (in the demo's language; the other one is a click away)."""
    served = await fetch_served_report(
        url,
        token=LocalTokens(places.tokens_dir).token(TENANT_ID),
        programme_id=programme_id,
        language=language,
    )
    write_served_page(places, served)
    return served


# ---------------------------------------------------------------------------- commands


async def _clean_slate(places: DemoPlaces, admin_dsn: str, bootstrap: str) -> None:
    previous = read_run_file(places) or {}
    if previous.get("topic_prefix"):
        await delete_topics(bootstrap, str(previous["topic_prefix"]))
    await recreate_database(admin_dsn, places.database)


def _empty_output(places: DemoPlaces) -> None:
    for pattern in ("mail/*.eml", "summary.json", "report.html", "participants.csv"):
        for path in places.output_dir.glob(pattern):
            path.unlink()
    for name in ("smtp-sink", *SERVICES):
        places.log_file(name).unlink(missing_ok=True)


async def _play_run(options: DemoOptions, run: DemoRun) -> DemoSummary:
    # Kafka clients bind to the running loop: build the play inside it.
    return await DemoPlay(options=options, run=run).run()


def up(options: DemoOptions) -> int:
    """Set up, play, report; the platform stays up for a look around."""
    places, language = options.places, options.language
    _say(_text(language, "title"))
    stack = ensure_stack()
    places.state_dir.mkdir(parents=True, exist_ok=True)
    append_owner_file(places.state_dir / "started-by-demo", stack.started)
    _say(_text(language, "stack"))
    stop_recorded_processes(places, _say)
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    run = DemoRun(
        run_id=run_id,
        topic_prefix=f"demo-{run_id}.",
        database=places.database,
        admin_dsn=database_dsn(stack.admin_dsn, places.database),
        kafka_bootstrap=stack.kafka_bootstrap,
    )
    asyncio.run(_clean_slate(places, stack.admin_dsn, stack.kafka_bootstrap))
    places.output_dir.mkdir(parents=True, exist_ok=True)
    _empty_output(places)
    _say(_text(language, "slate", run=run_id, database=run.database, prefix=run.topic_prefix))
    # The demo's HR side starts the traces the services continue (exported when
    # OTEL_EXPORTER_OTLP_ENDPOINT is set, like the services').
    tracer_provider("demo")
    try:
        summary = asyncio.run(_play_run(options, run))
    except (KeyboardInterrupt, DemoError) as error:
        if isinstance(error, DemoError):
            _say(str(error))
        _say(_text(language, "interrupted"))
        stop_recorded_processes(places, _say)
        return 130 if isinstance(error, KeyboardInterrupt) else 1
    summary_path, html_path = write_outputs(summary, places)
    _say("")
    _say(summary_text(summary, language))
    _say("")
    _say(_text(language, "written", html=html_path, json=summary_path, mail=places.mail_dir))
    _say(
        _text(
            language,
            "running",
            ports=", ".join(str(port) for port in places.ports.values()),
        )
    )
    return 0


def down(places: DemoPlaces) -> int:
    """Stop the run's processes, then whatever part of the stack ``up`` started."""
    stop_recorded_processes(places, _say)
    owner = places.state_dir / "started-by-demo"
    components = read_owner_file(owner)
    if components:
        stop_stack(components=components, settings=StackSettings.from_env())
    owner.unlink(missing_ok=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="binome-demo", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        default=os.environ.get("BINOME_DEMO_SIZE", DEFAULT_SIZE),
        help="committee: 15 executives; axa: 1,000 managers (default); large: 5,000.",
    )
    parser.add_argument("--seed", type=int, default=2027, help="Same seed, same cohort.")
    parser.add_argument("--language", choices=("fr", "en"), default=None)
    parser.add_argument("--state-dir", default=None, help="Pids and logs (.stack/demo).")
    parser.add_argument("--output-dir", default="demo-output", help="Report, summary, e-mails.")
    parser.add_argument("--database", default="binome_demo", help="Dropped and re-created.")
    parser.add_argument(
        "--ports", default=None, help="pairing,sessions,notifications HTTP ports (8001,8002,8003)."
    )
    parser.add_argument("--smtp-port", type=int, default=DEFAULT_SMTP_PORT)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m binome_devstack.demo up|down [options]``."""
    arguments = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    settings = StackSettings.from_env()
    places = _places(arguments, settings)
    if arguments.action == "down":
        return down(places)
    options = DemoOptions(
        size=SIZES[arguments.size],
        seed=arguments.seed,
        language=Language(arguments.language or default_language()),
        places=places,
    )
    return up(options)


if __name__ == "__main__":
    raise SystemExit(main())
