"""What each tenant of a life-cycle run must have got, counted from outside the services:
its events on Kafka, its e-mails in the SMTP sink, its programme-data endpoints.

Every check returns the problems it found (one line each, naming the tenant and the data),
so that one run shows every leak at once rather than the first.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.notifications_events import NotificationFailed, NotificationSent
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    PairDissolved,
    PairFormed,
    PairProposed,
)
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.contracts.sessions_messages import (
    FeedbackGiven,
    ObjectiveClosed,
    ObjectiveSet,
    PairCompleted,
    ProgrammeProgressReported,
    SessionCompleted,
    SessionPlanned,
    SessionScheduled,
)
from tests.support.lifecycle_platform import LifeCyclePlatform
from tests.support.lifecycle_play import ROUND, TenantRun
from tests.support.mailbox import Mail

PER_PERSON_ONCE = ("introduction", "pair_thanks")
PER_PERSON_PER_SESSION = ("session_invitation", "session_reminder", "feedback_request")


def _count(problems: list[str], what: str, found: int, expected: int) -> None:
    if found != expected:
        problems.append(f"{what}: {found}, expected {expected}")


def progress_reports(
    platform: LifeCyclePlatform, run: TenantRun, *, every_programme: bool = False
) -> int:
    """The tenant's progress reports of the run's programme (or of all its programmes: each
    goes to the same HR contact)."""
    return sum(
        every_programme or envelope.programme_id == run.programme_id
        for envelope in platform.events.of(ProgrammeProgressReported, run.tenant_id)
    )


def expected_mail(run: TenantRun, reports: int) -> Counter[tuple[str, str]]:
    """(address, kind) → how many e-mails: per pair each member's, and HR's for the round and
    the progress reports (a mentor with room for two mentees is in two pairs)."""
    expected: Counter[tuple[str, str]] = Counter()
    for pair in run.pairs:
        for person in (pair.mentor.participant_id, pair.mentee.participant_id):
            address = run.cast.email_of(person)
            for kind in PER_PERSON_ONCE:
                expected[address, kind] += 1
            for kind in PER_PERSON_PER_SESSION:
                expected[address, kind] += run.sessions
    expected[run.cast.hr_email, "matching_summary"] += 1
    if reports:
        expected[run.cast.hr_email, "progress_report"] += reports
    return expected


def event_problems(platform: LifeCyclePlatform, run: TenantRun) -> list[str]:
    """The tenant's own events, each built from its own rules, plan and people."""
    tenant, cast, pairs, sessions = run.tenant_id, run.cast, len(run.pairs), run.sessions
    problems: list[str] = []

    def of(kind: type[Any]) -> list[Envelope[Any]]:
        return [e for e in platform.events.of(kind, tenant) if e.programme_id == run.programme_id]

    rounds = [e.data for e in of(MatchingCompleted) if e.data.round_id == ROUND]
    _count(problems, f"{tenant} MatchingCompleted of {ROUND}", len(rounds), 1)
    for summary in rounds:
        _count(problems, f"{tenant} round's mentees", summary.mentees, cast.pairs)
        _count(problems, f"{tenant} round's mentors", summary.mentors, cast.pairs)
    proposals = 0 if cast.approval is ApprovalMode.AUTOMATIC else cast.pairs
    _count(
        problems, f"{tenant} PairProposed ({cast.approval} rules)", len(of(PairProposed)), proposals
    )
    _count(problems, f"{tenant} PairFormed", len(of(PairFormed)), cast.pairs)
    people = set(cast.participant_ids)
    for formed in of(PairFormed):
        members = {formed.data.mentor.participant_id, formed.data.mentee.participant_id}
        if not members <= people:
            problems.append(f"{tenant} PairFormed {formed.data.pair_id} of {members}")
    plans = [e.data.sessions_planned for e in of(SessionPlanned)]
    _count(problems, f"{tenant} SessionPlanned", len(plans), pairs)
    if set(plans) - {sessions}:
        problems.append(
            f"{tenant} SessionPlanned with {sorted(set(plans))} sessions, plan has {sessions}"
        )
    scheduled = [e.data for e in of(SessionScheduled)]
    _count(problems, f"{tenant} SessionScheduled", len(scheduled), pairs * sessions)
    for event in scheduled:
        theme = event.theme.fr if event.theme else ""
        if (
            event.theme_key not in cast.session_keys
            or event.duration_minutes != cast.session_minutes
            or cast.marker not in theme
        ):
            problems.append(
                f"{tenant} SessionScheduled {event.pair_id}#{event.session_number} built from "
                f"another plan: {event.theme_key}, {event.duration_minutes} min, {theme!r}"
            )
    _count(problems, f"{tenant} SessionCompleted", len(of(SessionCompleted)), pairs * sessions)
    _count(problems, f"{tenant} FeedbackGiven", len(of(FeedbackGiven)), run.feedback_given)
    _count(problems, f"{tenant} ObjectiveSet", len(of(ObjectiveSet)), pairs)
    _count(problems, f"{tenant} ObjectiveClosed", len(of(ObjectiveClosed)), pairs)
    completed = [e.data for e in of(PairCompleted)]
    _count(problems, f"{tenant} PairCompleted", len(completed), pairs)
    for event in completed:
        if (event.reason, event.sessions_held, event.sessions_planned) != (
            "plan_completed",
            sessions,
            sessions,
        ):
            problems.append(f"{tenant} PairCompleted {event.pair_id}: {event}")
    _count(problems, f"{tenant} PairDissolved", len(of(PairDissolved)), 0)
    _count(problems, f"{tenant} NotificationFailed", len(of(NotificationFailed)), 0)
    own_pairs = {pair.pair_id for pair in run.pairs}
    for envelope in platform.events.envelopes:
        pair_id = getattr(envelope.data, "pair_id", None)
        if envelope.tenant_id == tenant and pair_id is not None and pair_id not in own_pairs:
            problems.append(
                f"{tenant} {type(envelope.data).__name__} about {pair_id}, not one of its pairs"
            )
    return problems


def foreign_events(platform: LifeCyclePlatform, tenants: set[str]) -> list[str]:
    return [
        f"event of unknown tenant {envelope.tenant_id!r}: {type(envelope.data).__name__}"
        for envelope in platform.events.envelopes
        if envelope.tenant_id not in tenants
    ]


def kinds_by_key(platform: LifeCyclePlatform) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for envelope in platform.events.of(NotificationSent):
        kinds.setdefault(envelope.data.delivery_key, set()).add(envelope.data.kind)
    return kinds


def mail_problems(
    mails: list[Mail],
    runs: list[TenantRun],
    expected: dict[str, Counter[tuple[str, str]]],
    kinds: dict[str, set[str]],
) -> list[str]:
    """Every e-mail went to one tenant's people or HR contact, as often as expected, in that
    tenant's language, and names none of the other tenants' people."""
    problems: list[str] = []
    owner = {address: run for run in runs for address in run.cast.addresses.values()}
    received: dict[str, Counter[tuple[str, str]]] = {run.tenant_id: Counter() for run in runs}
    for mail in mails:
        if len(mail.recipients) != 1 or mail.recipients[0] not in owner:
            problems.append(f"{mail.path.name} went to {mail.recipients}, nobody's address")
            continue
        run = owner[mail.to]
        kind = "/".join(sorted(kinds.get(mail.delivery_key, {"(no NotificationSent)"})))
        received[run.tenant_id][mail.to, kind] += 1
        if mail.language != run.cast.language.value:
            problems.append(f"{mail.path.name} to {mail.to} in {mail.language!r}")
        for other in runs:
            if other is not run and other.cast.marker in mail.everything:
                problems.append(
                    f"{mail.path.name} ({kind}) to {run.tenant_id}'s {mail.to} names "
                    f"{other.tenant_id}'s people ({other.cast.marker})"
                )
    for run in runs:
        problems += _tally_problems(run.tenant_id, expected[run.tenant_id], received[run.tenant_id])
    return problems


def _tally_problems(
    tenant: str, wanted: Counter[tuple[str, str]], got: Counter[tuple[str, str]]
) -> list[str]:
    """One line per kind whose e-mails differ: the totals and the first addresses."""
    problems = []
    for kind in sorted({kind for _, kind in wanted} | {kind for _, kind in got}):
        differing = sorted(
            f"{address} {got[address, kind]}/{wanted[address, kind]}"
            for address in {address for address, k in (*wanted, *got) if k == kind}
            if got[address, kind] != wanted[address, kind]
        )
        if differing:
            total_got = sum(count for (_, k), count in got.items() if k == kind)
            total_wanted = sum(count for (_, k), count in wanted.items() if k == kind)
            problems.append(
                f"{tenant}: {total_got} e-mail(s) {kind}, expected {total_wanted}; "
                f"{len(differing)} address(es) differ (got/expected): {', '.join(differing[:4])}"
            )
    return problems


def notification_problems(
    platform: LifeCyclePlatform, run: TenantRun, expected: Counter[tuple[str, str]]
) -> list[str]:
    """The tenant's NotificationSent events: as many as its e-mails, to its own people."""
    sent = [e.data for e in platform.events.of(NotificationSent, run.tenant_id)]
    problems: list[str] = []
    _count(problems, f"{run.tenant_id} NotificationSent", len(sent), sum(expected.values()))
    own = set(run.cast.participant_ids)
    for event in sent:
        if event.recipient_id not in own and not event.recipient_id.startswith("hr:"):
            problems.append(f"{run.tenant_id} NotificationSent to {event.recipient_id}")
    return problems
