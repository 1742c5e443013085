"""Feedback: each side rates its held sessions (answering the fit question after the first)
and, once the pair's programme is over, the whole programme."""

from __future__ import annotations

from datetime import datetime

from binome_sessions.domain.events import FeedbackGiven, PairFitConcernRaised
from binome_sessions.domain.parts import MAX_RATING, MIN_RATING, Feedback, TrackedSession, as_utc
from binome_sessions.domain.rejections import CommandRejectedError, RejectionCode
from binome_sessions.domain.track_state import TrackState
from binome_sessions.domain.values import (
    PairStatus,
    SessionStatus,
)
from binome_shared.contracts.sessions_messages import (
    FeedbackMoment,
    ParticipantRole,
)


class FeedbackCollection(TrackState):
    """The ratings and comments the pair gives, at most one per side and moment."""

    def give_session_feedback(
        self,
        *,
        author: ParticipantRole,
        session_key: str,
        rating: int,
        now: datetime,
        comment: str = "",
        good_fit: bool | None = None,
    ) -> None:
        """One side rates a held session; after the first one it also answers the fit question."""
        now = as_utc(now, "now")
        self._require_not_dissolved()
        settings = self.plan.feedback
        if not settings.after_each_session:
            raise CommandRejectedError(
                code=RejectionCode.FEEDBACK_NOT_REQUESTED, subject=session_key
            )
        session = self.session(session_key)
        if session.status is not SessionStatus.HELD:
            raise CommandRejectedError(
                code=RejectionCode.FEEDBACK_SESSION_NOT_HELD, subject=session_key
            )
        self._require_no_feedback_yet(author, FeedbackMoment.AFTER_SESSION, session_key)
        self._require_valid_rating_and_comment(rating, comment, session_key)
        fit_question_asked = (
            settings.fit_question_after_first_session and session_key == self.first_held_session_key
        )
        if fit_question_asked and good_fit is None:
            raise CommandRejectedError(code=RejectionCode.FIT_ANSWER_REQUIRED, subject=session_key)
        if not fit_question_asked and good_fit is not None:
            raise CommandRejectedError(
                code=RejectionCode.FIT_QUESTION_NOT_ASKED, subject=session_key
            )

        self._store_feedback(
            author,
            FeedbackMoment.AFTER_SESSION,
            rating,
            comment,
            now,
            session=session,
            good_fit=good_fit,
        )
        if good_fit is False and self.status is PairStatus.ACTIVE:
            self._record(
                PairFitConcernRaised(
                    **self._event_base(now), side=author, session_number=session.position
                )
            )

    def give_final_feedback(
        self, *, author: ParticipantRole, rating: int, now: datetime, comment: str = ""
    ) -> None:
        """One side rates the whole programme, once the pair's programme is over."""
        now = as_utc(now, "now")
        self._require_not_dissolved()
        if not self.plan.feedback.end_of_programme:
            raise CommandRejectedError(code=RejectionCode.FEEDBACK_NOT_REQUESTED)
        if self.status is not PairStatus.COMPLETED:
            raise CommandRejectedError(code=RejectionCode.FEEDBACK_BEFORE_COMPLETION)
        self._require_no_feedback_yet(author, FeedbackMoment.END_OF_PROGRAMME, None)
        self._require_valid_rating_and_comment(rating, comment, None)

        self._store_feedback(author, FeedbackMoment.END_OF_PROGRAMME, rating, comment, now)

    def _require_no_feedback_yet(
        self, author: ParticipantRole, moment: FeedbackMoment, session_key: str | None
    ) -> None:
        for given in self.feedback:
            if (given.author, given.moment, given.session_key) == (author, moment, session_key):
                raise CommandRejectedError(
                    code=RejectionCode.FEEDBACK_ALREADY_GIVEN, subject=session_key
                )

    def _require_valid_rating_and_comment(
        self, rating: int, comment: str, session_key: str | None
    ) -> None:
        if not MIN_RATING <= rating <= MAX_RATING:
            raise CommandRejectedError(code=RejectionCode.RATING_OUT_OF_RANGE, subject=session_key)
        if len(comment) > self.plan.feedback.comment_max_length:
            raise CommandRejectedError(code=RejectionCode.COMMENT_TOO_LONG, subject=session_key)

    def _store_feedback(
        self,
        author: ParticipantRole,
        moment: FeedbackMoment,
        rating: int,
        comment: str,
        now: datetime,
        *,
        session: TrackedSession | None = None,
        good_fit: bool | None = None,
    ) -> None:
        self.feedback.append(
            Feedback(
                author=author,
                moment=moment,
                session_key=None if session is None else session.key,
                rating=rating,
                comment=comment,
                good_fit=good_fit,
                given_at=now,
            )
        )
        self._record(
            FeedbackGiven(
                **self._event_base(now),
                side=author,
                moment=moment,
                session_number=None if session is None else session.position,
                rating=rating,
                has_comment=bool(comment.strip()),
            )
        )
