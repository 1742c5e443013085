"""What each kind of notification says: the facts a template renders, one class per kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.values import LocalisedText


class CalendarMethod(StrEnum):
    """iTIP method of a calendar object (RFC 5546)."""

    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True, slots=True, kw_only=True)
class Attendee:
    """Someone invited to a session."""

    display_name: str
    email: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarInvite:
    """A session as a calendar object; the UID is stable, SEQUENCE grows with each change."""

    uid: str
    sequence: int
    method: CalendarMethod
    starts_at: datetime
    ends_at: datetime
    summary: LocalisedText
    description: LocalisedText
    location: str | None
    attendees: tuple[Attendee, ...]
    stamped_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionLink:
    """A one-click action the reader may take from the message (docs/actions.md): the
    renderer signs it for the one recipient, for the ``owner`` service to perform."""

    name: str
    """How the template refers to it (``held``, ``missed``, ``feedback``)."""
    owner: str
    action: str
    target: tuple[tuple[str, str | int], ...]
    """What it is about, as (name, value) pairs: programme, pair, session number, side."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IntroductionContent:
    """Who the other person is, why they were paired, what to do first."""

    recipient_name: str
    recipient_role: ParticipantRole
    partner_name: str
    partner_role: ParticipantRole
    partner_job_title: str | None
    programme_name: str
    explanation: LocalisedText
    first_step: LocalisedText
    link_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionContent:
    """A scheduled, rescheduled, upcoming or cancelled session."""

    recipient_name: str
    partner_name: str
    programme_name: str
    theme: LocalisedText
    session_number: int | None
    starts_at: datetime
    ends_at: datetime
    location: str | None
    is_update: bool
    cancellation_reason: LocalisedText | None
    link_path: str
    calendar: CalendarInvite | None
    actions: tuple[ActionLink, ...] = ()
    """"It took place" / "it did not" after the session (not on a cancellation)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackRequestContent:
    """A request for feedback right after a session."""

    recipient_name: str
    partner_name: str
    programme_name: str
    theme: LocalisedText
    held_at: datetime
    link_path: str
    actions: tuple[ActionLink, ...] = ()
    """The feedback form (rating, comment, "a good fit?" after the first session)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StallNudgeContent:
    """A friendly push to a pair that has not met for a while."""

    recipient_name: str
    partner_name: str
    programme_name: str
    weeks_silent: int
    last_session_at: datetime | None
    link_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HrStallAlertContent:
    """A note to the programme's HR contact that a pair has stalled."""

    recipient_name: str
    programme_name: str
    mentor_name: str
    mentee_name: str
    weeks_silent: int
    last_session_at: datetime | None
    link_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HrFitAlertContent:
    """A note to the programme's HR contact that one side finds the pair not a good fit.

    Which side spoke is all it says about that person: no rating, no comment.
    """

    recipient_name: str
    programme_name: str
    mentor_name: str
    mentee_name: str
    side: ParticipantRole
    session_number: int | None
    link_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UnmatchedReason:
    """How many participants stayed unmatched for one reason."""

    reason: LocalisedText
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchingSummaryContent:
    """The outcome of a matching round, for HR."""

    recipient_name: str
    programme_name: str
    pairs: int
    participants_unmatched: int
    unmatched_reasons: tuple[UnmatchedReason, ...]
    average_score: float | None
    link_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeProgress:
    """A programme's progress over a period: what the report trigger carries and the report
    shows, as one value so that neither spells the figures out again."""

    period_start: date
    period_end: date
    pairs_active: int
    pairs_stalled: int
    pairs_completed: int
    sessions_held: int
    sessions_missed: int
    objectives_on_track_percent: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressReportContent:
    """Programme progress over a period, for HR."""

    recipient_name: str
    programme_name: str
    progress: ProgrammeProgress
    link_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PairThanksContent:
    """Thanks at the end of the programme, with the closing survey."""

    recipient_name: str
    partner_name: str
    programme_name: str
    sessions_held: int
    link_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRequestContent:
    """A proposed pair put to one of its members: who, why, accept or decline by when."""

    recipient_name: str
    recipient_role: ParticipantRole
    partner_name: str
    partner_role: ParticipantRole
    partner_job_title: str | None
    programme_name: str
    explanation: LocalisedText
    respond_by: datetime
    link_path: str
    """Where accepting is (the main button), without action links (no signing key)."""
    decline_link_path: str
    actions: tuple[ActionLink, ...] = ()
    """The signed "accept" / "decline" links for the reader (AcceptPair / DeclinePair)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PairingCalledOffContent:
    """A proposed pair will not go ahead. Deliberately says nothing of why or of who
    declined: both members get the same neutral message."""

    recipient_name: str
    partner_name: str
    programme_name: str
    link_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PulseCheckContent:
    """A pulse check-in: is the pair on track? One link per answer.

    ``link_path`` leads to the pair; ``on_track_path`` and ``need_help_path`` each answer the
    round for the reader (an AnswerPulse with the reader as ``participant_id``)."""

    recipient_name: str
    partner_name: str
    programme_name: str
    pulse_number: int
    link_path: str
    on_track_path: str
    need_help_path: str
    actions: tuple[ActionLink, ...] = ()
    """The signed "on_track" / "need_help" links for the reader (AnswerPulse); the paths
    above stand in for them without a signing key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HrHelpAlertContent:
    """A note to the programme's HR contact that a pair asked for help in a pulse check-in.

    Which side asked is all it says about that person."""

    recipient_name: str
    programme_name: str
    mentor_name: str
    mentee_name: str
    side: ParticipantRole
    pulse_number: int
    link_path: str


NotificationContent = (
    IntroductionContent
    | SessionContent
    | FeedbackRequestContent
    | StallNudgeContent
    | HrStallAlertContent
    | HrFitAlertContent
    | MatchingSummaryContent
    | ProgressReportContent
    | PairThanksContent
    | ConsentRequestContent
    | PairingCalledOffContent
    | PulseCheckContent
    | HrHelpAlertContent
)
