"""The session e-mails carry signed one-click links, one per action, for their one reader:
"it took place" / "it did not" around a session, the feedback form after it."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from binome_devstack.local_action_keys import new_action_key, public_pem
from binome_devstack.notifications.examples import example_trigger
from binome_notifications.adapters.action_links import SignedActionLinks
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


def test_a_cancellation_carries_no_action_link() -> None:
    for notification in planned(KIND.SESSION_CANCELLATION):
        email = RENDERER.render_email(notification)
        assert "/actions?token=" not in email.text + email.html


def test_a_preview_belongs_to_no_tenant_and_carries_no_action_link() -> None:
    [notification, *_] = planned(KIND.FEEDBACK_REQUEST, tenant="")
    assert "/actions?token=" not in RENDERER.render_email(notification).text
