"""Following the pairs after they are proposed: consent, pulse check-ins, ratings, imposed pairs.

A pure fold of pairing's and sessions' events (like :mod:`.history`, which hands them over),
and the report's figures computed from it, each with the small-group suppression rule
(:data:`~binome_integrations.report.model.MINIMUM_GROUP_SIZE`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from binome_integrations.report.model import ConsentFigures, PulseRound, SessionRatings
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    PairCalledOff,
    PairConsentRequested,
    PairFormed,
)
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages import FeedbackGiven, FeedbackMoment
from binome_shared.contracts.sessions_messages.pulse import (
    PulseAnswer,
    PulseAnswered,
    PulseCheckRequested,
)

FollowUpEvent = PairConsentRequested | PairCalledOff | PulseCheckRequested | PulseAnswered
FOLLOW_UP_TYPES = (PairConsentRequested, PairCalledOff, PulseCheckRequested, PulseAnswered)
"""The events only this fold reads (PairFormed and FeedbackGiven come through :mod:`.history`,
which reads them too)."""

_CALL_OFF_OUTCOME = {
    CallOffReason.DECLINED: "declined",
    CallOffReason.NO_ANSWER: "lapsed",
    CallOffReason.PARTICIPANT_LEFT: "left",
}


@dataclass(kw_only=True, slots=True)
class FollowUp:
    """Consent outcomes by pair, pulse answers by round, ratings by session number."""

    consent: dict[str, str] = field(default_factory=dict)
    """Each pair asked to consent, with where it stands (pending, accepted, declined…)."""
    pulse_asked: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Pairs asked in each round."""
    pulse_answers: dict[int, dict[tuple[str, ParticipantRole], PulseAnswer]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    """Each member's last answer in each round, by (pair, side)."""
    ratings: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    """Ratings given after each session number."""

    def take(self, data: FollowUpEvent) -> None:
        """Fold one consent or pulse event in."""
        match data:
            case PairConsentRequested():
                self.consent[data.pair_id] = "pending"
            case PairCalledOff() if data.pair_id in self.consent:
                self.consent[data.pair_id] = _CALL_OFF_OUTCOME.get(data.reason, "left")
            case PulseCheckRequested():
                self.pulse_asked[data.pulse_number].add(data.pair_id)
            case PulseAnswered():
                self.pulse_answers[data.pulse_number][(data.pair_id, data.side)] = data.answer

    def formed(self, pair: PairFormed) -> None:
        """A pair formed after both accepted (a pair that needed no consent is not counted)."""
        if pair.pair_id in self.consent:
            self.consent[pair.pair_id] = "accepted"

    def rated(self, feedback: FeedbackGiven) -> None:
        """A rating after a numbered session (the end-of-programme rating has no number)."""
        after_session = feedback.moment in (None, FeedbackMoment.AFTER_SESSION)
        if after_session and feedback.session_number is not None:
            self.ratings[feedback.session_number].append(feedback.rating)


def consent_figures(follow_up: FollowUp) -> ConsentFigures:
    """Pairs asked to consent and where they stand."""
    return ConsentFigures.measured(
        pairs_asked=len(follow_up.consent), outcomes=dict(Counter(follow_up.consent.values()))
    )


def pulse_rounds(follow_up: FollowUp) -> list[PulseRound]:
    """Each round's answers, counted per member asked (two per pair)."""
    rounds = []
    for number in sorted(follow_up.pulse_asked):
        answers = Counter(follow_up.pulse_answers.get(number, {}).values())
        rounds.append(
            PulseRound.measured(
                pulse_number=number,
                asked=2 * len(follow_up.pulse_asked[number]),
                on_track=answers[PulseAnswer.ON_TRACK],
                need_help=answers[PulseAnswer.NEED_HELP],
            )
        )
    return rounds


def ratings_by_session(follow_up: FollowUp) -> list[SessionRatings]:
    """The average rating after each session number: does the pair's experience improve?"""
    return [
        SessionRatings.measured(session_number=number, ratings=follow_up.ratings[number])
        for number in sorted(follow_up.ratings)
    ]


def imposed_counts(pairs: Iterable[PairFormed]) -> tuple[int, int]:
    """(pairs HR imposed, of which formed on an override of a hard constraint)."""
    imposed = [pair.explanation.imposed for pair in pairs if pair.explanation.imposed is not None]
    return len(imposed), sum(1 for imposition in imposed if imposition.overridden)
