"""The session e-mails carry signed one-click links, one per action, for their one reader:
"it took place" / "it did not" around a session, the feedback form after it."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from urllib.parse import parse_qs, urlsplit

import pytest

from binome_devstack.local_action_keys import new_action_key, public_pem
from binome_devstack.notifications.examples import example_trigger
from binome_notifications.adapters.action_links import SignedActionLinks
from binome_notifications.adapters.headers import UnsafeHeaderError
from binome_notifications.adapters.mime import Letterhead, build_mime_message, mime_bytes
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.model import Notification, NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_shared.runtime.action_links import (
    ActionClaims,
    ActionLinkSigner,
    ActionLinkVerifier,
)
from binome_shared.runtime.http_auth import PemKeys

pytestmark = pytest.mark.unit

KIND = NotificationKind
KEY = new_action_key()
BASE = "https://binome.example.com"
SESSIONS_BASE = "https://sessions.binome.example.com"
LINKS = SignedActionLinks(
    signer=ActionLinkSigner(key=KEY, issuer="binome-notifications"),
    base_url=BASE,
    base_urls={"sessions": SESSIONS_BASE},
)
RENDERER = NotificationRenderer(
    public_base_url=BASE, organizer_email="noreply@example.com", action_links=LINKS
)
VERIFIER = ActionLinkVerifier(
    keys=PemKeys(public_pem(KEY)), issuer="binome-notifications", owner="sessions"
)
ACTION_URL = re.compile(re.escape(SESSIONS_BASE) + r"/actions\?token=[A-Za-z0-9_\-.%]+")


def planned(kind: NotificationKind, *, tenant: str = "groupe-exemple") -> list[Notification]:
    trigger = example_trigger(kind)
    trigger = replace(trigger, programme=replace(trigger.programme, tenant_id=tenant))
    return [n for n in plan_notifications(trigger) if n.kind is kind]


def claims_in(text: str) -> list[ActionClaims]:
    urls = ACTION_URL.findall(html.unescape(text))
    return [VERIFIER.verify(parse_qs(urlsplit(url).query)["token"][0]) for url in urls]


@pytest.mark.parametrize("kind", [KIND.SESSION_INVITATION, KIND.SESSION_REMINDER])
def test_session_e_mails_ask_whether_it_took_place(kind: NotificationKind) -> None:
    for notification in planned(kind):
        email = RENDERER.render_email(notification)
        for body in (email.text, email.html):
            claims = claims_in(body)
            assert [c.action for c in claims] == ["session.held", "session.missed"]
            for claim in claims:
                assert claim.subject == notification.recipient.recipient_id
                assert claim.tenant_id == notification.tenant_id
                assert claim.language == notification.language.value
                assert claim.target["pair_id"] == "pair-42"
                assert claim.target["programme_id"] == notification.programme_id
                assert isinstance(claim.target["session_number"], int)
        assert ("took place" in email.text) or ("a eu lieu" in email.text)


def test_each_reader_gets_links_for_their_own_side() -> None:
    sides = {}
    for notification in planned(KIND.SESSION_INVITATION):
        [held, _] = claims_in(RENDERER.render_email(notification).text)
        sides[held.subject] = held.target["side"]
    assert sorted(sides.values()) == ["mentee", "mentor"]


def test_the_invitation_and_the_reminder_share_one_token_id_per_action() -> None:
    """Either e-mail clicked, the action is done once: the second click is "already
    recorded"."""
    [invitation, *_] = planned(KIND.SESSION_INVITATION)
    reminder = next(
        n
        for n in planned(KIND.SESSION_REMINDER)
        if n.recipient.recipient_id == invitation.recipient.recipient_id
    )
    first = claims_in(RENDERER.render_email(invitation).text)
    second = claims_in(RENDERER.render_email(reminder).text)
    assert [c.token_id for c in first] == [c.token_id for c in second]
    assert first[0].token_id != first[1].token_id


def test_the_feedback_request_links_to_the_signed_form() -> None:
    for notification in planned(KIND.FEEDBACK_REQUEST):
        email = RENDERER.render_email(notification)
        for body in (email.text, email.html):
            [claim] = claims_in(body)
            assert claim.action == "session.feedback"
            assert claim.target["session_number"] == 1
        assert "/sessions/session-7/feedback" not in email.text


def test_without_a_signing_key_the_plain_links_stay() -> None:
    plain = NotificationRenderer(public_base_url=BASE, organizer_email="noreply@example.com")
    [notification, *_] = planned(KIND.FEEDBACK_REQUEST)
    email = plain.render_email(notification)
    assert f"{BASE}/sessions/session-7/feedback" in email.text
    assert "/actions?token=" not in email.text + email.html


def test_a_cancellation_carries_no_session_action_link() -> None:
    for notification in planned(KIND.SESSION_CANCELLATION):
        email = RENDERER.render_email(notification)
        assert claims_in(email.text + email.html) == []


def test_a_preview_belongs_to_no_tenant_and_carries_no_action_link() -> None:
    [notification, *_] = planned(KIND.FEEDBACK_REQUEST, tenant="")
    assert "/actions?token=" not in RENDERER.render_email(notification).text


NOTIFICATIONS_VERIFIER = ActionLinkVerifier(
    keys=PemKeys(public_pem(KEY)), issuer="binome-notifications", owner="notifications"
)
LETTERHEAD: Letterhead = {
    "sender_address": "binome@example.org",
    "sender_name": "Binôme",
    "message_id_domain": "binome.example.org",
    "sent_at": datetime(2027, 1, 14, 9, 30, tzinfo=UTC),
}


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


@pytest.mark.parametrize("kind", [KIND.SESSION_REMINDER, KIND.FEEDBACK_REQUEST, KIND.INTRODUCTION])
def test_participant_e_mails_offer_rfc_8058_one_click_unsubscribe(kind: NotificationKind) -> None:
    [notification, *_] = planned(kind)
    email = RENDERER.render_email(notification)
    assert email.unsubscribe_url is not None
    assert email.unsubscribe_url.startswith(f"{BASE}/actions?token=")
    claims = NOTIFICATIONS_VERIFIER.verify(_token(email.unsubscribe_url))
    assert claims.action == "notifications.unsubscribe"
    assert claims.target == {"programme_id": notification.programme_id, "kind": kind.value}
    assert claims.subject == notification.recipient.recipient_id
    for raw in (
        mime_bytes(email, **LETTERHEAD),
        build_mime_message(email, **LETTERHEAD).as_bytes(),
    ):
        # One plain line: neither folded inside the URL nor written as RFC 2047 words.
        assert f"List-Unsubscribe: <{email.unsubscribe_url}>".encode() in raw
        parsed = message_from_bytes(raw, policy=default_policy)
        assert parsed["List-Unsubscribe"] == f"<{email.unsubscribe_url}>"
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_footer_links_to_the_signed_preferences_page() -> None:
    [notification, *_] = planned(KIND.FEEDBACK_REQUEST)
    email = RENDERER.render_email(notification)
    [url] = re.findall(re.escape(BASE) + r"/actions\?token=[^\s\"<]+", email.text)
    claims = NOTIFICATIONS_VERIFIER.verify(_token(url))
    assert claims.action == "notifications.preferences"


def test_hr_e_mails_carry_no_unsubscribe_header() -> None:
    for notification in planned(KIND.HR_FIT_ALERT):
        if notification.channel.value == "email":
            assert RENDERER.render_email(notification).unsubscribe_url is None


@pytest.mark.parametrize(
    "url",
    [
        "https://x.example/actions?token=a>\r\nBcc: victim@example.com",
        "https://x.example/a b",
        "javascript:alert(1)",
        "https://x.example/é",
    ],
)
def test_an_unsafe_unsubscribe_url_is_refused(url: str) -> None:
    [notification, *_] = planned(KIND.FEEDBACK_REQUEST)
    email = replace(RENDERER.render_email(notification), unsubscribe_url=url)
    with pytest.raises(UnsafeHeaderError):
        mime_bytes(email, **LETTERHEAD)
