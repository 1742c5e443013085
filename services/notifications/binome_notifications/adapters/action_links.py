"""The signed one-click links of a notification (docs/actions.md): each :class:`ActionLink`
of its content becomes ``<owner's base URL>/actions?token=…`` for its one recipient.

The token id is derived from the tenant, what the message is about, the recipient and the
action, not drawn at random: the invitation and the reminder of one session (or a message
rendered again) carry links with the same ``jti``, so the action is done once whichever is
clicked, and the second click is told "already recorded".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import urlencode

from binome_notifications.domain.content import ActionLink
from binome_notifications.domain.model import HR_KINDS, Notification
from binome_shared.contracts import action_names
from binome_shared.runtime.action_links import ActionLinkSigner

ACTIONS_PATH = "/actions"


class SignedActionLinks:
    """Signs a notification's action links with the sender's private key."""

    def __init__(
        self,
        *,
        signer: ActionLinkSigner,
        base_url: str,
        base_urls: Mapping[str, str],
        unsubscribe_lifetime_seconds: int = 365 * 86400,
    ) -> None:
        """``base_urls`` gives the public base URL of the service performing each action
        (by service name); any other service's is ``base_url``."""
        self._signer = signer
        self._unsubscribe_lifetime = unsubscribe_lifetime_seconds
        self._base_url = base_url.rstrip("/")
        self._base_urls = {owner: url.rstrip("/") for owner, url in base_urls.items()}

    def urls(self, notification: Notification) -> dict[str, str]:
        """The absolute URL of each action link of ``notification``, by its name (none in a
        preview, which belongs to no tenant)."""
        links: tuple[ActionLink, ...] = getattr(notification.content, "actions", ())
        if not notification.tenant_id:
            return {}
        return {link.name: self.url(notification, link) for link in links}

    def unsubscribe_url(self, notification: Notification) -> str | None:
        """The RFC 8058 one-click URL of ``notification``'s kind, for its one recipient (a
        participant's e-mails only: HR contacts set their e-mails with HR)."""
        kind = ("kind", notification.kind.value)
        return self._own_page(notification, action_names.UNSUBSCRIBE, kind)

    def preferences_url(self, notification: Notification) -> str | None:
        """The signed preferences page of the recipient (it may be used again and again)."""
        return self._own_page(notification, action_names.PREFERENCES)

    def _own_page(
        self, notification: Notification, action: str, *target: tuple[str, str]
    ) -> str | None:
        """A long-lived link to one of the notifications service's own pages."""
        if not notification.tenant_id or notification.kind in HR_KINDS:
            return None
        link = ActionLink(
            name=action,
            owner=action_names.NOTIFICATIONS,
            action=action,
            target=(("programme_id", notification.programme_id), *target),
        )
        return self.url(notification, link, lifetime_seconds=self._unsubscribe_lifetime)

    def url(
        self, notification: Notification, link: ActionLink, *, lifetime_seconds: int | None = None
    ) -> str:
        token = self._signer.sign(
            lifetime_seconds=lifetime_seconds,
            owner=link.owner,
            tenant_id=notification.tenant_id,
            subject=notification.recipient.recipient_id,
            action=link.action,
            target=dict(link.target),
            language=notification.language.value,
            token_id=token_id(notification, link),
        )
        base = self._base_urls.get(link.owner, self._base_url)
        return f"{base}{ACTIONS_PATH}?{urlencode({'token': token})}"


def token_id(notification: Notification, link: ActionLink) -> str:
    """The same for every message about the same thing to the same person: see above."""
    seed = "|".join(
        (
            notification.tenant_id,
            notification.programme_id,
            notification.subject_id,
            notification.recipient.recipient_id,
            link.action,
        )
    )
    return hashlib.sha256(seed.encode()).hexdigest()[:32]
