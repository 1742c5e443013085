"""Feedback from both sides: after sessions, at the end, and the fit question after the first."""

from __future__ import annotations

import pytest

from binome_sessions.domain import (
    CommandRejectedError,
    FeedbackGiven,
    PairFitConcernRaised,
    PairStatus,
    PairTrack,
    RejectionCode,
)
from binome_shared.contracts.session_plan import FeedbackSettings
from binome_shared.contracts.sessions_messages import (
    FeedbackMoment,
    ParticipantRole,
)

from .sessions_fakes import at, event_names, hold, make_plan, make_track

pytestmark = pytest.mark.unit

NOW = at("2025-03-01")


def rejected(code: RejectionCode) -> pytest.RaisesExc[CommandRejectedError]:
    return pytest.raises(CommandRejectedError, match=rf"^{code.value}:")


def track_after_two_sessions(**plan_overrides: object) -> PairTrack:
    track = make_track(plan=make_plan(**plan_overrides))
    hold(track, "kick-off", at("2025-01-20"))
    hold(track, "social-networks", at("2025-02-10"))
    track.pull_events()
    return track


def test_session_feedback_records_the_rating_but_not_the_comment() -> None:
    track = track_after_two_sessions()

    track.give_session_feedback(
        author=ParticipantRole.MENTEE,
        session_key="social-networks",
        rating=4,
        comment="Très concret, merci !",
        now=NOW,
    )

    assert track.events == [
        FeedbackGiven(
            pair_id="pair-1",
            programme_id="prog-orange-2025",
            occurred_at=NOW,
            side=ParticipantRole.MENTEE,
            moment=FeedbackMoment.AFTER_SESSION,
            session_number=2,
            rating=4,
            has_comment=True,
        )
    ]
    assert track.feedback[0].comment == "Très concret, merci !"


def test_first_session_feedback_requires_the_fit_answer() -> None:
    track = track_after_two_sessions()

    with rejected(RejectionCode.FIT_ANSWER_REQUIRED):
        track.give_session_feedback(
            author=ParticipantRole.MENTOR, session_key="kick-off", rating=5, now=NOW
        )

    track.give_session_feedback(
        author=ParticipantRole.MENTOR, session_key="kick-off", rating=5, good_fit=True, now=NOW
    )
    assert event_names(track) == ["FeedbackGiven"]
    assert track.feedback[0].good_fit is True


def test_a_no_to_the_fit_question_raises_a_fit_concern() -> None:
    track = track_after_two_sessions()

    track.give_session_feedback(
        author=ParticipantRole.MENTEE, session_key="kick-off", rating=2, good_fit=False, now=NOW
    )

    assert track.events[-1] == PairFitConcernRaised(
        pair_id="pair-1",
        programme_id="prog-orange-2025",
        occurred_at=NOW,
        side=ParticipantRole.MENTEE,
        session_number=1,
    )


def test_the_fit_question_is_only_asked_after_the_first_session() -> None:
    track = track_after_two_sessions()

    with rejected(RejectionCode.FIT_QUESTION_NOT_ASKED):
        track.give_session_feedback(
            author=ParticipantRole.MENTEE,
            session_key="social-networks",
            rating=3,
            good_fit=False,
            now=NOW,
        )


def test_without_the_fit_question_the_first_session_takes_no_fit_answer() -> None:
    track = track_after_two_sessions(
        feedback=FeedbackSettings(fit_question_after_first_session=False)
    )

    with rejected(RejectionCode.FIT_QUESTION_NOT_ASKED):
        track.give_session_feedback(
            author=ParticipantRole.MENTEE, session_key="kick-off", rating=3, good_fit=True, now=NOW
        )
    track.give_session_feedback(
        author=ParticipantRole.MENTEE, session_key="kick-off", rating=3, now=NOW
    )
    assert event_names(track) == ["FeedbackGiven"]


def test_feedback_is_only_on_held_sessions() -> None:
    track = track_after_two_sessions()

    with rejected(RejectionCode.FEEDBACK_SESSION_NOT_HELD):
        track.give_session_feedback(
            author=ParticipantRole.MENTEE, session_key="generative-ai", rating=3, now=NOW
        )
    with rejected(RejectionCode.UNKNOWN_SESSION):
        track.give_session_feedback(
            author=ParticipantRole.MENTEE, session_key="golf", rating=3, now=NOW
        )


def test_each_side_gives_one_feedback_per_session() -> None:
    track = track_after_two_sessions()
    track.give_session_feedback(
        author=ParticipantRole.MENTEE, session_key="social-networks", rating=3, now=NOW
    )

    with rejected(RejectionCode.FEEDBACK_ALREADY_GIVEN):
        track.give_session_feedback(
            author=ParticipantRole.MENTEE, session_key="social-networks", rating=5, now=NOW
        )
    track.give_session_feedback(
        author=ParticipantRole.MENTOR, session_key="social-networks", rating=5, now=NOW
    )
    assert [given.author for given in track.feedback] == [
        ParticipantRole.MENTEE,
        ParticipantRole.MENTOR,
    ]


@pytest.mark.parametrize("rating", [0, 6])
def test_ratings_go_from_one_to_five(rating: int) -> None:
    with rejected(RejectionCode.RATING_OUT_OF_RANGE):
        track_after_two_sessions().give_session_feedback(
            author=ParticipantRole.MENTEE, session_key="social-networks", rating=rating, now=NOW
        )


def test_comments_are_bounded_by_the_programme() -> None:
    track = track_after_two_sessions(feedback=FeedbackSettings(comment_max_length=10))

    with rejected(RejectionCode.COMMENT_TOO_LONG):
        track.give_session_feedback(
            author=ParticipantRole.MENTEE,
            session_key="social-networks",
            rating=3,
            comment="x" * 11,
            now=NOW,
        )


def test_session_feedback_is_refused_when_the_programme_does_not_ask_for_it() -> None:
    track = track_after_two_sessions(feedback=FeedbackSettings(after_each_session=False))

    with rejected(RejectionCode.FEEDBACK_NOT_REQUESTED):
        track.give_session_feedback(
            author=ParticipantRole.MENTEE, session_key="social-networks", rating=3, now=NOW
        )


def one_session_track(**plan_overrides: object) -> PairTrack:
    track = make_track(plan=make_plan(sessions=[make_plan().sessions[0]], **plan_overrides))
    hold(track, "kick-off", at("2025-01-20"))
    return track


def test_final_feedback_comes_once_the_pair_is_completed() -> None:
    track = make_track()
    with rejected(RejectionCode.FEEDBACK_BEFORE_COMPLETION):
        track.give_final_feedback(author=ParticipantRole.MENTEE, rating=5, now=NOW)

    completed = one_session_track()
    assert completed.status is PairStatus.COMPLETED
    completed.give_final_feedback(author=ParticipantRole.MENTEE, rating=5, comment="  ", now=NOW)

    given = completed.events[-1]
    assert isinstance(given, FeedbackGiven)
    assert (given.moment, given.session_number, given.rating, given.has_comment) == (
        FeedbackMoment.END_OF_PROGRAMME,
        None,
        5,
        False,
    )
    with rejected(RejectionCode.FEEDBACK_ALREADY_GIVEN):
        completed.give_final_feedback(author=ParticipantRole.MENTEE, rating=4, now=NOW)
    with rejected(RejectionCode.RATING_OUT_OF_RANGE):
        completed.give_final_feedback(author=ParticipantRole.MENTOR, rating=9, now=NOW)


def test_final_feedback_is_refused_when_the_programme_does_not_ask_for_it() -> None:
    track = one_session_track(feedback=FeedbackSettings(end_of_programme=False))

    with rejected(RejectionCode.FEEDBACK_NOT_REQUESTED):
        track.give_final_feedback(author=ParticipantRole.MENTEE, rating=5, now=NOW)


def test_a_fit_concern_on_an_already_completed_pair_is_not_raised() -> None:
    track = one_session_track()
    track.pull_events()

    track.give_session_feedback(
        author=ParticipantRole.MENTEE, session_key="kick-off", rating=2, good_fit=False, now=NOW
    )

    assert event_names(track) == ["FeedbackGiven"]


def test_a_dissolved_pair_takes_no_feedback() -> None:
    track = track_after_two_sessions()
    track.dissolve(now=NOW)

    with rejected(RejectionCode.PAIR_DISSOLVED):
        track.give_session_feedback(
            author=ParticipantRole.MENTEE, session_key="social-networks", rating=3, now=NOW
        )
    with rejected(RejectionCode.PAIR_DISSOLVED):
        track.give_final_feedback(author=ParticipantRole.MENTEE, rating=3, now=NOW)


def test_erasure_blanks_free_text_but_keeps_the_figures() -> None:
    track = track_after_two_sessions()
    track.set_objective(
        objective_id="o1", side=ParticipantRole.MENTEE, statement="Mon objectif", now=NOW
    )
    track.give_session_feedback(
        author=ParticipantRole.MENTEE,
        session_key="social-networks",
        rating=4,
        comment="Bravo",
        now=NOW,
    )
    track.session("kick-off").notes = "Notes privées"
    version = track.version

    track.erase_free_text()

    assert [s.notes for s in track.sessions] == [""] * 6
    assert track.objectives[0].statement == ""
    assert [(given.comment, given.rating) for given in track.feedback] == [("", 4)]
    assert track.version == version + 1
