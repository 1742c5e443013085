"""Pulse check-ins: at the programme's rhythm (``SessionPlan.pulse``) each member of a running
pair is asked "on track / we need help"; a "need help" alerts HR once per pair and round.

- ``PulseCheckRequested`` (event): a round is open, both members are asked;
- ``AnswerPulse`` (command): one member answers; an HR platform, or a click on the signed
  link of the pulse e-mail, sends exactly this command;
- ``PulseAnswered`` (event): the answer was recorded (again when a member changes it);
- ``PairNeedsHelp`` (event): the round's first "need help", for HR; never twice per round.

Answers are a closed list: no free text, so nothing personal travels beyond the side.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages.commands import PairCommand
from binome_shared.contracts.sessions_messages.events import PairEvent
from binome_shared.contracts.text import Identifier

MAX_PULSE_ROUNDS = 1000
"""More rounds than any programme can have (a round every 7 days for almost 20 years)."""

PulseNumber = Annotated[int, Field(ge=1, le=MAX_PULSE_ROUNDS)]
"""A pulse round's place in the pair's rhythm, from 1 (the first check-in)."""


class PulseAnswer(StrEnum):
    """What a member answers to a pulse check-in."""

    ON_TRACK = "on_track"
    """Tout va bien / on track."""
    NEED_HELP = "need_help"
    """Nous avons besoin d'aide / we need help."""


class AnswerPulse(PairCommand, type="binome.sessions.answer-pulse", version=(1, 0)):
    """One member of the pair answers a pulse check-in (the tenant is the envelope's).

    Refused when the person is not a member of the pair (``not_pair_member``), the pair is
    unknown in the tenant (``unknown_pair``), the round was never asked (``pulse_not_asked``)
    or is closed: a later round was asked, or the pair ended (``pulse_closed``). A member may
    change their answer while the round is open: the last answer counts; the same answer again
    changes nothing."""

    pulse_number: PulseNumber = Field(description="The round answered, as PulseCheckRequested.")
    participant_id: Identifier = Field(description="The member answering.")
    answer: PulseAnswer


class PulseCheckRequested(PairEvent, type="binome.sessions.pulse-check-requested", version=(1, 0)):
    """A pulse round is open: both members are asked whether the pair is on track.

    Open until the next round is asked or the pair ends. A round the service could not ask
    on its day (the service was down) is asked late; rounds missed entirely are skipped, so
    a pair is never asked twice at once."""

    pulse_number: PulseNumber
    mentor_id: Identifier
    mentee_id: Identifier


class PulseAnswered(PairEvent, type="binome.sessions.pulse-answered", version=(1, 0)):
    """A member answered a pulse round (or changed their answer: the last one counts)."""

    pulse_number: PulseNumber
    side: ParticipantRole
    answer: PulseAnswer


class PairNeedsHelp(PairEvent, type="binome.sessions.pair-needs-help", version=(1, 0)):
    """A member said "we need help" in a pulse round: HR is alerted, once per round."""

    pulse_number: PulseNumber
    side: ParticipantRole = Field(description="The side that asked for help first this round.")
