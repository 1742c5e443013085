"""What the notifications service's own links do: unsubscribe from one kind of e-mail
(RFC 8058 one-click, or the page behind the link) and the preferences page. Both become
SetNotificationPreferences, the command HR platforms send, handled by the same handler: the
whole list of the person's opt-outs, read now and changed as asked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import asyncpg

from binome_notifications.adapters.directory import PostgresDirectory
from binome_notifications.domain.model import HR_KINDS, Channel, NotificationKind
from binome_notifications.domain.policy import OptOut, Preferences
from binome_shared.contracts import action_names
from binome_shared.contracts.base import Message
from binome_shared.contracts.hr_commands import OptOut as OptOutItem
from binome_shared.contracts.hr_commands import SetNotificationPreferences
from binome_shared.runtime.action_kinds import (
    ActionKind,
    ActionNotPossibleError,
    CheckboxesField,
    Choice,
    Words,
    ticked,
)
from binome_shared.runtime.action_links import ActionClaims

EVERYTHING: Final = "all"
"""The check box for "no e-mail at all" (an opt-out of every kind)."""

KIND_NAMES: Final[Mapping[NotificationKind, Words]] = {
    NotificationKind.INTRODUCTION: Words("Présentation de votre binôme", "Meeting your partner"),
    NotificationKind.SESSION_INVITATION: Words(
        "Confirmations de séance (avec l'invitation d'agenda)",
        "Session confirmations (with the calendar invite)",
    ),
    NotificationKind.SESSION_REMINDER: Words("Rappels de séance", "Session reminders"),
    NotificationKind.SESSION_CANCELLATION: Words("Annulations de séance", "Session cancellations"),
    NotificationKind.FEEDBACK_REQUEST: Words("Demandes d'avis", "Feedback requests"),
    NotificationKind.STALL_NUDGE: Words("Relances du binôme", "Nudges to your pair"),
    NotificationKind.PAIR_THANKS: Words("Remerciements de fin", "End-of-programme thanks"),
}
"""The kinds a participant receives, as the preferences page names them."""

PERSONAL_KINDS: Final = tuple(kind for kind in NotificationKind if kind not in HR_KINDS)

OPT_OUTS = CheckboxesField(
    name="opt_out",
    legend=Words("Ne plus m'envoyer :", "Do not send me:"),
    choices=(
        *(
            Choice(kind.value, KIND_NAMES.get(kind, Words(kind.value, kind.value)))
            for kind in PERSONAL_KINDS
        ),
        Choice(EVERYTHING, Words("Aucun e-mail du programme", "No e-mail from the programme")),
    ),
)
_UNKNOWN_KIND = Words(
    "Ce type de message n'existe plus : rien n'a été changé.",
    "This kind of message no longer exists: nothing was changed.",
)


def _kind(claims: ActionClaims) -> NotificationKind:
    try:
        return NotificationKind(claims.target_text("kind"))
    except ValueError as error:
        raise ActionNotPossibleError(_UNKNOWN_KIND) from error


def _describe_kind(claims: ActionClaims) -> Words:
    try:
        kind = _kind(claims)
    except ActionNotPossibleError as unknown:
        return unknown.reason
    return KIND_NAMES.get(kind, Words(kind.value, kind.value))


_KNOWN = """
SELECT EXISTS (SELECT 1 FROM people WHERE tenant_id = $1 AND participant_id = $2)
    OR EXISTS (SELECT 1 FROM notification_preferences WHERE tenant_id = $1 AND participant_id = $2)
"""


async def _unknown(claims: ActionClaims, conn: asyncpg.Connection) -> bool:
    """Whether the tenant holds nothing on the link's person: no address, no preferences.

    A link is only signed for someone this service e-mailed, so an unknown person is one
    whose data is gone (erased — the handler would ignore it anyway — or removed since) or
    a link made with a leaked key. Their one-click unsubscribe still succeeds, as RFC 8058
    wants (a 2xx, or the mail client shows an error), and is true: no e-mail goes to an
    address the service does not hold. But it records nothing: a new row would be personal
    data about someone the tenant no longer has, recreated after an erasure, and a way to
    fill the table. Should they be enrolled again, their new e-mails carry a new link."""
    return not await conn.fetchval(_KNOWN, claims.tenant_id, claims.subject)


async def _current(claims: ActionClaims, conn: asyncpg.Connection) -> Preferences:
    return await PostgresDirectory(conn).preferences_of(claims.tenant_id, claims.subject)


def _items(opt_outs: Iterable[OptOut]) -> list[OptOutItem]:
    items = {
        OptOutItem(
            kind=None if opt_out.kind is None else opt_out.kind.value,
            channel=None if opt_out.channel is None else opt_out.channel.value,
        )
        for opt_out in opt_outs
    }
    return sorted(items, key=lambda item: (item.kind or "", item.channel or ""))


async def _unsubscribe(
    claims: ActionClaims, form: Mapping[str, str], conn: asyncpg.Connection
) -> Message:
    del form  # RFC 8058's body (List-Unsubscribe=One-Click) or the page's: the link says all
    current = await _current(claims, conn)
    wanted = current.opt_outs | {OptOut(kind=_kind(claims), channel=Channel.EMAIL)}
    return SetNotificationPreferences(participant_id=claims.subject, opt_outs=_items(wanted))


async def _ticked_now(claims: ActionClaims, conn: asyncpg.Connection) -> Mapping[str, str]:
    """The boxes ticked now: the e-mail opt-outs the person has."""
    values = [
        EVERYTHING if opt_out.kind is None else opt_out.kind.value
        for opt_out in (await _current(claims, conn)).opt_outs
        if opt_out.channel in (None, Channel.EMAIL)
    ]
    return {OPT_OUTS.name: ",".join(values)}


async def _set_preferences(
    claims: ActionClaims, form: Mapping[str, str], conn: asyncpg.Connection
) -> Message:
    """The ticked kinds become e-mail opt-outs; opt-outs of other channels are kept."""
    current = await _current(claims, conn)
    kept = {o for o in current.opt_outs if o.channel not in (None, Channel.EMAIL)}
    chosen = {
        OptOut(kind=None if value == EVERYTHING else NotificationKind(value), channel=Channel.EMAIL)
        for value in ticked(form, OPT_OUTS)
    }
    return SetNotificationPreferences(participant_id=claims.subject, opt_outs=_items(kept | chosen))


def notification_actions() -> Sequence[ActionKind]:
    return (
        ActionKind(
            name=action_names.UNSUBSCRIBE,
            title=Words("Se désabonner", "Unsubscribe"),
            question=Words(
                "Ne plus recevoir ce type d'e-mail du programme ?",
                "Stop receiving this kind of e-mail from the programme?",
            ),
            button=Words("Me désabonner", "Unsubscribe me"),
            build=_unsubscribe,
            describe=_describe_kind,
            already_done=_unknown,
        ),
        ActionKind(
            name=action_names.PREFERENCES,
            title=Words("Vos préférences d'e-mail", "Your e-mail preferences"),
            question=Words(
                "Cochez les e-mails que vous ne voulez plus recevoir.",
                "Tick the e-mails you no longer want to receive.",
            ),
            button=Words("Enregistrer", "Save"),
            build=_set_preferences,
            fields=lambda _claims: (OPT_OUTS,),
            prefill=_ticked_now,
            reusable=True,
        ),
    )
