"""The consent request and the pulse check-in carry signed one-click links for their one
reader, in place of the plain paths: "accept" / "decline" performed by pairing, "on track" /
"we need help" performed by sessions, one token id per action and (for pulses) per round."""

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
from binome_notifications.domain.triggers import PulseCheckRequested
from binome_shared.runtime.action_links import ActionClaims, ActionLinkSigner, ActionLinkVerifier
from binome_shared.runtime.http_auth import PemKeys

pytestmark = pytest.mark.unit

KIND = NotificationKind
KEY = new_action_key()
BASE = "https://binome.example.com"
OWNERS = {"pairing": "https://pairing.example.com", "sessions": "https://sessions.example.com"}
RENDERER = NotificationRenderer(
    public_base_url=BASE,
    organizer_email="noreply@example.com",
    action_links=SignedActionLinks(
        signer=ActionLinkSigner(key=KEY, issuer="binome-notifications"),
        base_url=BASE,
        base_urls=OWNERS,
    ),
)


def planned(kind: NotificationKind, **changes: object) -> list[Notification]:
    trigger = example_trigger(kind)
    programme = replace(trigger.programme, tenant_id="groupe-exemple")  # a preview has none
    trigger = replace(trigger, programme=programme, **changes)  # type: ignore[arg-type]
    return [n for n in plan_notifications(trigger) if n.kind is kind]


def claims_in(text: str, owner: str) -> list[ActionClaims]:
    verifier = ActionLinkVerifier(
        keys=PemKeys(public_pem(KEY)), issuer="binome-notifications", owner=owner
    )
    found = re.findall(re.escape(OWNERS[owner]) + r"/actions\?token=[A-Za-z0-9_\-.%]+", text)
    return [verifier.verify(parse_qs(urlsplit(url).query)["token"][0]) for url in found]


def test_the_consent_request_links_accept_and_decline_to_pairing() -> None:
    readers: set[str] = set()
    for notification in planned(KIND.CONSENT_REQUEST):
        email = RENDERER.render_email(notification)
        for body in (email.text, html.unescape(email.html)):
            claims = claims_in(body, "pairing")
            assert [c.action for c in claims] == ["pair.accept", "pair.decline"]
            for claim in claims:
                assert claim.subject == notification.recipient.recipient_id
                assert claim.tenant_id == notification.tenant_id
                assert claim.language == notification.language.value
                assert claim.target == {
                    "programme_id": notification.programme_id,
                    "pair_id": notification.subject_id,
                }
            assert claims[0].token_id != claims[1].token_id
            assert "/consent/accept" not in body
            assert "/consent/decline" not in body
        readers.add(notification.recipient.recipient_id)
    assert len(readers) == 2  # both members, each with their own links


def test_the_pulse_check_links_both_answers_to_sessions_per_round() -> None:
    trigger = example_trigger(KIND.PULSE_CHECK)
    assert isinstance(trigger, PulseCheckRequested)
    token_ids: set[str] = set()
    for number in (trigger.pulse_number, trigger.pulse_number + 1):
        for notification in planned(KIND.PULSE_CHECK, pulse_number=number):
            email = RENDERER.render_email(notification)
            for body in (email.text, html.unescape(email.html)):
                claims = claims_in(body, "sessions")
                assert [c.action for c in claims] == ["pulse.on_track", "pulse.need_help"]
                for claim in claims:
                    assert claim.subject == notification.recipient.recipient_id
                    assert claim.target["pulse_number"] == number
                    assert claim.target["pair_id"] == trigger.pair_id
                assert "/pulses/" not in body
                token_ids.update(c.token_id for c in claims)
    # Two rounds, two readers, two answers: a link of one round never counts for the next.
    assert len(token_ids) == 8
