"""The report's follow-up figures from published facts alone: consent outcomes, pulse rounds,
ratings by session number and imposed pairs, each hidden when too few people are behind it
(pure, fakes only)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from binome_integrations.report.build import programme_report
from binome_integrations.report.history import programme_history
from binome_integrations.report.html import render_html
from binome_integrations.report.model import (
    ConsentFigures,
    ProgrammeReport,
    PulseRound,
    SessionRatings,
)
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    PairCalledOff,
    PairConsentRequested,
    PairExplanation,
    PairFormed,
    PairImposition,
)
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.sessions_messages import FeedbackGiven, FeedbackMoment
from binome_shared.contracts.sessions_messages.pulse import (
    PulseAnswer,
    PulseAnswered,
    PulseCheckRequested,
)
from binome_shared.contracts.values import Language, LocalisedText
from tests.support.programmes import programme_definition
from tests.support.published import pair_event, published, read_back

pytestmark = pytest.mark.unit

PROGRAMME = "prog-follow"
NOW = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)
MENTOR, MENTEE = ParticipantRole.MENTOR, ParticipantRole.MENTEE
ON_TRACK, NEED_HELP = PulseAnswer.ON_TRACK, PulseAnswer.NEED_HELP


def envelope(data: Message) -> Envelope[Message]:
    return read_back(published(data, programme_id=PROGRAMME))


def definition() -> Envelope[Message]:
    return envelope(programme_definition(ProgrammeRules(starts_on=date(2027, 1, 4))))


def consent_asked(pair_id: str) -> PairConsentRequested:
    proposed = pair_event(PairFormed, pair_id, f"Y{pair_id}", f"M{pair_id}")
    return PairConsentRequested(
        **proposed.model_dump(exclude={"imposed"}), respond_by=datetime(2027, 2, 1, tzinfo=UTC)
    )


def imposed_pair(pair_id: str, *, overridden: list[str]) -> PairFormed:
    plain = pair_event(PairFormed, pair_id, f"Y{pair_id}", f"M{pair_id}")
    explanation = PairExplanation(
        score=0.5,
        breakdown={},
        summary=LocalisedText(fr="Imposé", en="Imposed"),
        imposed=PairImposition(
            overridden=overridden,
            reason="comité exécutif" if overridden else "",
            summary=LocalisedText(fr="Imposé par les RH", en="Imposed by HR"),
        ),
    )
    return plain.model_copy(update={"explanation": explanation})


def report_of(*facts: Message) -> ProgrammeReport:
    history = programme_history([definition(), *(envelope(fact) for fact in facts)])
    return programme_report(history, programme_id=PROGRAMME, generated_at=NOW)


def test_consent_outcomes_follow_each_pair_to_its_last_fact() -> None:
    facts: list[Message] = [consent_asked(str(number)) for number in range(1, 6)]
    facts += [
        pair_event(PairFormed, "1", "Y1", "M1"),
        pair_event(PairFormed, "9", "Y9", "M9"),  # formed without consent: not counted
        PairCalledOff(pair_id="2", reason=CallOffReason.DECLINED, declined_by=MENTEE),
        PairCalledOff(pair_id="3", reason=CallOffReason.NO_ANSWER),
        PairCalledOff(pair_id="4", reason=CallOffReason.PARTICIPANT_LEFT),
    ]
    report = report_of(*facts)
    assert report.consent == ConsentFigures(
        pairs_asked=5, accepted=1, declined=1, lapsed=1, left=1, pending=1
    )


def test_consent_asked_of_two_pairs_shows_only_how_many_were_asked() -> None:
    report = report_of(
        consent_asked("1"),
        consent_asked("2"),
        PairCalledOff(pair_id="2", reason=CallOffReason.DECLINED, declined_by=MENTOR),
    )
    assert report.consent == ConsentFigures(pairs_asked=2, suppressed=True)


def test_pulse_rounds_count_each_members_last_answer() -> None:
    asked = [
        PulseCheckRequested(pulse_number=1, pair_id=p, mentor_id=f"Y{p}", mentee_id=f"M{p}")
        for p in ("a", "b", "c")
    ]
    answers = [
        PulseAnswered(pair_id="a", pulse_number=1, side=MENTOR, answer=NEED_HELP),
        PulseAnswered(pair_id="a", pulse_number=1, side=MENTOR, answer=ON_TRACK),
        PulseAnswered(pair_id="a", pulse_number=1, side=MENTEE, answer=ON_TRACK),
        PulseAnswered(pair_id="b", pulse_number=1, side=MENTEE, answer=NEED_HELP),
        PulseCheckRequested(pulse_number=2, pair_id="a", mentor_id="Ya", mentee_id="Ma"),
        PulseAnswered(pair_id="a", pulse_number=2, side=MENTEE, answer=NEED_HELP),
    ]
    report = report_of(*asked, *answers)
    assert report.pulse_rounds == [
        PulseRound(pulse_number=1, asked=6, answered=3, on_track=2, need_help=1),
        PulseRound(pulse_number=2, asked=2, suppressed=True),
    ]


def test_ratings_by_session_number_hide_fewer_than_five() -> None:
    def rating(pair: str, side: ParticipantRole, number: int | None, value: int) -> FeedbackGiven:
        moment = FeedbackMoment.AFTER_SESSION if number else FeedbackMoment.END_OF_PROGRAMME
        return FeedbackGiven(
            pair_id=pair, side=side, session_number=number, rating=value, moment=moment
        )

    first = [rating(p, side, 1, 4) for p in ("a", "b", "c") for side in (MENTOR, MENTEE)][:5]
    second = [rating("a", MENTOR, 2, 5), rating("a", MENTEE, 2, 3)]
    end = [rating(p, MENTOR, None, 1) for p in ("a", "b", "c", "d", "e")]
    report = report_of(*first, *second, *end)
    assert report.ratings_by_session == [
        SessionRatings(session_number=1, ratings=5, average_rating=4.0),
        SessionRatings(session_number=2, ratings=2, suppressed=True),
    ]


def test_imposed_pairs_and_overrides_are_counted_among_formed_pairs() -> None:
    report = report_of(
        imposed_pair("1", overridden=[]),
        imposed_pair("2", overridden=["not_in_management_chain"]),
        pair_event(PairFormed, "3", "Y3", "M3"),
    )
    assert (report.imposed_pairs, report.imposed_overrides) == (2, 1)


@pytest.mark.parametrize(
    "build",
    [
        lambda: ConsentFigures(pairs_asked=2, accepted=1, declined=1, lapsed=0, left=0, pending=0),
        lambda: PulseRound(pulse_number=1, asked=4, answered=1, on_track=1, need_help=0),
        lambda: SessionRatings(session_number=1, ratings=3, average_rating=4.0),
        lambda: SessionRatings(session_number=1, ratings=6, average_rating=4.0, suppressed=True),
    ],
)
def test_small_groups_cannot_carry_figures_by_another_way(build: object) -> None:
    with pytest.raises(ValidationError):
        build()  # type: ignore[operator]


@pytest.mark.parametrize("language", [Language.FR, Language.EN])
def test_the_page_charts_the_new_figures_in_both_languages(language: Language) -> None:
    asked = [
        PulseCheckRequested(pulse_number=1, pair_id=p, mentor_id=f"Y{p}", mentee_id=f"M{p}")
        for p in ("a", "b", "c")
    ]
    facts: list[Message] = [*asked, *(consent_asked(str(n)) for n in range(1, 4))]
    report = report_of(*facts)
    page = render_html(report, language)
    for view in ("fr", "en"):
        for chart in ("consent", "pulse", "ratings"):
            assert f'id="{view}-{chart}"' in page
    assert "Consentement des binômes" in page
    assert "Pair consent" in page
