"""Pulse check-ins: at the programme's rhythm each member of a running pair is asked "on track /
we need help"; the round's first "need help" alerts HR, once.

Round *n* is due ``first_after_days + (n - 1) * every_days`` after the pair's start. A round
opens only while the pair is active and before its programme closes, and stays open until the
next one opens or the pair ends. A member may change their answer while the round is open:
the last answer counts, the same answer again changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from binome_sessions.domain.events import PairNeedsHelp, PulseAnswered, PulseRequested
from binome_sessions.domain.parts import PulseReply, PulseRound, as_utc
from binome_sessions.domain.rejections import CommandRejectedError, RejectionCode
from binome_sessions.domain.track_state import TrackState
from binome_sessions.domain.values import PairStatus
from binome_shared.contracts.sessions_messages import ParticipantRole, PulseAnswer


class PulseCheckIns(TrackState):
    """The pair's pulse rounds: when they are due, and the members' answers."""

    def pulse_round_due_at(self, number: int) -> datetime:
        """When round ``number`` (from 1) of the programme's rhythm is due for this pair."""
        rhythm = self.plan.pulse
        days = rhythm.first_after_days + (number - 1) * rhythm.every_days
        return self.started_at() + timedelta(days=days)

    def next_pulse_due_at(self) -> datetime | None:
        """When the next round is due; None when no round will be asked any more."""
        if not self.plan.pulse.enabled or self.status is not PairStatus.ACTIVE:
            return None
        due_at = self.pulse_round_due_at(self._last_pulse_number() + 1)
        return due_at if due_at < self.programme_closes_at() else None

    def ask_pulse_if_due(self, *, now: datetime) -> bool:
        """Open the round due by ``now`` (closing the open one); False when none is due.

        After a pause of the service only the latest due round opens, with its own number:
        both members are never asked twice at once.
        """
        now = as_utc(now, "now")
        due_at = self.next_pulse_due_at()
        if due_at is None or due_at > now:
            return False
        number = self._last_pulse_number() + 1
        while self._round_opens_by(number + 1, now):
            number += 1
        open_round = self._open_round()
        if open_round is not None:
            open_round.closed_at = now
        self.pulses.append(PulseRound(number=number, asked_at=now))
        self._record(
            PulseRequested(
                **self._event_base(now),
                pulse_number=number,
                mentor_id=self.mentor_id,
                mentee_id=self.mentee_id,
            )
        )
        return True

    def answer_pulse(
        self, *, participant_id: str, pulse_number: int, answer: PulseAnswer, now: datetime
    ) -> None:
        """A member answers an open round; a first "need help" in the round alerts HR."""
        now = as_utc(now, "now")
        side = self._side_of(participant_id)
        pulse = self._asked_round(pulse_number)
        if pulse.closed_at is not None or self.status is not PairStatus.ACTIVE:
            raise CommandRejectedError(code=RejectionCode.PULSE_CLOSED, subject=str(pulse_number))
        previous = pulse.reply_of(side)
        if previous is not None and previous.answer is answer:
            return  # the same answer again (a second click): nothing changes
        pulse.replies = [reply for reply in pulse.replies if reply.side is not side]
        pulse.replies.append(PulseReply(side=side, answer=answer, answered_at=now))
        self._record(
            PulseAnswered(
                **self._event_base(now), pulse_number=pulse_number, side=side, answer=answer
            )
        )
        if answer is PulseAnswer.NEED_HELP and not pulse.help_alerted:
            pulse.help_alerted = True
            self._record(
                PairNeedsHelp(**self._event_base(now), pulse_number=pulse_number, side=side)
            )

    def _last_pulse_number(self) -> int:
        return self.pulses[-1].number if self.pulses else 0

    def _round_opens_by(self, number: int, now: datetime) -> bool:
        due_at = self.pulse_round_due_at(number)
        return due_at <= now and due_at < self.programme_closes_at()

    def _open_round(self) -> PulseRound | None:
        if self.pulses and self.pulses[-1].closed_at is None:
            return self.pulses[-1]
        return None

    def _asked_round(self, number: int) -> PulseRound:
        for pulse in self.pulses:
            if pulse.number == number:
                return pulse
        raise CommandRejectedError(code=RejectionCode.PULSE_NOT_ASKED, subject=str(number))

    def _side_of(self, participant_id: str) -> ParticipantRole:
        if participant_id == self.mentor_id:
            return ParticipantRole.MENTOR
        if participant_id == self.mentee_id:
            return ParticipantRole.MENTEE
        # The subject stays empty: a dead letter need not repeat who tried.
        raise CommandRejectedError(code=RejectionCode.NOT_PAIR_MEMBER)
