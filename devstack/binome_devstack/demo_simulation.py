"""How the people of a demo programme behave, week by week: pure and seeded.

The demo plays the participants (and their calendar tools): each pair books its next
session a week ahead, reports it held or missed after the fact, gives feedback and moves
its objectives forward. Pairs differ the way real ones do: most are steady, some are busy
and miss sessions, some finish early by skipping optional themes, some pause long enough
to be reported stalled and then resume, and a few drop out for good (the programme's end
closes them). Everything the services do in return (stall detection, reminders, feedback
requests, completions) comes from the services, not from here.

The simulation only sends commands the sessions service accepts, so a run ends with no
dead letter: it mirrors the few rules that matter (book one session at a time, report
only what has begun, hold in order, give first-session feedback with the fit answer, close
objectives once). No IO, no clock: the tick times are computed from the programme start.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from binome_shared.contracts.base import Command
from binome_shared.contracts.participants import Weekday, WeeklySlot
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.contracts.sessions_messages import (
    GiveFeedback,
    ParticipantRole,
    ReportSessionHeld,
    ReportSessionMissed,
    ScheduleSession,
    SetObjective,
    SkipSession,
    UpdateObjectiveProgress,
)
from binome_shared.contracts.values import Language, LocalisedText

TICK_TIME = time(7, 0)
"""The demo moves the clock to Monday 07:00 (programme time zone) each week."""

_WEEKDAYS = tuple(Weekday)


class Behaviour(StrEnum):
    """How a pair goes through the programme."""

    STEADY = "steady"
    BUSY = "busy"
    EARLY_FINISHER = "early_finisher"
    PAUSES = "pauses"
    DROPS_OUT = "drops_out"


_BEHAVIOUR_SHARES: tuple[tuple[Behaviour, float], ...] = (
    (Behaviour.STEADY, 0.60),
    (Behaviour.BUSY, 0.15),
    (Behaviour.EARLY_FINISHER, 0.10),
    (Behaviour.PAUSES, 0.09),
    (Behaviour.DROPS_OUT, 0.06),
)
_MISS_ODDS = {Behaviour.BUSY: 0.30}
_DEFAULT_MISS_ODDS = 0.07
_FEEDBACK_ODDS = 0.85
_FINAL_FEEDBACK_ODDS = 0.8
_NOT_A_GOOD_FIT_ODDS = 0.06
_MET_THRESHOLD = 60

_MENTEE_OBJECTIVES: dict[str, LocalisedText] = {
    "generative_ai": LocalisedText(
        fr="Utiliser un assistant d'IA générative chaque semaine",
        en="Use a generative AI assistant every week",
    ),
    "linkedin": LocalisedText(
        fr="Publier un post LinkedIn par mois", en="Publish one LinkedIn post a month"
    ),
    "collaborative_tools": LocalisedText(
        fr="Animer une réunion d'équipe entièrement sur l'outil collaboratif",
        en="Run a team meeting entirely on the collaborative tool",
    ),
    "cybersecurity": LocalisedText(
        fr="Repérer un hameçonnage et sécuriser ses comptes",
        en="Spot phishing and secure one's accounts",
    ),
    "data": LocalisedText(
        fr="Lire et commenter le tableau de bord data de son équipe",
        en="Read and discuss the team's data dashboard",
    ),
    "social_networks": LocalisedText(
        fr="Suivre la veille de son secteur sur les réseaux sociaux",
        en="Follow one's industry on social networks",
    ),
}
_DEFAULT_MENTEE_OBJECTIVE = LocalisedText(
    fr="Adopter un nouvel usage numérique au quotidien",
    en="Adopt a new digital habit every day",
)
_MENTOR_OBJECTIVE = LocalisedText(
    fr="Comprendre les arbitrages d'un comité de direction",
    en="Understand how an executive committee makes trade-offs",
)
_COMMENTS: tuple[LocalisedText, ...] = (
    LocalisedText(fr="Séance très concrète, merci !", en="Very practical session, thank you!"),
    LocalisedText(
        fr="Bon échange, à approfondir la prochaine fois.", en="Good exchange, more next time."
    ),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class PairPeople:
    """What the simulation needs to know about a formed pair (no names, no addresses)."""

    pair_id: str
    mentor_id: str
    mentee_id: str
    mentee_slots: tuple[WeeklySlot, ...]
    mentee_time_zone: str
    mentee_language: Language
    mentor_language: Language
    mentee_needs: tuple[str, ...] = ()
    """The mentee's learning needs, most wanted first (they suggest the objectives)."""


@dataclass(kw_only=True, slots=True)
class _Objective:
    objective_id: str
    owner: ParticipantRole
    progress: int = 0


@dataclass(kw_only=True, slots=True)
class _PairState:
    people: PairPeople
    behaviour: Behaviour
    rng: random.Random
    next_number: int = 1
    held: int = 0
    schedule_from_week: int = 0
    appointment: datetime | None = None
    skips: frozenset[int] = frozenset()
    stop_after_held: int | None = None
    pause_after_held: int | None = None
    pause_weeks: int = 0
    good_fit: bool = True
    closed: bool = False
    objectives: list[_Objective] = field(default_factory=list)


PairScopedCommand = (
    ScheduleSession
    | SkipSession
    | ReportSessionHeld
    | ReportSessionMissed
    | GiveFeedback
    | SetObjective
    | UpdateObjectiveProgress
)


@dataclass(frozen=True, kw_only=True, slots=True)
class PairCommand:
    """One command a pair's member (or their calendar tool) sends, keyed by pair."""

    pair_id: str
    command: Command

    @classmethod
    def of(cls, command: PairScopedCommand) -> PairCommand:
        """``command``, keyed by the pair it names."""
        return cls(pair_id=command.pair_id, command=command)


class ProgrammeSimulation:
    """The participants' side of a programme, one weekly tick at a time.

    Call :meth:`week` for weeks ``0 … weeks``, in order, each after moving the services'
    clock to :meth:`tick_time`; then :meth:`closing_feedback` once the programme has ended.
    """

    def __init__(self, *, pairs: Sequence[PairPeople], plan: SessionPlan, seed: int) -> None:
        self._plan = plan
        self._zone = ZoneInfo(plan.time_zone)
        self._skippable = frozenset(
            number for number, session in enumerate(plan.sessions, start=1) if session.skippable
        )
        # Seeded by who is in the pair, not by the pair's id (new in every run): the same
        # cohort and seed play the same programme.
        self._states = [
            self._draw(people, random.Random(f"{seed}:{people.mentor_id}:{people.mentee_id}"))
            for people in sorted(pairs, key=lambda people: (people.mentee_id, people.mentor_id))
        ]

    @property
    def weeks(self) -> int:
        """The last tick: the first Monday after the programme's last day."""
        days = (self._plan.ends_on - self._plan.starts_on).days + 1
        return -(-days // 7)

    @property
    def behaviours(self) -> dict[Behaviour, int]:
        """How many pairs behave each way."""
        counts = dict.fromkeys(Behaviour, 0)
        for state in self._states:
            counts[state.behaviour] += 1
        return counts

    def tick_time(self, week: int) -> datetime:
        """When the clock stands during tick ``week`` (Monday 07:00, programme time)."""
        monday = self._plan.starts_on - timedelta(days=self._plan.starts_on.weekday())
        return datetime.combine(monday + timedelta(weeks=week), TICK_TIME, tzinfo=self._zone)

    def week(self, week: int) -> list[PairCommand]:
        """Everything the pairs send during tick ``week``, in the order to send it."""
        now = self.tick_time(week)
        last_booking_tick = self.weeks - 3  # reports of the last sessions come before the end
        commands: list[PairCommand] = []
        for state in self._states:
            if state.closed:
                continue
            commands.extend(self._report_past_appointment(state, week, now))
            if not state.closed and week <= last_booking_tick:
                commands.extend(self._book_next(state, week))
        return commands

    def closing_feedback(self) -> list[PairCommand]:
        """End-of-programme feedback of pairs the programme's end closed (after that tick)."""
        commands: list[PairCommand] = []
        for state in self._states:
            if state.closed or state.held == 0:
                continue
            state.closed = True
            commands.extend(self._final_feedback(state))
        return commands

    # ------------------------------------------------------------------ behaviour

    def _draw(self, people: PairPeople, rng: random.Random) -> _PairState:
        behaviours, weights = zip(*_BEHAVIOUR_SHARES, strict=True)
        behaviour = rng.choices(behaviours, weights)[0]
        state = _PairState(
            people=people,
            behaviour=behaviour,
            rng=rng,
            schedule_from_week=rng.choice((0, 0, 0, 0, 1, 2)),
            good_fit=rng.random() >= _NOT_A_GOOD_FIT_ODDS,
        )
        optional = sorted(self._skippable)
        if behaviour is Behaviour.EARLY_FINISHER and optional:
            state.skips = frozenset(rng.sample(optional, min(len(optional), rng.randint(1, 2))))
        elif behaviour is Behaviour.PAUSES:
            state.pause_after_held = rng.randint(1, 3)
            state.pause_weeks = self._plan.stall_after_weeks + rng.randint(1, 3)
        elif behaviour is Behaviour.DROPS_OUT:
            state.stop_after_held = rng.randint(0, 3)
        return state

    def _report_past_appointment(
        self, state: _PairState, week: int, now: datetime
    ) -> list[PairCommand]:
        if state.appointment is None or state.appointment >= now:
            return []
        pair_id, number, rng = state.people.pair_id, state.next_number, state.rng
        held_at, state.appointment = state.appointment, None
        if rng.random() < _MISS_ODDS.get(state.behaviour, _DEFAULT_MISS_ODDS):
            missed_by = rng.choice(
                (ParticipantRole.MENTEE, ParticipantRole.MENTEE, ParticipantRole.MENTOR, None)
            )
            state.schedule_from_week = week
            return [
                PairCommand.of(
                    ReportSessionMissed(pair_id=pair_id, session_number=number, missed_by=missed_by)
                )
            ]
        commands = [
            PairCommand.of(
                ReportSessionHeld(
                    pair_id=pair_id,
                    session_number=number,
                    held_at=held_at,
                    duration_minutes=rng.choice((45, 60, 60, 60, 75, 90)),
                )
            )
        ]
        state.held += 1
        commands.extend(self._session_feedback(state, number))
        commands.extend(self._objectives_after(state, number))
        state.next_number = number + 1
        if state.next_number > len(self._plan.sessions):
            state.closed = True
            commands.extend(self._final_feedback(state))
            return commands
        # held in the week before this tick; the next one a cadence later, booked a week ahead
        state.schedule_from_week = week + self._plan.cadence_weeks - 2
        if state.pause_after_held == state.held:
            state.schedule_from_week = week + state.pause_weeks
        return commands

    def _book_next(self, state: _PairState, week: int) -> list[PairCommand]:
        if state.appointment is not None or week < state.schedule_from_week:
            return []
        if state.stop_after_held is not None and state.held >= state.stop_after_held:
            return []
        pair_id = state.people.pair_id
        commands: list[PairCommand] = []
        while state.next_number in state.skips:
            commands.append(
                PairCommand.of(SkipSession(pair_id=pair_id, session_number=state.next_number))
            )
            state.next_number += 1
        slot = self._slot_in_week(state, week + 1)
        if slot is None:
            return commands
        state.appointment = slot
        commands.append(
            PairCommand.of(
                ScheduleSession(
                    pair_id=pair_id,
                    session_number=state.next_number,
                    starts_at=slot,
                    duration_minutes=self._plan.session_duration_minutes,
                    location=state.rng.choice(("Teams", "Visio", "Sur site / On site")),
                )
            )
        )
        return commands

    def _slot_in_week(self, state: _PairState, week: int) -> datetime | None:
        """One of the mentee's weekly slots, in that week, inside the programme's days."""
        monday: date = self.tick_time(week).date()
        zone = ZoneInfo(state.people.mentee_time_zone)
        slots = list(state.people.mentee_slots) or [
            WeeklySlot(weekday=Weekday.TUESDAY, start=time(9), end=time(10, 30))
        ]
        state.rng.shuffle(slots)
        for slot in slots:
            day = monday + timedelta(days=_WEEKDAYS.index(slot.weekday))
            starts_at = datetime.combine(day, slot.start, tzinfo=zone)
            local_day = starts_at.astimezone(self._zone).date()
            if self._plan.starts_on <= local_day <= self._plan.ends_on:
                return starts_at
        return None

    # ------------------------------------------------------------------ what people say

    def _session_feedback(self, state: _PairState, number: int) -> list[PairCommand]:
        pair_id, rng = state.people.pair_id, state.rng
        commands = []
        first = state.held == 1
        for side in (ParticipantRole.MENTEE, ParticipantRole.MENTOR):
            if not first and rng.random() >= _FEEDBACK_ODDS:
                continue  # the fit question must be answered; later feedback is optional
            good = state.good_fit and state.behaviour is not Behaviour.DROPS_OUT
            rating = rng.choice((4, 5, 5)) if good else rng.choice((2, 3, 3))
            language = (
                state.people.mentee_language
                if side is ParticipantRole.MENTEE
                else state.people.mentor_language
            )
            comment = ""
            if rng.random() < 0.3:
                comment = rng.choice(_COMMENTS).in_language(language)
            commands.append(
                PairCommand.of(
                    GiveFeedback(
                        pair_id=pair_id,
                        side=side,
                        session_number=number,
                        rating=rating,
                        comment=comment,
                        good_fit=state.good_fit if first else None,
                    )
                )
            )
        return commands

    def _final_feedback(self, state: _PairState) -> list[PairCommand]:
        pair_id, rng = state.people.pair_id, state.rng
        return [
            PairCommand.of(
                GiveFeedback(
                    pair_id=pair_id,
                    side=side,
                    rating=rng.choice((4, 5, 5)) if state.good_fit else rng.choice((2, 3)),
                )
            )
            for side in (ParticipantRole.MENTEE, ParticipantRole.MENTOR)
            if rng.random() < _FINAL_FEEDBACK_ODDS
        ]

    def _objectives_after(self, state: _PairState, number: int) -> list[PairCommand]:
        pair_id, rng = state.people.pair_id, state.rng
        if state.held == 1:
            return self._set_objectives(state)
        last = number == len(self._plan.sessions)
        commands = []
        for objective in state.objectives:
            objective.progress = min(100, objective.progress + rng.randint(10, 30))
            met = objective.progress >= _MET_THRESHOLD
            commands.append(
                PairCommand.of(
                    UpdateObjectiveProgress(
                        pair_id=pair_id,
                        objective_id=objective.objective_id,
                        progress_percent=objective.progress,
                        closed=last,
                        met=met if last else None,
                    )
                )
            )
        return commands

    def _set_objectives(self, state: _PairState) -> list[PairCommand]:
        people, rng = state.people, state.rng
        wanted = [need for need in people.mentee_needs if need in _MENTEE_OBJECTIVES][:2]
        titles = [_MENTEE_OBJECTIVES[need] for need in wanted] or [_DEFAULT_MENTEE_OBJECTIVE]
        if rng.random() < 0.5:
            titles = titles[:1]
        planned = [(ParticipantRole.MENTEE, title, people.mentee_language) for title in titles]
        planned.append((ParticipantRole.MENTOR, _MENTOR_OBJECTIVE, people.mentor_language))
        commands = []
        for index, (owner, title, language) in enumerate(planned, start=1):
            objective = _Objective(objective_id=f"{owner.value}-{index}", owner=owner)
            state.objectives.append(objective)
            commands.append(
                PairCommand.of(
                    SetObjective(
                        pair_id=people.pair_id,
                        objective_id=objective.objective_id,
                        owner=owner,
                        title=title.in_language(language),
                    )
                )
            )
        return commands
