"""What a pulse check-in says: the question to each member of the pair, with one link per
answer, and the alert to HR when a member asks for help (once per pair and round: sessions
publishes PairNeedsHelp once, and the delivery keys make a redelivered event send nothing)."""

from __future__ import annotations

from collections.abc import Iterator

from binome_notifications.domain.content import (
    ActionLink,
    HrHelpAlertContent,
    NotificationContent,
    PulseCheckContent,
)
from binome_notifications.domain.model import Notification, NotificationKind
from binome_notifications.domain.recipients import PairSide, hr_pair_alert, path, to_hr, to_pair
from binome_notifications.domain.triggers import PairNeedsHelp, PulseCheckRequested
from binome_shared.contracts import action_names
from binome_shared.contracts.sessions_messages import PulseAnswer


def pulse_answer_path(pair_id: str, pulse_number: int, answer: PulseAnswer) -> str:
    """The link path that answers round ``pulse_number`` of the pair with ``answer``, for the
    reader of the e-mail: it stands for ``AnswerPulse(pair_id, pulse_number, participant_id =
    the reader, answer)``."""
    return path("pairs", pair_id, "pulses", str(pulse_number), answer.value)


def pulse_actions(trigger: PulseCheckRequested) -> tuple[ActionLink, ...]:
    """The reader's signed "on track" / "need help" links for this round, performed by
    sessions as the ``AnswerPulse`` naming the pair, the round and the reader. Their token
    ids differ from round to round (the message's subject is the round)."""
    target = (
        ("programme_id", trigger.programme.programme_id),
        ("pair_id", trigger.pair_id),
        ("pulse_number", trigger.pulse_number),
    )
    return tuple(
        ActionLink(name=answer.value, owner=action_names.SESSIONS, action=action, target=target)
        for answer, action in (
            (PulseAnswer.ON_TRACK, action_names.PULSE_ON_TRACK),
            (PulseAnswer.NEED_HELP, action_names.PULSE_NEED_HELP),
        )
    )


def _round_id(pair_id: str, pulse_number: int) -> str:
    return f"{pair_id}#pulse#{pulse_number}"


def pulse_checks(trigger: PulseCheckRequested) -> Iterator[Notification]:
    pair_id, number = trigger.pair_id, trigger.pulse_number

    def question(side: PairSide) -> NotificationContent:
        return PulseCheckContent(
            **side.names(trigger.programme),
            pulse_number=number,
            link_path=path("pairs", pair_id),
            on_track_path=pulse_answer_path(pair_id, number, PulseAnswer.ON_TRACK),
            need_help_path=pulse_answer_path(pair_id, number, PulseAnswer.NEED_HELP),
            actions=pulse_actions(trigger),
        )

    yield from to_pair(
        trigger,
        kind=NotificationKind.PULSE_CHECK,
        subject_id=_round_id(pair_id, number),
        content_for=question,
    )


def help_alerts(trigger: PairNeedsHelp) -> Iterator[Notification]:
    def alert(recipient_name: str) -> NotificationContent:
        return HrHelpAlertContent(
            **hr_pair_alert(trigger, recipient_name),
            side=trigger.side,
            pulse_number=trigger.pulse_number,
        )

    yield from to_hr(
        trigger,
        kind=NotificationKind.HR_HELP_ALERT,
        subject_id=_round_id(trigger.pair_id, trigger.pulse_number),
        content_for=alert,
    )
