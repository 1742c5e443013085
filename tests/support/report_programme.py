"""A generated programme's published story, as large as asked: for the report's read model
tests and its benchmark (``benchmarks/report_read_model.py``).

``managers`` mentees (the managers) and as many mentors; each pair proposed (a third asked
to consent) and formed, its plan, some sessions held, one missed in five, ratings, an
objective, a pulse check-in and the e-mails about it; one committed round. Deterministic
for a given ``seed``; times move forward, so the last envelope is the programme's "as of".
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from binome_integrations.participants_csv import parse_participants_csv
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import EnrolParticipant
from binome_shared.contracts.notifications_events import NotificationSent
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    PairConsentRequested,
    PairFormed,
    PairProposed,
)
from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.sessions_messages import (
    FeedbackGiven,
    FeedbackMoment,
    ObjectiveClosed,
    ObjectiveOutcome,
    ObjectiveSet,
    SessionCompleted,
    SessionMissed,
    SessionPlanned,
    SessionScheduled,
)
from binome_shared.contracts.sessions_messages.pulse import (
    PulseAnswer,
    PulseAnswered,
    PulseCheckRequested,
)
from tests.support.programmes import TENANT, programme_definition
from tests.support.published import pair_event

STARTS = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
_HEADER = (
    "participant_id;role;full_name;email;birth_year;department;business_unit;job_grade;"
    "site;languages"
)
_UNITS = ("Finance", "Réseaux", "Ventes", "Juridique")


def people(managers: int) -> list[ParticipantProfile]:
    """``managers`` mentees (M0…) and as many mentors (Y0…), as HR's export gives them."""
    rows = [
        f"{'M' if role == 'mentee' else 'Y'}{n};{role};Personne {n};{role}{n}@groupe.example;"
        f"{1970 if role == 'mentee' else 1998};Dir;{_UNITS[n % len(_UNITS)]};10;Paris;fr"
        for n in range(managers)
        for role in ("mentee", "mentor")
    ]
    parsed = parse_participants_csv("\n".join([_HEADER, *rows]) + "\n")
    assert parsed.problems == []
    return parsed.accepted


def generated_programme(
    programme_id: str, *, managers: int, tenant_id: str = TENANT, seed: int = 0
) -> list[Envelope[Message]]:
    """The programme's envelopes in publication order."""
    chance = random.Random(seed)
    clock = _Clock()
    facts: list[tuple[datetime, Message]] = [
        (clock.tick(), programme_definition(ProgrammeRules(starts_on=date(2027, 1, 4))))
    ]
    facts += [(clock.tick(), EnrolParticipant(participant=p)) for p in people(managers)]
    for n in range(managers):
        pair_id = f"{programme_id}-p{n}"
        proposed = pair_event(PairProposed, pair_id, f"Y{n}", f"M{n}")
        facts.append((clock.tick(), proposed))
        if n % 3 == 0:  # a third of the pairs asked to consent first
            asked = PairConsentRequested(**proposed.model_dump(), respond_by=STARTS)
            facts.append((clock.tick(), asked))
        facts.append((clock.tick(), pair_event(PairFormed, pair_id, f"Y{n}", f"M{n}")))
    facts.append(
        (
            clock.tick(),
            MatchingCompleted(
                round_id="round-1",
                preview=False,
                mentors=managers,
                mentees=managers,
                pairs=managers,
                pairs_kept=0,
                unmatched=[],
            ),
        )
    )
    for n in range(managers):
        facts += _pair_sessions(f"{programme_id}-p{n}", chance, clock)
    return [
        Envelope.new(
            data, source="/test", time=time, tenant_id=tenant_id, programme_id=programme_id
        )
        for time, data in facts
    ]


def _pair_sessions(
    pair_id: str, chance: random.Random, clock: _Clock
) -> list[tuple[datetime, Message]]:
    facts: list[tuple[datetime, Message]] = [
        (
            clock.tick(),
            SessionPlanned(pair_id=pair_id, sessions_planned=6, first_session_due=STARTS),
        ),
        (
            clock.tick(),
            ObjectiveSet(pair_id=pair_id, objective_id="o-1", owner=ParticipantRole.MENTEE),
        ),
    ]
    for number in range(1, chance.randint(1, 6) + 1):
        starts = STARTS + timedelta(weeks=3 * number)
        facts.append(
            (
                clock.tick(),
                SessionScheduled(
                    pair_id=pair_id,
                    session_number=number,
                    theme_key=f"s{number}",
                    starts_at=starts,
                    duration_minutes=60,
                ),
            )
        )
        if chance.random() < 0.2:
            facts.append(
                (
                    clock.tick(),
                    SessionMissed(pair_id=pair_id, session_number=number, scheduled_at=starts),
                )
            )
            continue
        facts += [
            (
                clock.tick(),
                SessionCompleted(
                    pair_id=pair_id,
                    session_number=number,
                    theme_key=f"s{number}",
                    held_at=starts,
                    duration_minutes=60,
                ),
            ),
            (
                clock.tick(),
                FeedbackGiven(
                    pair_id=pair_id,
                    side=ParticipantRole.MENTEE,
                    session_number=number,
                    rating=chance.randint(1, 5),
                    moment=FeedbackMoment.AFTER_SESSION,
                ),
            ),
            (clock.tick(), _sent(pair_id, number)),
        ]
    facts += _pulse(pair_id, chance, clock)
    outcome = ObjectiveOutcome.MET if chance.random() < 0.6 else ObjectiveOutcome.NOT_MET
    facts.append(
        (
            clock.tick(),
            ObjectiveClosed(
                pair_id=pair_id,
                objective_id="o-1",
                owner=ParticipantRole.MENTEE,
                outcome=outcome,
                progress_percent=100,
            ),
        )
    )
    return facts


def _pulse(pair_id: str, chance: random.Random, clock: _Clock) -> list[tuple[datetime, Message]]:
    """The first pulse check-in, and the mentee's answer."""
    number = int(pair_id.rsplit("p", 1)[1])
    answer = PulseAnswer.ON_TRACK if chance.random() < 0.8 else PulseAnswer.NEED_HELP
    return [
        (
            clock.tick(),
            PulseCheckRequested(
                pulse_number=1, pair_id=pair_id, mentor_id=f"Y{number}", mentee_id=f"M{number}"
            ),
        ),
        (
            clock.tick(),
            PulseAnswered(
                pair_id=pair_id, pulse_number=1, side=ParticipantRole.MENTEE, answer=answer
            ),
        ),
    ]


def _sent(pair_id: str, number: int) -> NotificationSent:
    return NotificationSent(
        delivery_key=f"{pair_id}/reminder/{number}",
        kind="session_reminder",
        channel="email",
        recipient_id=f"{pair_id}-mentee",
        attempts=1,
        subject_id=pair_id,
    )


class _Clock:
    """One minute between facts: the story moves forward."""

    def __init__(self) -> None:
        self._now = STARTS

    def tick(self) -> datetime:
        self._now += timedelta(minutes=1)
        return self._now
