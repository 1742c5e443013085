"""A programme's whole life cycle, played for one or several tenants at once on a
:class:`~tests.support.lifecycle_platform.LifeCyclePlatform`: definition, enrolment,
matching (HR approval where the rules ask for it), every session of the plan scheduled,
reminded, held and rated, an objective per pair set and met, the pair completed, final
feedback. Every command sent is one the services must accept: a dead letter is a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import ApprovePair, EnrolParticipant, RequestMatching
from binome_shared.contracts.pairing_events import MatchingCompleted, PairFormed, PairProposed
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.contracts.sessions_messages import (
    GiveFeedback,
    ParticipantRole,
    ReportSessionHeld,
    ScheduleSession,
    SetObjective,
    UpdateObjectiveProgress,
)
from tests.support.lifecycle_platform import LifeCyclePlatform
from tests.support.tenant_cast import START, TenantCast

HR_SOURCE = "/hr/lifecycle-test"
CALENDAR_SOURCE = "/calendar/lifecycle-test"
ROUND = "round-1"


@dataclass
class TenantRun:
    """One tenant's programme as played so far."""

    cast: TenantCast
    programme_id: str
    pairs: list[PairFormed] = field(default_factory=list)
    feedback_given: int = 0

    @property
    def tenant_id(self) -> str:
        return self.cast.tenant_id

    @property
    def sessions(self) -> int:
        return len(self.cast.session_keys)

    def hr(self, data: Message, *, at: datetime, programme_id: str | None = None) -> Envelope[Any]:
        return Envelope.new(
            data,
            source=HR_SOURCE,
            time=at,
            tenant_id=self.tenant_id,
            programme_id=programme_id or self.programme_id,
        )

    def calendar(self, data: Any, *, at: datetime) -> Envelope[Any]:
        return Envelope.new(
            data,
            source=CALENDAR_SOURCE,
            time=at,
            tenant_id=self.tenant_id,
            programme_id=self.programme_id,
            subject=data.pair_id,
        )

    def side_of(self, pair: PairFormed, side: ParticipantRole) -> str:
        return (pair.mentee if side is ParticipantRole.MENTEE else pair.mentor).participant_id


def session_start(number: int) -> datetime:
    """Session ``number`` of every pair: Tuesday 10:00 UTC of week ``number``."""
    return START + timedelta(weeks=number, days=1, hours=2)


async def define_and_enrol(platform: LifeCyclePlatform, runs: list[TenantRun]) -> None:
    for run in runs:
        commands = [run.hr(run.cast.definition(), at=platform.now)]
        commands += [
            run.hr(EnrolParticipant(participant=profile), at=platform.now)
            for profile in run.cast.profiles()
        ]
        await platform.send(commands)
    await platform.settle()


def _of_round(envelope: Envelope[Any], run: TenantRun) -> bool:
    return (
        envelope.tenant_id == run.tenant_id
        and envelope.programme_id == run.programme_id
        and getattr(envelope.data, "round_id", None) == ROUND
    )


async def form_pairs(platform: LifeCyclePlatform, runs: list[TenantRun]) -> None:
    """One round per tenant; HR approves every proposal where its rules ask it to."""
    for run in runs:
        await platform.send([run.hr(RequestMatching(round_id=ROUND), at=platform.now)])
    await platform.settle()
    for run in runs:
        completed = await platform.events.wait_for(
            lambda run=run: any(  # type: ignore[misc]
                _of_round(envelope, run) for envelope in platform.events.of(MatchingCompleted)
            )
        )
        if not completed:
            platform.problems.append(f"{run.tenant_id}'s {ROUND} never completed")
        if run.cast.approval is ApprovalMode.HR_APPROVES:
            proposals = [e for e in platform.events.of(PairProposed) if _of_round(e, run)]
            await platform.send(
                [run.hr(ApprovePair(pair_id=e.data.pair_id), at=platform.now) for e in proposals]
            )
    await platform.settle()
    for run in runs:
        await platform.events.wait_for(
            lambda run=run: len(_formed(platform, run)) >= run.cast.pairs  # type: ignore[misc]
        )
        run.pairs = _formed(platform, run)
        if len(run.pairs) != run.cast.pairs:
            platform.problems.append(
                f"{run.tenant_id}: {len(run.pairs)} pairs formed of {run.cast.pairs} "
                f"({run.cast.approval} rules); the programme goes on with those"
            )


def _formed(platform: LifeCyclePlatform, run: TenantRun) -> list[PairFormed]:
    return [
        envelope.data
        for envelope in platform.events.of(PairFormed, run.tenant_id)
        if envelope.programme_id == run.programme_id
    ]


async def hold_every_session(platform: LifeCyclePlatform, runs: list[TenantRun]) -> None:
    """Each session booked three days ahead, the clock past its reminders, then held."""
    for number in range(1, max(run.sessions for run in runs) + 1):
        playing = [run for run in runs if number <= run.sessions]
        starts = session_start(number)
        await platform.set_clock(starts - timedelta(days=3))
        for run in playing:
            await platform.send([_schedule(run, pair, number, starts) for pair in run.pairs])
        await platform.settle()
        await platform.set_clock(starts - timedelta(hours=1))  # every reminder is due
        await platform.set_clock(starts + timedelta(hours=3))  # feedback requests are due
        for run in playing:
            for pair in run.pairs:
                await platform.send(_after_session(run, pair, number, starts, platform.now))
        await platform.settle()


def _schedule(run: TenantRun, pair: PairFormed, number: int, starts: datetime) -> Envelope[Any]:
    return run.calendar(
        ScheduleSession(
            pair_id=pair.pair_id, session_number=number, starts_at=starts, location="Teams"
        ),
        at=starts - timedelta(days=3),
    )


def _after_session(
    run: TenantRun, pair: PairFormed, number: int, starts: datetime, now: datetime
) -> list[Envelope[Any]]:
    """Held; both sides rate it (with a comment); the mentee's objective set after the
    first session and met at the last; after the last, both sides' final feedback."""
    pair_id = pair.pair_id
    commands: list[Any] = [
        ReportSessionHeld(
            pair_id=pair_id, session_number=number, held_at=starts, duration_minutes=60
        )
    ]
    for side in (ParticipantRole.MENTEE, ParticipantRole.MENTOR):
        commands.append(
            GiveFeedback(
                pair_id=pair_id,
                side=side,
                session_number=number,
                rating=5,
                comment=run.cast.comment(run.side_of(pair, side), number),
                good_fit=True if number == 1 else None,
            )
        )
    objective = f"objective-{pair.mentee.participant_id}"
    if number == 1:
        commands.append(
            SetObjective(
                pair_id=pair_id,
                objective_id=objective,
                owner=ParticipantRole.MENTEE,
                title=run.cast.objective_title(pair.mentee.participant_id),
            )
        )
    if number == run.sessions:
        commands.append(
            UpdateObjectiveProgress(
                pair_id=pair_id,
                objective_id=objective,
                progress_percent=100,
                closed=True,
                met=True,
            )
        )
        commands += [
            GiveFeedback(pair_id=pair_id, side=side, rating=4)
            for side in (ParticipantRole.MENTEE, ParticipantRole.MENTOR)
        ]
    run.feedback_given += sum(isinstance(command, GiveFeedback) for command in commands)
    return [run.calendar(command, at=now) for command in commands]


async def play_programme(platform: LifeCyclePlatform, runs: list[TenantRun]) -> None:
    """The whole life cycle, every tenant side by side."""
    await define_and_enrol(platform, runs)
    await form_pairs(platform, runs)
    await hold_every_session(platform, runs)
