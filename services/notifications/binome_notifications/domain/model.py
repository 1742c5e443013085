"""Vocabulary of the notifications domain: kinds, channels, people, notifications.

Languages, bilingual texts and the mentor/mentee role are the contracts' own types
(``Language``, ``LocalisedText``, ``ParticipantRole``): one word for each idea.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from binome_shared.contracts.values import Language, LocalisedText

if TYPE_CHECKING:
    from binome_notifications.domain.content import NotificationContent

DEFAULT_TIME_ZONE = "Europe/Paris"


FALLBACK_LANGUAGE = Language.FR


def resolve_language(*preferences: Language | None) -> Language:
    """The first language given, in order of preference; French when none is known."""
    for preference in preferences:
        if preference is not None:
            return preference
    return FALLBACK_LANGUAGE


def composed_text(*, fr: str, en: str) -> LocalisedText:
    """A bilingual text the service writes itself from texts already validated (a calendar
    summary around a session theme): not an input, so not held to the contracts' input
    limits, which a 4000-character theme plus its prefix would exceed."""
    return LocalisedText.model_construct(fr=fr, en=en)


class NotificationKind(StrEnum):
    """Why a message is sent; one template per kind and language."""

    INTRODUCTION = "introduction"
    SESSION_INVITATION = "session_invitation"
    SESSION_REMINDER = "session_reminder"
    SESSION_CANCELLATION = "session_cancellation"
    FEEDBACK_REQUEST = "feedback_request"
    STALL_NUDGE = "stall_nudge"
    HR_STALL_ALERT = "hr_stall_alert"
    HR_FIT_ALERT = "hr_fit_alert"
    MATCHING_SUMMARY = "matching_summary"
    PROGRESS_REPORT = "progress_report"
    PAIR_THANKS = "pair_thanks"
    CONSENT_REQUEST = "consent_request"
    PAIRING_CALLED_OFF = "pairing_called_off"
    PULSE_CHECK = "pulse_check"
    HR_HELP_ALERT = "hr_help_alert"


HR_KINDS: frozenset[NotificationKind] = frozenset(
    {
        NotificationKind.HR_STALL_ALERT,
        NotificationKind.HR_FIT_ALERT,
        NotificationKind.MATCHING_SUMMARY,
        NotificationKind.PROGRESS_REPORT,
        NotificationKind.HR_HELP_ALERT,
    }
)
"""Kinds addressed to a programme's HR side, which webhook receivers may subscribe to."""


class Channel(StrEnum):
    """How a notification travels."""

    EMAIL = "email"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """Someone who reads e-mails: a participant or an HR contact."""

    person_id: str
    display_name: str
    email: str
    language: Language | None = None
    time_zone: str | None = None
    job_title: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookReceiver:
    """An HR platform or chat tool that receives a programme's HR notifications."""

    receiver_id: str
    kinds: frozenset[NotificationKind] = HR_KINDS
    language: Language | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Programme:
    """What the notifications service knows about a programme."""

    programme_id: str
    name: str
    tenant_id: str = ""
    """The tenant the programme belongs to, which scopes its deliveries' keys (empty only in
    previews, which belong to no tenant)."""
    language: Language | None = None
    time_zone: str = DEFAULT_TIME_ZONE
    hr_contact: Person | None = None
    reminder_lead: timedelta = timedelta(hours=24)
    webhook_receivers: tuple[WebhookReceiver, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """Where one notification goes, in which language and time zone it is written."""

    recipient_id: str
    display_name: str
    address: str
    """An e-mail address for the e-mail channel, a receiver id for webhooks."""
    language: Language
    time_zone: str
    channel: Channel = Channel.EMAIL


def delivery_key(
    kind: NotificationKind,
    subject_id: str,
    channel: Channel,
    recipient_id: str,
    *,
    tenant_id: str,
) -> str:
    """The identity of one (recipient, reason) in a tenant: stable across redeliveries of a
    trigger, and different in two tenants that use the same ids (so their Message-IDs,
    webhook delivery ids and sending jobs never collide)."""
    reason = f"{tenant_id}|{kind.value}|{subject_id}|{channel.value}|{recipient_id}"
    return hashlib.sha256(reason.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """One message to send to one recipient for one reason, at or after ``send_at``."""

    kind: NotificationKind
    recipient: Recipient
    tenant_id: str
    programme_id: str
    subject_id: str
    """What the notification is about (pair, session, matching round, report period)."""
    send_at: datetime
    occurred_at: datetime
    content: NotificationContent

    @property
    def channel(self) -> Channel:
        """The recipient's channel."""
        return self.recipient.channel

    @property
    def language(self) -> Language:
        """The language the notification is written in."""
        return self.recipient.language

    @property
    def delivery_key(self) -> str:
        """See :func:`delivery_key`."""
        return delivery_key(
            self.kind,
            self.subject_id,
            self.channel,
            self.recipient.recipient_id,
            tenant_id=self.tenant_id,
        )
