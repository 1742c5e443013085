"""Two tenants side by side through a programme's whole life cycle, on the real platform.

Tenants A and B use the same programme id and the same participant ids (ids are namespaced
by tenant), with different rules (A's pairs form at once, B's HR approves them), session
plans (2 sessions of 60 min against 3 of 90), people, addresses, HR contacts and languages.
Counted from outside: each tenant's events carry its own tenant and data, every e-mail went
to the right tenant's people exactly as often as expected and names nobody of the other,
each token sees its own figures only, and B's commands naming what only A owns are
dead-lettered with their stable code and change nothing of A's.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from binome_shared.contracts.hr_commands import DissolvePair, RequestMatching
from binome_shared.contracts.sessions_messages import ScheduleSession, SessionScheduled
from tests.support.lifecycle_platform import (
    LifeCyclePlatform,
)
from tests.support.lifecycle_play import (
    TenantRun,
    define_and_enrol,
    form_pairs,
    hold_every_session,
    session_start,
)
from tests.support.mailbox import read_mailbox
from tests.support.tenancy_checks import (
    event_problems,
    expected_mail,
    foreign_events,
    kinds_by_key,
    mail_problems,
    notification_problems,
    progress_reports,
)
from tests.support.tenant_cast import TENANT_A, TENANT_B, TenantCast

pytestmark = pytest.mark.e2e

PROGRAMME = "prog-commun-2028"
A_ONLY_PROGRAMME = "prog-aubepine-seul"
NO_SUCH_PAIR = "pair-of-nobody"


async def intrude(platform: LifeCyclePlatform, a: TenantRun, b: TenantRun) -> dict[str, Any]:
    """B names a pair and a programme only A owns, while A's pairs are active."""
    b_pairs = {pair.pair_id for pair in b.pairs}
    a_only = sorted(pair.pair_id for pair in a.pairs if pair.pair_id not in b_pairs)
    if not a_only:
        platform.problems.append("no pair of A's that B has not: B names a made-up pair of A's")
    target = a_only[0] if a_only else NO_SUCH_PAIR
    now = platform.now
    commands = {
        "dissolve": b.hr(DissolvePair(pair_id=target, reason="intrusion"), at=now),
        "matching": b.hr(
            RequestMatching(round_id="round-intrusion"), at=now, programme_id=A_ONLY_PROGRAMME
        ),
        "schedule": b.calendar(
            ScheduleSession(
                pair_id=target,
                session_number=1,
                starts_at=session_start(1) + timedelta(hours=4),
                location="Intrusion",
            ),
            at=now,
        ),
    }
    await platform.send(list(commands.values()))
    await platform.settle()
    return {"target": target, **commands}


async def dead_letter_problems(
    platform: LifeCyclePlatform, intrusions: dict[str, Any]
) -> list[str]:
    """Only the intrusions are dead-lettered, each once, by the service that owns the thing
    it names, with the stable code, and the reason names nothing of A's."""
    problems: list[str] = []
    letters = platform.dead_letters.letters
    wanted = {
        "dissolve": ("pairing", {"unknown_pair"}),
        "matching": ("pairing", {"unknown_programme"}),
        "schedule": ("sessions", {"unknown_pair", "prerequisite_never_arrived"}),
    }
    deliberate = {str(intrusions[name].id) for name in wanted}
    for letter in letters:
        if letter.event_id not in deliberate:
            problems.append(
                f"unexpected dead letter from {letter.service}: {letter.message_type} of "
                f"{letter.tenant_id}: {letter.code}: {letter.reason[:200]}"
            )
    for name, (service, codes) in wanted.items():
        envelope = intrusions[name]
        found = [
            (letter.service, letter.code) for letter in platform.dead_letters.about(envelope.id)
        ]
        for letter in platform.dead_letters.about(envelope.id):
            if TENANT_A.marker in letter.reason or letter.tenant_id != TENANT_B.tenant_id:
                problems.append(f"B's {name} dead letter reveals A: {letter.reason[:200]}")
        if name == "schedule" and not found:
            parked = await platform.database.fetchval(
                "sessions", "SELECT count(*) FROM parked_messages WHERE event_id = $1", envelope.id
            )
            if parked == 1:
                continue  # waiting for a pair of B's that never comes: not A's pair
        if len(found) != 1 or found[0][0] != service or found[0][1] not in codes:
            problems.append(
                f"B's {name} naming A's {intrusions['target']}/{A_ONLY_PROGRAMME}: dead letters "
                f"{found}, expected one from {service} with {sorted(codes)}"
            )
    return problems


def intrusion_left_a_alone(platform: LifeCyclePlatform, target: str) -> list[str]:
    """A's pair B named holds A's own first session only, as A booked it."""
    if target == NO_SUCH_PAIR:
        return []  # no pair of A's formed: already reported
    firsts = [
        envelope.data
        for envelope in platform.events.of(SessionScheduled)
        if envelope.data.pair_id == target and envelope.data.session_number == 1
    ]
    booked = [(event.starts_at, event.location) for event in firsts]
    if booked != [(session_start(1), "Teams")]:
        return [f"A's pair {target} session 1 booked as {booked}, only A's booking expected"]
    return []


async def endpoint_problems(
    platform: LifeCyclePlatform,
    runs: list[TenantRun],
    expected: dict[str, Counter[tuple[str, str]]],
) -> list[str]:
    problems: list[str] = []
    for run in runs:
        progress = await platform.get(
            "sessions",
            f"/programmes/progress?programme_id={run.programme_id}",
            tenant=run.tenant_id,
        )
        if progress.status_code != 200:
            problems.append(
                f"{run.tenant_id} progress: {progress.status_code} {progress.text[:200]}"
            )
        else:
            total = progress.json()["total"]
            figures = total.get("figures") or {}
            seen = {
                key: figures.get(key)
                for key in ("pairs_completed", "sessions_held", "objectives_met", "pairs_dissolved")
            }
            pairs = run.cast.pairs
            wanted = {
                "pairs_completed": pairs,
                "sessions_held": pairs * run.sessions,
                "objectives_met": pairs,
                "pairs_dissolved": 0,
            }
            if (total.get("people"), seen) != (pairs, wanted):
                problems.append(
                    f"{run.tenant_id}'s token sees {total.get('people')} people, {seen}; "
                    f"its own programme has {pairs} mentees, {wanted}"
                )
        deliveries = await platform.get("notifications", "/deliveries", tenant=run.tenant_id)
        counts: Counter[tuple[str, str]] = Counter()
        for row in deliveries.json().get("deliveries", []) if deliveries.status_code == 200 else []:
            counts[row["kind"], row["status"]] += row["deliveries"]
        own: Counter[tuple[str, str]] = Counter()
        for (_, kind), count in expected[run.tenant_id].items():
            own[kind, "sent"] += count
        if counts != own:
            problems.append(
                f"{run.tenant_id}'s token: /deliveries {deliveries.status_code} "
                f"{dict(counts)}, its own are {dict(own)}"
            )
    return problems


async def foreign_programme_problems(platform: LifeCyclePlatform) -> list[str]:
    foreign = await platform.get(
        "sessions",
        f"/programmes/progress?programme_id={A_ONLY_PROGRAMME}",
        tenant=TENANT_B.tenant_id,
    )
    if foreign.status_code != 404:
        return [f"B's token on A's {A_ONLY_PROGRAMME}: {foreign.status_code}, expected 404"]
    return []


def life_cycle_problems(
    platform: LifeCyclePlatform, runs: list[TenantRun]
) -> tuple[list[str], dict[str, Counter[tuple[str, str]]]]:
    """Every tenant's events and e-mails, against what its own programme must produce."""
    expected = {
        run.tenant_id: expected_mail(run, progress_reports(platform, run, every_programme=True))
        for run in runs
    }
    mails = read_mailbox(platform.sink.directory)
    problems = foreign_events(platform, {run.tenant_id for run in runs})
    for run in runs:
        problems += event_problems(platform, run)
        problems += notification_problems(platform, run, expected[run.tenant_id])
    reports = {run.tenant_id: progress_reports(platform, run) for run in runs}
    if len(set(reports.values())) != 1 or not min(reports.values()):
        problems.append(f"progress reports {reports}: the same clock reports each programme alike")
    problems += mail_problems(mails, runs, expected, kinds_by_key(platform))
    return problems, expected


def report(platform: LifeCyclePlatform, problems: list[str]) -> str:
    figures = (
        f"{len(platform.sink.stored)} e-mails, {len(platform.events.records)} events, "
        f"{len(platform.dead_letters.records)} dead letters"
    )
    return f"{len(problems)} problem(s) ({figures}):\n  " + "\n  ".join(problems[:150])


@pytest.mark.parametrize("cast", [TENANT_A, TENANT_B], ids=lambda cast: cast.tenant_id)
async def test_one_tenant_alone_gets_exactly_what_its_programme_produces(
    lifecycle_platform: LifeCyclePlatform, cast: TenantCast
) -> None:
    """The counting below, on each tenant alone: what the two-tenant test compares against."""
    platform = lifecycle_platform
    alone = TenantRun(cast, PROGRAMME)
    await define_and_enrol(platform, [alone])
    await form_pairs(platform, [alone])
    await hold_every_session(platform, [alone])
    await platform.settle()

    problems, expected = life_cycle_problems(platform, [alone])
    problems = platform.problems + problems
    problems += await endpoint_problems(platform, [alone], expected)
    problems += [f"dead letter: {letter}" for letter in platform.dead_letters.letters]
    assert not problems, report(platform, problems)


async def test_two_tenants_with_the_same_ids_never_see_each_other(
    lifecycle_platform: LifeCyclePlatform,
) -> None:
    platform = lifecycle_platform
    a, b = TenantRun(TENANT_A, PROGRAMME), TenantRun(TENANT_B, PROGRAMME)
    runs = [a, b]
    await define_and_enrol(platform, runs)
    await platform.send(
        [
            a.hr(
                TENANT_A.definition(name="Autre programme"),
                at=platform.now,
                programme_id=A_ONLY_PROGRAMME,
            )
        ]
    )
    await form_pairs(platform, runs)
    intrusions = await intrude(platform, a, b)
    await hold_every_session(platform, runs)
    await platform.settle()

    problems, expected = life_cycle_problems(platform, runs)
    problems = platform.problems + problems
    problems += await endpoint_problems(platform, runs, expected)
    problems += await foreign_programme_problems(platform)
    problems += await dead_letter_problems(platform, intrusions)
    problems += intrusion_left_a_alone(platform, intrusions["target"])
    assert not problems, report(platform, problems)
