"""What the service remembers to write to people: programmes, pairs, sessions, and what one
event about a pair needs at once (its programme, its two members and their opt-outs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from binome_notifications.domain.model import Channel, Notification, Person
from binome_notifications.domain.policy import NO_PREFERENCES, Preferences
from binome_shared.contracts.values import Language, LocalisedText

HR_CONTACT_ID_PREFIX = "hr:"
"""The HR contact's recipient id is ``hr:<programme id>``: one contact per programme."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeRecord:
    """A programme as DefineProgramme last described it."""

    programme_id: str
    tenant_id: str
    name: str
    language: Language
    time_zone: str
    contact_name: str | None
    contact_email: str | None
    """None once the contact was erased (a participant who was also the HR contact)."""
    contact_language: Language
    reminder_lead: timedelta
    themes: dict[str, LocalisedText] = field(default_factory=dict)
    feedback_after_each_session: bool = True
    feedback_delay: timedelta = timedelta(0)

    @property
    def hr_contact(self) -> Person | None:
        """The programme's HR contact as a reader of e-mails; None once erased."""
        if self.contact_email is None:
            return None
        return Person(
            person_id=f"{HR_CONTACT_ID_PREFIX}{self.programme_id}",
            display_name=self.contact_name or "",
            email=self.contact_email,
            language=self.contact_language,
            time_zone=self.time_zone,
        )

    def theme(self, key: str) -> LocalisedText:
        """The title of a session theme; the key itself when the plan does not name it."""
        return self.themes.get(key) or LocalisedText.model_construct(fr=key, en=key)


@dataclass(frozen=True, slots=True, kw_only=True)
class PairRecord:
    """Who is in a pair of a tenant, by participant id."""

    tenant_id: str
    pair_id: str
    programme_id: str
    mentor_id: str | None
    """None once the mentor was erased: the pair stays known, nothing is sent about it."""
    mentee_id: str | None
    """None once the mentee was erased."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """A session's latest calendar revision."""

    session_id: str
    pair_id: str
    session_number: int
    theme_key: str
    starts_at: datetime
    duration_minutes: int
    location: str
    sequence: int

    @property
    def ends_at(self) -> datetime:
        """When the session is planned to end."""
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolledPerson:
    """A participant as an HR import describes them, in one programme of one tenant."""

    tenant_id: str
    programme_id: str
    person: Person


@dataclass(frozen=True, slots=True, kw_only=True)
class ErasedPerson:
    """What the directory forgot of one erased participant, and what the ledger still has
    to withdraw because of it."""

    profiles: int
    """People rows deleted (one per programme of the tenant)."""
    addresses: frozenset[str]
    """The e-mail addresses (lower case) the person was known by."""
    pair_ids: tuple[str, ...]
    """The pairs the person was a member of (their id is now removed from them)."""
    contacts: int
    """Programme HR contacts that were the person's address, now cleared."""
    sessions: int = 0
    """Sessions of those pairs forgotten (their date and place, kept for invitations)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PairPeople:
    """What one event about a pair needs, read at once: the pair's programme and members
    (None when not known yet, or erased) and the members' opt-outs."""

    pair: PairRecord
    programme: ProgrammeRecord | None
    mentor: Person | None
    mentee: Person | None
    preferences: Mapping[str, Preferences] = field(default_factory=dict)
    """By participant id; a participant who never set any is absent."""


def wanted(notification: Notification, preferences: Mapping[str, Preferences]) -> bool:
    """Whether ``notification`` survives its recipient's opt-outs. Opt-outs apply to
    participants; HR contacts and webhook receivers are configuration."""
    recipient_id = notification.recipient.recipient_id
    if notification.channel is Channel.WEBHOOK or recipient_id.startswith(HR_CONTACT_ID_PREFIX):
        return True
    allowed = preferences.get(recipient_id, NO_PREFERENCES)
    return allowed.allows(notification.kind, notification.channel)
