"""The programme report from published messages alone: the fold of HR's commands and the
services' facts into a history, then the report's figures (pure, fakes only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from binome_integrations.participants_csv import parse_participants_csv
from binome_integrations.report.build import REASONS, Delivery, programme_report
from binome_integrations.report.history import ProgrammeHistory, programme_history
from binome_integrations.report.model import DeadLetterCount, SessionsMonth
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import (
    EnrolParticipant,
    RejectPair,
    UpdateParticipant,
    WithdrawParticipant,
)
from binome_shared.contracts.pairing_events import (
    DissolutionReason,
    MatchingCompleted,
    PairDissolved,
    PairFormed,
    PairProposed,
    PairRejected,
    UnmatchedParticipant,
)
from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.sessions_messages import (
    CompletionReason,
    FeedbackGiven,
    FeedbackMoment,
    ObjectiveClosed,
    ObjectiveOutcome,
    ObjectiveSet,
    ObjectiveSetV1,
    PairCompleted,
    PairFitConcernRaised,
    PairResumed,
    PairStalled,
    SessionCancelled,
    SessionCompleted,
    SessionMissed,
    SessionPlanned,
    SessionRescheduled,
    SessionScheduled,
    SessionSkipped,
)
from binome_shared.contracts.values import LocalisedText
from tests.support.programmes import programme_definition
from tests.support.published import pair_event, published, read_back

pytestmark = pytest.mark.unit

PROGRAMME = "prog-report"
NOW = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)
HEADER = (
    "participant_id;role;full_name;email;birth_year;department;business_unit;job_grade;"
    "site;languages"
)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2027, month, day, hour, 0, tzinfo=UTC)


def profiles(*people: tuple[str, str, str]) -> list[ParticipantProfile]:
    """(id, role, business unit) as HR's export gives them."""
    rows = [
        f"{pid};{role};Personne {pid};{pid.lower()}@groupe.example;1980;Finance;{unit};10;Paris;fr"
        for pid, role, unit in people
    ]
    report = parse_participants_csv("\n".join([HEADER, *rows]) + "\n")
    assert report.problems == []
    return report.accepted


def envelope(data: Message, *, caused_by: Envelope[Any] | None = None) -> Envelope[Message]:
    return published(data, programme_id=PROGRAMME, caused_by=caused_by)


def unmatched(participant_id: str, role: str, code: str) -> UnmatchedParticipant:
    return UnmatchedParticipant(
        participant_id=participant_id,
        role=role,
        reason_code=code,
        reason=LocalisedText(fr=f"motif {code}", en=f"reason {code}"),
    )


def matching(*, preview: bool, left_out: Sequence[UnmatchedParticipant]) -> MatchingCompleted:
    return MatchingCompleted(
        round_id="round-1",
        preview=preview,
        mentors=3,
        mentees=3,
        pairs=2,
        pairs_kept=0,
        unmatched=list(left_out),
    )


def story() -> list[Envelope[Message]]:
    """Three mentors, three mentees; one proposal rejected by HR, one superseded by a
    withdrawal; two pairs formed, one of them dissolved; the other one's sessions."""
    people = profiles(
        ("Y1", "mentor", "Technologie"),
        ("Y2", "mentor", "Technologie"),
        ("Y3", "mentor", "Technologie"),
        ("M1", "mentee", "Finance"),
        ("M2", "mentee", "Finance"),
        ("M3", "mentee", "Réseaux"),
    )
    reject = envelope(RejectPair(pair_id="p-rejected", reason="déjà en contact"))
    withdraw = envelope(WithdrawParticipant(participant_id="Y3"))
    hr = [
        envelope(programme_definition(ProgrammeRules(starts_on=date(2027, 1, 4)))),
        *(envelope(EnrolParticipant(participant=profile)) for profile in people),
        envelope(EnrolParticipant(participant=people[0])),  # refused twice: counted once
        envelope(UpdateParticipant(participant=people[1].model_copy(update={"role": "mentee"}))),
        envelope(UpdateParticipant(participant=people[1])),
        reject,
        withdraw,
    ]
    pairing = [
        envelope(pair_event(PairProposed, "p-rejected", "Y1", "M3")),
        envelope(pair_event(PairProposed, "p-superseded", "Y3", "M2")),
        envelope(PairRejected(pair_id="p-rejected", reason="déjà en contact"), caused_by=reject),
        envelope(PairRejected(pair_id="p-superseded"), caused_by=withdraw),
        envelope(pair_event(PairFormed, "p-1", "Y1", "M1", score=0.81)),
        envelope(pair_event(PairFormed, "p-2", "Y2", "M2", score=0.55)),
        envelope(PairDissolved(pair_id="p-2", reason=DissolutionReason.HR_DECISION)),
        envelope(matching(preview=True, left_out=[])),
        envelope(
            matching(
                preview=False,
                left_out=[
                    unmatched("M3", "mentee", "no_feasible_mentor"),
                    unmatched("Y3", "mentor", "mentor_unavailable"),
                ],
            )
        ),
    ]
    sessions = [
        SessionPlanned(pair_id="p-1", sessions_planned=6, first_session_due=at(1, 4)),
        scheduled("p-1", 1, at(1, 12)),
        SessionCompleted(
            pair_id="p-1", session_number=1, theme_key="s1", held_at=at(1, 12), duration_minutes=60
        ),
        scheduled("p-1", 2, at(1, 30)),
        SessionMissed(pair_id="p-1", session_number=2, scheduled_at=at(1, 30)),
        scheduled("p-1", 2, at(2, 10)),
        SessionRescheduled(
            pair_id="p-1",
            session_number=2,
            theme_key="s2",
            previous_starts_at=at(2, 10),
            starts_at=at(3, 2),
            ends_at=at(3, 2, 10),
            duration_minutes=60,
            sequence=1,
        ),
        scheduled("p-1", 3, at(3, 20)),
        SessionCancelled(pair_id="p-1", session_number=3, cancelled_starts_at=at(3, 20)),
        SessionSkipped(pair_id="p-1", session_number=4, theme_key="s4"),
        rated("p-1", ParticipantRole.MENTEE, 4, FeedbackMoment.AFTER_SESSION),
        rated("p-1", ParticipantRole.MENTOR, 1, FeedbackMoment.END_OF_PROGRAMME),
        PairFitConcernRaised(pair_id="p-1", side=ParticipantRole.MENTOR),
        ObjectiveSet(pair_id="p-1", objective_id="o-1", owner=ParticipantRole.MENTEE),
        ObjectiveSet(pair_id="p-1", objective_id="o-2", owner=ParticipantRole.MENTOR),
        *(
            ObjectiveClosed(
                pair_id="p-1",
                objective_id=objective,
                owner=side,
                outcome=outcome,
                progress_percent=20,
            )
            for objective, side, outcome in (
                ("o-1", ParticipantRole.MENTEE, ObjectiveOutcome.MET),
                ("o-2", ParticipantRole.MENTOR, ObjectiveOutcome.NOT_MET),
            )
        ),
        PairStalled(pair_id="p-1", last_session_at=at(1, 12), weeks_silent=6),
        PairResumed(pair_id="p-1", silent_since=at(1, 12), resumed_at=at(3, 2)),
        SessionPlanned(pair_id="p-2", sessions_planned=6, first_session_due=at(1, 4)),
    ]
    return [*hr, *pairing, *(envelope(event) for event in sessions)]


def rated(
    pair_id: str, side: ParticipantRole, rating: int, moment: FeedbackMoment
) -> FeedbackGiven:
    """A rating after the first session, or at the end of the programme."""
    after_session = moment is FeedbackMoment.AFTER_SESSION
    return FeedbackGiven(
        pair_id=pair_id,
        side=side,
        session_number=1 if after_session else None,
        rating=rating,
        moment=moment,
    )


def scheduled(pair_id: str, number: int, starts_at: datetime) -> SessionScheduled:
    return SessionScheduled(
        pair_id=pair_id,
        session_number=number,
        theme_key=f"s{number}",
        starts_at=starts_at,
        duration_minutes=60,
    )


def test_the_history_follows_enrolments_pairs_and_sessions() -> None:
    history = programme_history(story())

    assert history.role_count(ParticipantRole.MENTOR) == 2  # Y3 withdrew
    assert history.role_count(ParticipantRole.MENTEE) == 3  # Y2's change of role was undone
    assert history.matched_mentees == {"M1", "M2", "M3"}
    assert [formed.pair_id for formed in history.formed_pairs] == ["p-1"]
    assert history.proposals_rejected == 1, "a withdrawal's superseded proposal is not HR's"
    assert history.last_round is not None
    assert not history.last_round.preview
    [p1, p2] = history.tracks()
    assert (p1.formed.pair_id, p1.active, p1.followed.sessions_held) == ("p-1", True, 1)
    assert (p1.followed.sessions_skipped, p1.followed.sessions_planned) == (1, 5)
    assert (p1.followed.objectives_set, p1.followed.objectives_met) == (2, 1)
    assert p1.followed.fit_concern
    assert (p2.formed.pair_id, p2.dissolved, p2.active) == ("p-2", True, False)
    assert history.stalled == history.resumed == {"p-1"}


def test_the_report_counts_what_was_published() -> None:
    history = programme_history(story())
    dead = [DeadLetterCount(topic="t.binome.hr.commands.dlq", count=2)]

    report = programme_report(
        history,
        programme_id=PROGRAMME,
        generated_at=NOW,
        delivery=Delivery(dead_letters=dead, emails_directory="mail", emails_written=3),
    )

    assert (report.programme_name, report.organisation) == (
        "Mentorat inversé 2027",
        "Groupe Exemple",
    )
    assert (report.mentors, report.mentees, report.pairs_formed) == (2, 3, 1)
    assert report.pair_scores == [0.81]
    funnel = report.funnel
    assert funnel.stages() == [
        ("enrolled_mentees", 3),
        ("matched", 3),
        ("formed", 1),
        ("first_session_held", 1),
        ("completed", 0),
    ]
    # Months in Paris time: held in January; the miss dated by its fact; session 2 still in
    # the calendar (rescheduled to March); session 3's appointment cancelled.
    assert report.sessions_by_month == [
        SessionsMonth(month="2027-01", planned=0, held=1, missed=1, cancelled=0),
        SessionsMonth(month="2027-03", planned=1, held=0, missed=0, cancelled=1),
    ]
    assert (report.active_pairs, report.stalled_pairs, report.completed_pairs) == (1, 1, 0)
    assert report.dead_lettered_total == 2
    assert (report.emails_directory, report.emails_written) == ("mail", 3)


def test_unmatched_people_are_grouped_by_reason_in_the_reports_words() -> None:
    report = programme_report(programme_history(story()), programme_id=PROGRAMME, generated_at=NOW)

    by_code = {group.reason_code: group for group in report.unmatched}
    assert by_code["no_feasible_mentor"].reason == REASONS["no_feasible_mentor"]
    assert by_code["no_feasible_mentor"].examples == ["M3"]
    assert by_code["mentor_unavailable"].reason.en == "reason mentor_unavailable"
    assert report.unmatched_total == 2


def test_a_dissolution_after_completion_leaves_the_pair_completed() -> None:
    history = ProgrammeHistory()
    for event in (
        pair_event(PairFormed, "p-9", "Y9", "M9"),
        SessionPlanned(pair_id="p-9", sessions_planned=1, first_session_due=at(1, 4)),
        PairCompleted(
            pair_id="p-9",
            reason=CompletionReason.PLAN_COMPLETED,
            sessions_held=1,
            sessions_planned=1,
        ),
        PairDissolved(pair_id="p-9", reason=DissolutionReason.WITHDRAWN),
    ):
        history.take(envelope(event))

    [track] = history.tracks()
    assert track.completed_plan
    assert not track.active
    assert history.formed_pairs == []


def test_objectives_published_in_1_x_with_their_title_are_counted_as_those_in_2_0() -> None:
    history = ProgrammeHistory()
    history.take(envelope(pair_event(PairFormed, "p-1")))
    titled = ObjectiveSetV1(
        pair_id="p-1", objective_id="o-1", owner=ParticipantRole.MENTEE, title="Publier"
    )
    for event in (
        titled,
        ObjectiveSet(pair_id="p-1", objective_id="o-2", owner=ParticipantRole.MENTOR),
    ):
        history.take(read_back(envelope(event)))

    [track] = history.tracks()
    assert track.followed.objectives_set == 2


def test_business_units_show_ratings_after_sessions_only_and_hide_small_units() -> None:
    history = ProgrammeHistory()
    history.take(envelope(programme_definition(ProgrammeRules(starts_on=date(2027, 1, 4)))))
    for number in range(1, 7):
        unit = "Finance" if number <= 5 else "Juridique"
        pair_id = f"p-{number}"
        for event in (
            pair_event(PairFormed, pair_id, f"Y{number}", f"M{number}", unit=unit),
            SessionPlanned(pair_id=pair_id, sessions_planned=2, first_session_due=at(1, 4)),
            rated(pair_id, ParticipantRole.MENTEE, 3 + number % 2, FeedbackMoment.AFTER_SESSION),
            rated(pair_id, ParticipantRole.MENTOR, 1, FeedbackMoment.END_OF_PROGRAMME),
        ):
            history.take(envelope(event))
    history.take(
        envelope(
            PairCompleted(
                pair_id="p-1",
                reason=CompletionReason.PLAN_COMPLETED,
                sessions_held=2,
                sessions_planned=2,
            )
        )
    )

    report = programme_report(history, programme_id=PROGRAMME, generated_at=NOW)
    finance, legal = report.progress_by_business_unit
    assert (finance.business_unit, finance.people, finance.pairs) == ("Finance", 5, 5)
    assert finance.sessions_planned == 10
    assert finance.completion_rate == pytest.approx(0.2)
    assert finance.average_rating == 3.6  # 4, 3, 4, 3, 4: the end-of-programme 1s left out
    assert (legal.business_unit, legal.suppressed, legal.people) == ("Juridique", True, None)


def test_a_report_needs_the_programme_definition() -> None:
    with pytest.raises(LookupError, match=PROGRAMME):
        programme_report(ProgrammeHistory(), programme_id=PROGRAMME, generated_at=NOW)
