"""Jinja2 rendering of notifications into e-mails and webhook bodies, in French or English."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import jinja2

from binome_notifications.adapters.action_links import SignedActionLinks
from binome_notifications.adapters.messages import (
    CalendarAttachment,
    OutgoingEmail,
    OutgoingWebhook,
)
from binome_notifications.domain.calendar import render_ics
from binome_notifications.domain.content import (
    HrFitAlertContent,
    HrHelpAlertContent,
    HrStallAlertContent,
    MatchingSummaryContent,
    ProgressReportContent,
)
from binome_notifications.domain.dates import (
    format_clock_time,
    format_day,
    format_moment,
    to_time_zone,
)
from binome_notifications.domain.model import Channel, Notification
from binome_shared.contracts.values import Language, LocalisedText

PREFERENCES_PATH = "/preferences"


@dataclass(frozen=True, slots=True)
class RenderedText:
    """Subject and bodies of a notification, before any transport."""

    subject: str
    text: str
    html: str


def _template_environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=True, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["localized"] = _localized
    environment.filters["moment"] = _moment
    environment.filters["day"] = _day
    environment.filters["clock"] = _clock
    return environment


@jinja2.pass_context
def _localized(context: jinja2.runtime.Context, text: LocalisedText) -> str:
    return text.in_language(context["lang"])


@jinja2.pass_context
def _moment(context: jinja2.runtime.Context, moment: datetime) -> str:
    return format_moment(moment, language=context["lang"], time_zone=context["time_zone"])


@jinja2.pass_context
def _day(context: jinja2.runtime.Context, value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = to_time_zone(value, context["time_zone"]).date()
    return format_day(value, context["lang"])


@jinja2.pass_context
def _clock(context: jinja2.runtime.Context, moment: datetime) -> str:
    return format_clock_time(to_time_zone(moment, context["time_zone"]), context["lang"])


class NotificationRenderer:
    """Turns a planned notification into what a transport sends.

    Links are absolute, built from ``public_base_url``; the organizer of calendar invites is
    the service's sender address.
    """

    def __init__(
        self,
        *,
        public_base_url: str,
        organizer_email: str,
        organizer_name: str = "Binôme",
        loader: jinja2.BaseLoader | None = None,
        action_links: SignedActionLinks | None = None,
    ) -> None:
        """Without ``action_links`` (no signing key: previews, some tests) messages carry
        the plain links only."""
        parts = urlsplit(public_base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("public_base_url must be an absolute http(s) URL")
        self._base_url = public_base_url.rstrip("/")
        self._organizer_email = organizer_email
        self._organizer_name = organizer_name
        self._action_links = action_links
        self._environment = _template_environment(
            loader or jinja2.PackageLoader("binome_notifications", "templates")
        )

    def link(self, path: str) -> str:
        """The absolute URL of an application path."""
        return self._base_url + (path if path.startswith("/") else "/" + path)

    def render_text(self, notification: Notification) -> RenderedText:
        """Subject, plain text and HTML of ``notification`` in its recipient's language."""
        context = self._context(notification)
        stem = f"{notification.language.value}/{notification.kind.value}"
        text_template = self._environment.get_template(f"{stem}.txt.j2")
        html_template = self._environment.get_template(f"{stem}.html.j2")
        subject_block = text_template.blocks["subject"]
        subject = "".join(subject_block(text_template.new_context(context)))
        return RenderedText(
            subject=" ".join(subject.split()),
            text=text_template.render(context),
            html=html_template.render(context),
        )

    def render_email(self, notification: Notification) -> OutgoingEmail:
        """``notification`` as an e-mail, with its calendar invite attached when it has one."""
        if notification.channel is not Channel.EMAIL:
            raise ValueError("not an e-mail notification")
        rendered = self.render_text(notification)
        invite = getattr(notification.content, "calendar", None)
        attachment = None
        if invite is not None:
            attachment = CalendarAttachment(
                ics=render_ics(
                    invite,
                    language=notification.language,
                    organizer_email=self._organizer_email,
                    organizer_name=self._organizer_name,
                ),
                method=invite.method,
            )
        return OutgoingEmail(
            delivery_key=notification.delivery_key,
            kind=notification.kind,
            to_address=notification.recipient.address,
            to_name=notification.recipient.display_name,
            language=notification.language,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            calendar=attachment,
            unsubscribe_url=None
            if self._action_links is None
            else self._action_links.unsubscribe_url(notification),
        )

    def render_webhook(self, notification: Notification) -> OutgoingWebhook:
        """``notification`` as a JSON body: a title and link for chat tools, facts for HR tools.

        Person names stay out of the facts; the title is the e-mail subject, which for HR
        kinds names no one.
        """
        if notification.channel is not Channel.WEBHOOK:
            raise ValueError("not a webhook notification")
        rendered = self.render_text(notification)
        payload: dict[str, Any] = {
            "delivery_id": notification.delivery_key,
            "kind": notification.kind.value,
            "programme_id": notification.programme_id,
            "subject_id": notification.subject_id,
            "occurred_at": notification.occurred_at.isoformat(),
            "language": notification.language.value,
            "title": rendered.subject,
            "link": self.link(notification.content.link_path),
            "facts": _webhook_facts(notification),
        }
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return OutgoingWebhook(
            delivery_key=notification.delivery_key,
            kind=notification.kind,
            receiver_id=notification.recipient.address,
            body=body.encode(),
        )

    def _preferences_link(self, notification: Notification) -> str:
        """The recipient's signed preferences page, else the platform's plain path."""
        signed = None
        if self._action_links is not None and notification.channel is Channel.EMAIL:
            signed = self._action_links.preferences_url(notification)
        return signed or self.link(PREFERENCES_PATH)

    def _context(self, notification: Notification) -> dict[str, Any]:
        return {
            "content": notification.content,
            "lang": notification.language,
            "time_zone": notification.recipient.time_zone,
            "recipient_name": notification.recipient.display_name,
            "link": self.link(notification.content.link_path),
            "preferences_link": self._preferences_link(notification),
            "actions": {} if self._action_links is None else self._action_links.urls(notification),
            "base_url": self._base_url,
            "Language": Language,
        }


def _webhook_facts(notification: Notification) -> dict[str, Any]:
    """The facts an HR tool reads, under the keys receivers were given.

    These keys are a published interface of their own (receivers parse them, and stored
    webhook bodies are resent as they are), so they keep their names (``weeks_without_session``,
    ``raised_by``, ``pairs_formed``, ``active_pairs``, ``sessions_completed``…) even where the
    domain now uses the events' words (``weeks_silent``, ``side``, ``pairs``, ``pairs_active``,
    ``sessions_held``).
    """
    content = notification.content
    language = notification.language
    match content:
        case HrStallAlertContent():
            last = content.last_session_at.isoformat() if content.last_session_at else None
            return {
                "weeks_without_session": content.weeks_silent,
                "last_session_at": last,
            }
        case HrFitAlertContent():
            return {
                "raised_by": content.side.value,
                "session_number": content.session_number,
            }
        case HrHelpAlertContent():
            return {"raised_by": content.side.value, "pulse_number": content.pulse_number}
        case MatchingSummaryContent():
            return {
                "pairs_formed": content.pairs,
                "participants_unmatched": content.participants_unmatched,
                "unmatched_reasons": [
                    {"reason": item.reason.in_language(language), "count": item.count}
                    for item in content.unmatched_reasons
                ],
                "average_score": content.average_score,
            }
        case ProgressReportContent(progress=progress):
            return {
                "period_start": progress.period_start.isoformat(),
                "period_end": progress.period_end.isoformat(),
                "active_pairs": progress.pairs_active,
                "stalled_pairs": progress.pairs_stalled,
                "completed_pairs": progress.pairs_completed,
                "sessions_completed": progress.sessions_held,
                "sessions_missed": progress.sessions_missed,
                "objectives_on_track_percent": progress.objectives_on_track_percent,
            }
        case _:
            return {}
