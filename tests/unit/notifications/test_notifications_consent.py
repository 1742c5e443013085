"""Participant consent in the notifications service, over fakes: each member of a pair put
to them is asked to accept or decline (French or English, with the deadline and both
links); a pair called off gets the same neutral notice to both, whoever declined."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from binome_notifications.adapters.messages import OutgoingEmail
from binome_notifications.domain.model import NotificationKind
from binome_notifications.prerequisites import pair_ready
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    PairCalledOff,
    PairConsentRequested,
    PairSide,
)
from binome_shared.contracts.participants import ParticipantRole
from tests.unit.notifications import notifications_factories as make
from tests.unit.notifications.notifications_service_fakes import Service

pytestmark = pytest.mark.unit

NOW = make.NOW
PAIR = "pair-7"
RESPOND_BY = datetime(2027, 1, 21, 9, 30, tzinfo=UTC)
BASE = "https://rh.example.com"


def consent_requested() -> Any:
    return make.envelope(
        PairConsentRequested(
            pair_id=PAIR,
            round_id="round-1",
            mentor=PairSide(participant_id=make.MENTOR, business_unit="Digital"),
            mentee=PairSide(participant_id=make.MENTEE, business_unit="Finance"),
            explanation=make.pair_formed().data.explanation,
            respond_by=RESPOND_BY,
        ),
        source="/binome/pairing",
    )


def called_off(declined_by: ParticipantRole | None) -> Any:
    reason = CallOffReason.NO_ANSWER if declined_by is None else CallOffReason.DECLINED
    return make.envelope(
        PairCalledOff(pair_id=PAIR, reason=reason, declined_by=declined_by),
        source="/binome/pairing",
    )


async def asked() -> Service:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), consent_requested(), now=NOW)
    return service


def emails(service: Service, kind: NotificationKind) -> dict[str, OutgoingEmail]:
    """The pending e-mails of ``kind``, by recipient id."""
    found: dict[str, OutgoingEmail] = {}
    for planned in service.deliveries.planned():
        if planned.notification.kind is kind:
            assert isinstance(planned.message, OutgoingEmail)
            found[planned.notification.recipient.recipient_id] = planned.message
    return found


async def test_each_member_is_asked_in_their_language_with_the_deadline_and_both_links() -> None:
    service = await asked()

    assert service.deliveries.kinds_to() == [
        ("consent_request", make.MENTOR),
        ("consent_request", make.MENTEE),
    ]
    sent = emails(service, NotificationKind.CONSENT_REQUEST)
    french, english = sent[make.MENTOR], sent[make.MENTEE]
    assert french.subject == (
        "Acceptez-vous de former un binôme avec Laurent Girard dans le programme "
        "« Mentorat inversé 2027 » ?"
    )
    assert "Nous vous proposons d'accompagner Laurent Girard en tant que mentor" in french.text
    assert "Ses compétences en IA générative couvrent vos besoins prioritaires." in french.text
    assert "avant le jeudi 21 janvier 2027 à 10 h 30 (Europe/Paris)" in french.text
    assert f"Accepter : {BASE}/pairs/{PAIR}/consent/accept" in french.text
    assert f"Décliner : {BASE}/pairs/{PAIR}/consent/decline" in french.text
    assert "Laurent Girard apprend seulement que ce binôme ne se fera pas" in french.text
    assert f'href="{BASE}/pairs/{PAIR}/consent/decline"' in french.html
    assert ">Accepter</a>" in french.html

    assert english.subject == (
        'Would you pair with Inès Martin in the "Mentorat inversé 2027" programme?'
    )
    assert "We propose Inès Martin as your mentor" in english.text
    assert "Their generative AI skills cover your top learning needs." in english.text
    assert "Please answer by Thursday 21 January 2027, 10:30 AM (Europe/Paris)" in english.text
    assert f"Accept: {BASE}/pairs/{PAIR}/consent/accept" in english.text
    assert f"Decline: {BASE}/pairs/{PAIR}/consent/decline" in english.text
    assert ">Decline</a>" in english.html
    assert pair_ready(make.TENANT, PAIR) not in service.released, "sessions' wait for PairFormed"


async def test_a_redelivered_request_asks_nobody_twice() -> None:
    service = await asked()
    await service.consume(consent_requested(), now=NOW + timedelta(minutes=5))
    assert len(service.deliveries.planned()) == 2


@pytest.mark.parametrize("declined_by", [ParticipantRole.MENTOR, ParticipantRole.MENTEE, None])
async def test_a_call_off_tells_both_the_same_thing_whoever_declined(
    declined_by: ParticipantRole | None,
) -> None:
    service = await asked()
    await service.consume(called_off(declined_by), now=NOW + timedelta(days=1))

    sent = emails(service, NotificationKind.PAIRING_CALLED_OFF)
    assert sorted(sent) == sorted([make.MENTOR, make.MENTEE])
    french, english = sent[make.MENTOR], sent[make.MENTEE]
    assert french.subject == "Le binôme proposé avec Laurent Girard ne se fera pas"
    assert (
        "Le binôme avec Laurent Girard proposé dans le programme « Mentorat inversé 2027 » "
        "ne se fera pas."
    ) in french.text
    assert english.subject == "The proposed pairing with Inès Martin will not go ahead"
    assert "will not go ahead" in english.text
    for message in sent.values():
        for revealing in ("declin", "décli", "refus", "answer", "répon"):
            assert revealing not in (message.subject + message.text + message.html).lower()


async def test_every_call_off_reads_the_same_to_each_member() -> None:
    texts = []
    for declined_by in (ParticipantRole.MENTOR, ParticipantRole.MENTEE, None):
        service = await asked()
        await service.consume(called_off(declined_by), now=NOW + timedelta(days=1))
        sent = emails(service, NotificationKind.PAIRING_CALLED_OFF)
        texts.append({who: (m.subject, m.text, m.html) for who, m in sent.items()})
    assert texts[0] == texts[1] == texts[2]


async def test_a_call_off_of_a_pair_never_asked_here_sends_nothing() -> None:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), now=NOW)
    await service.consume(called_off(ParticipantRole.MENTEE), now=NOW)
    assert service.deliveries.planned() == []


async def test_a_request_about_an_erased_member_sends_nothing() -> None:
    service = Service()
    await service.consume(
        make.define_programme(), *make.enrol_pair(), make.erase(make.MENTEE), now=NOW
    )
    await service.consume(consent_requested(), called_off(None), now=NOW)
    assert service.deliveries.planned() == []
