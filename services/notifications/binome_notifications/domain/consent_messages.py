"""What a pair put to its members for consent causes: an accept / decline request to each,
and, if it will not go ahead, the same neutral notice to both (never who declined)."""

from __future__ import annotations

from collections.abc import Iterator

from binome_notifications.domain.content import (
    ActionLink,
    ConsentRequestContent,
    NotificationContent,
    PairingCalledOffContent,
)
from binome_notifications.domain.model import Notification, NotificationKind
from binome_notifications.domain.recipients import PairSide, path, to_pair
from binome_notifications.domain.triggers import PairCalledOff, PairConsentRequested
from binome_shared.contracts import action_names

ACCEPT = "accept"
DECLINE = "decline"


def consent_path(pair_id: str, answer: str) -> str:
    """Where a member answers when links cannot be signed (no signing key: previews, some
    tests); the signed links of :func:`consent_actions` stand for it otherwise."""
    return path("pairs", pair_id, "consent", answer)


def consent_actions(trigger: PairConsentRequested) -> tuple[ActionLink, ...]:
    """The reader's signed "accept" and "decline" links, performed by pairing as the
    ``AcceptPair`` / ``DeclinePair`` naming the pair and the reader (docs/actions.md)."""
    target = (("programme_id", trigger.programme.programme_id), ("pair_id", trigger.pair_id))
    return tuple(
        ActionLink(name=name, owner=action_names.PAIRING, action=action, target=target)
        for name, action in (
            (ACCEPT, action_names.PAIR_ACCEPT),
            (DECLINE, action_names.PAIR_DECLINE),
        )
    )


def consent_requests(trigger: PairConsentRequested) -> Iterator[Notification]:
    """Each member is asked, in their language, to accept or decline by the deadline."""

    def request(side: PairSide) -> NotificationContent:
        return ConsentRequestContent(
            **side.names(trigger.programme),
            recipient_role=side.role,
            partner_role=side.partner_role,
            partner_job_title=side.partner.job_title,
            explanation=trigger.explanation,
            respond_by=trigger.respond_by,
            link_path=consent_path(trigger.pair_id, ACCEPT),
            decline_link_path=consent_path(trigger.pair_id, DECLINE),
            actions=consent_actions(trigger),
        )

    yield from to_pair(
        trigger,
        kind=NotificationKind.CONSENT_REQUEST,
        subject_id=trigger.pair_id,
        content_for=request,
    )


def pairing_called_off(trigger: PairCalledOff) -> Iterator[Notification]:
    """Both members get the same notice, whoever declined (or if nobody answered)."""

    def notice(side: PairSide) -> NotificationContent:
        return PairingCalledOffContent(
            **side.names(trigger.programme), link_path=path("pairs", trigger.pair_id)
        )

    yield from to_pair(
        trigger,
        kind=NotificationKind.PAIRING_CALLED_OFF,
        subject_id=trigger.pair_id,
        content_for=notice,
    )
