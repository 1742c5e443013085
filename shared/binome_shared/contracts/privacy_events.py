"""Facts about personal data that every service publishes on ``binome.privacy.events``.

They name a person by participant id only: an erasure's proof must not carry what was
erased. See docs/privacy.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from binome_shared.contracts.base import Event
from binome_shared.contracts.moments import Moment
from binome_shared.contracts.text import Identifier
from binome_shared.contracts.topics import PRIVACY_EVENTS
from binome_shared.contracts.values import Count


class ErasingService(StrEnum):
    """The services that hold personal data, each of which erases its own."""

    PAIRING = "pairing"
    SESSIONS = "sessions"
    NOTIFICATIONS = "notifications"


KindCode = Annotated[str, Field(pattern=r"^[a-z][a-z_]*$", max_length=64)]
"""A kind of record counted in a proof: a lower-case code, never a value from the data."""


class ErasedKind(StrEnum):
    """What a service counts in :attr:`ErasureCompleted.erased` (the contract takes any code,
    so that a service may count a new kind in a minor version)."""

    ENROLMENTS = "enrolments"
    """pairing: a profile deleted, one per programme the person was enrolled in."""
    REPORTING_LINES = "reporting_lines"
    """pairing: an org-chart line naming the person (as employee or manager) deleted."""
    PAIRS_ENDED = "pairs_ended"
    """pairing: a formed pair dissolved or a proposal superseded."""
    PAIR_TRACKS = "pair_tracks"
    """sessions: a followed pair whose free text was blanked."""
    SESSION_TEXTS = "session_texts"
    """sessions: a session whose notes or location were blanked."""
    OBJECTIVES = "objectives"
    """sessions: an objective whose statement was blanked."""
    FEEDBACK = "feedback"
    """sessions: a feedback whose comment was blanked."""
    ADDRESSES = "addresses"
    """notifications: a name, e-mail address, language and time zone deleted, one per
    programme (with them, the person's opt-outs)."""
    DELIVERIES = "deliveries"
    """notifications: a delivery to the person (pending or past) deleted."""
    PROGRAMME_CONTACTS = "programme_contacts"
    """notifications: a programme whose HR contact was the person's address, contact cleared."""
    PAIR_MEMBERSHIPS = "pair_memberships"
    """notifications: a pair the person's id was cleared from."""
    DELIVERIES_WITHDRAWN = "deliveries_withdrawn"
    """notifications: a delivery not sent yet to someone else that named the person,
    withdrawn."""
    MESSAGE_COPIES = "message_copies"
    """every service: a copy of a message naming the person that the outbox kept after
    relaying it (or set aside), deleted."""
    PARKED_MESSAGES = "parked_messages"
    """every service: a message parked until what it is about arrives, that named the person
    or waited for a pair of theirs, discarded (never replayed nor dead-lettered)."""
    SESSION_REVISIONS = "session_revisions"
    """notifications: a session of the person's pairs (date and place, kept for its
    calendar invitations), deleted."""


class ErasureCompleted(
    Event,
    type="binome.privacy.erasure-completed",
    version=(1, 0),
    topic=PRIVACY_EVENTS,
    key="participant_id",
):
    """One service applied a GDPR erasure (``EraseParticipant``) of a person in the tenant.

    Each of pairing, sessions and notifications publishes one per ``EraseParticipant``, in
    the transaction that erased: three of them prove the erasure is complete. A repeated
    erasure changes nothing and publishes again, with ``already_erased`` set, the first
    erasure's time and no counts. Erasing someone the service never knew is a success with
    zero counts.
    """

    participant_id: Identifier = Field(examples=["E10442"])
    service: ErasingService = Field(description="The service that erased.")
    erased_at: Moment = Field(
        description="When this service first erased the person in the tenant (on a repeat, "
        "the first erasure's time, not the repeat's: the envelope's `time` says that)."
    )
    already_erased: bool = Field(
        description="True: the person was erased before; this erasure changed nothing."
    )
    erased: dict[KindCode, Count] = Field(
        default_factory=dict,
        max_length=20,
        description="How many records of each kind held the person's data and were deleted "
        "or blanked by this erasure (kinds in docs/privacy.md); kinds with none are left "
        "out; empty on a repeat.",
        examples=[{"enrolments": 1, "reporting_lines": 2, "pairs_ended": 1}],
    )


PRIVACY_EVENT_TYPES: tuple[type[Event], ...] = (ErasureCompleted,)
