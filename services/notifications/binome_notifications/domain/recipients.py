"""Who reads a message about a trigger: the pair's two members, or the programme's HR side
(its contact by e-mail, the webhook receivers subscribed to the kind)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple, TypedDict
from urllib.parse import quote

from binome_notifications.domain.content import NotificationContent
from binome_notifications.domain.model import (
    Channel,
    Notification,
    NotificationKind,
    Person,
    Programme,
    Recipient,
    resolve_language,
)
from binome_notifications.domain.triggers import (
    MatchingCompleted,
    PairFitConcern,
    PairNeedsHelp,
    PairStalled,
    PairTrigger,
    ProgressReportDue,
)
from binome_shared.contracts.participants import ParticipantRole


def person_recipient(person: Person, programme: Programme) -> Recipient:
    """A person as an e-mail recipient: their language, else the programme's, else French."""
    return Recipient(
        recipient_id=person.person_id,
        display_name=person.display_name,
        address=person.email,
        language=resolve_language(person.language, programme.language),
        time_zone=person.time_zone or programme.time_zone,
    )


def path(*segments: str) -> str:
    """A link path from raw segments, each safely quoted."""
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


class ReaderNames(TypedDict):
    """The names every message to a pair's member starts from."""

    recipient_name: str
    partner_name: str
    programme_name: str


class PairSide(NamedTuple):
    """One member of a pair, seen as the reader of a message about it."""

    person: Person
    role: ParticipantRole
    partner: Person
    partner_role: ParticipantRole

    def names(self, programme: Programme) -> ReaderNames:
        """Who reads, about whom, in which programme."""
        return ReaderNames(
            recipient_name=self.person.display_name,
            partner_name=self.partner.display_name,
            programme_name=programme.name,
        )


class HrPairAlertFields(TypedDict):
    """What every alert to HR about one pair says first: to whom, in which programme, about
    which two people, with a link to the pair in the programme."""

    recipient_name: str
    programme_name: str
    mentor_name: str
    mentee_name: str
    link_path: str


def hr_pair_alert(trigger: PairTrigger, recipient_name: str) -> HrPairAlertFields:
    """The common fields of an alert to ``recipient_name`` (HR) about ``trigger``'s pair."""
    programme = trigger.programme
    return HrPairAlertFields(
        recipient_name=recipient_name,
        programme_name=programme.name,
        mentor_name=trigger.mentor.display_name,
        mentee_name=trigger.mentee.display_name,
        link_path=path("programmes", programme.programme_id, "pairs", trigger.pair_id),
    )


def pair_sides(trigger: PairTrigger) -> tuple[PairSide, PairSide]:
    mentor, mentee = trigger.mentor, trigger.mentee
    return (
        PairSide(mentor, ParticipantRole.MENTOR, mentee, ParticipantRole.MENTEE),
        PairSide(mentee, ParticipantRole.MENTEE, mentor, ParticipantRole.MENTOR),
    )


def to_pair(
    trigger: PairTrigger,
    *,
    kind: NotificationKind,
    subject_id: str,
    content_for: Callable[[PairSide], NotificationContent],
) -> Iterator[Notification]:
    for side in pair_sides(trigger):
        recipient = person_recipient(side.person, trigger.programme)
        content = content_for(side)
        yield notification_about(
            trigger, kind=kind, recipient=recipient, subject_id=subject_id, content=content
        )


def hr_recipients(programme: Programme, kind: NotificationKind) -> Iterator[Recipient]:
    if programme.hr_contact is not None:
        yield person_recipient(programme.hr_contact, programme)
    for receiver in programme.webhook_receivers:
        if kind in receiver.kinds:
            yield Recipient(
                recipient_id=receiver.receiver_id,
                display_name=receiver.receiver_id,
                address=receiver.receiver_id,
                language=resolve_language(receiver.language, programme.language),
                time_zone=programme.time_zone,
                channel=Channel.WEBHOOK,
            )


def to_hr(
    trigger: PairStalled | PairFitConcern | PairNeedsHelp | MatchingCompleted | ProgressReportDue,
    *,
    kind: NotificationKind,
    subject_id: str,
    content_for: Callable[[str], NotificationContent],
) -> Iterator[Notification]:
    for recipient in hr_recipients(trigger.programme, kind):
        content = content_for(recipient.display_name)
        yield notification_about(
            trigger, kind=kind, recipient=recipient, subject_id=subject_id, content=content
        )


def notification_about(
    trigger: PairTrigger | MatchingCompleted | ProgressReportDue,
    *,
    kind: NotificationKind,
    recipient: Recipient,
    subject_id: str,
    content: NotificationContent,
) -> Notification:
    """A notification about ``trigger``, to send right away."""
    return Notification(
        kind=kind,
        recipient=recipient,
        tenant_id=trigger.programme.tenant_id,
        programme_id=trigger.programme.programme_id,
        subject_id=subject_id,
        send_at=trigger.occurred_at,
        occurred_at=trigger.occurred_at,
        content=content,
    )
