"""A valid command of every type the contracts define (HR commands and session commands),
about the edge stage's programme, people and formed pairs, for hostile strings to go into.

Each base is something its readers can act on (a pair sessions follows, a person pairing
knows…), so that a hostile value the contracts let through meets the services' real code
paths; a business refusal (``unknown_pair``, ``session_already_scheduled``…) is a fair
outcome for it, a crash is not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from binome_shared.contracts.base import Message
from binome_shared.contracts.hr_commands import (
    HR_COMMAND_TYPES,
    AcceptPair,
    ApprovePair,
    DeclinePair,
    DissolvePair,
    EraseParticipant,
    RecordReportingLines,
    RejectPair,
    UpdateParticipant,
    WithdrawParticipant,
)
from binome_shared.contracts.imposed_pairs import ImposedPair, ImposePairs, PairOverride
from binome_shared.contracts.participants import ReportingLine
from binome_shared.contracts.sessions_messages import (
    SESSION_COMMAND_TYPES,
    AnswerPulse,
    CancelSession,
    GiveFeedback,
    ParticipantRole,
    PulseAnswer,
    RecordMentorTraining,
    ReportSessionHeld,
    ReportSessionMissed,
    RescheduleSession,
    ScheduleSession,
    SkipSession,
    UpdateObjectiveProgress,
)
from tests.support.edges.cases import Case, Verdict, case_of
from tests.support.edges.hostile import BASES, preferences, programme
from tests.support.edges.stage import FORMED_AT, PAIRS, EdgeStage

INTRODUCED_PAIRS = PAIRS[:4]
"""Pairs whose members are enrolled at the start: e-mails about them are really sent."""

Base = Callable[[EdgeStage], Case]


def mentor_of(pair: str) -> str:
    return f"M-{pair}"


def mentee_of(pair: str) -> str:
    return f"E-{pair}"


def _either(stage: EdgeStage, stem: str, data: Message) -> Case:
    return case_of(
        stage.labels.next(stem), stage.command(data), verdict=Verdict.EITHER, prefix=stage.prefix
    )


def _pair(stage: EdgeStage) -> str:
    """The introduced pairs in turn: a burst spreads over them."""
    return INTRODUCED_PAIRS[stage.labels.count % len(INTRODUCED_PAIRS)]


def _slot(stage: EdgeStage) -> object:
    return FORMED_AT + timedelta(days=2 + stage.labels.count % 20, hours=1)


def _update(stage: EdgeStage) -> Case:
    pair = _pair(stage)
    profile = stage.cohort.participants[0].model_copy(update={"participant_id": mentee_of(pair)})
    return _either(stage, "h-update", UpdateParticipant(participant=profile))


def _hr_bases() -> dict[str, Base]:
    return {
        "DefineProgramme": programme,
        "EnrolParticipant": BASES["EnrolParticipant"],
        "UpdateParticipant": _update,
        "RecordReportingLines": lambda s: _either(
            s,
            "h-lines",
            RecordReportingLines(lines=[ReportingLine(employee_id="T-1", manager_id="T-2")]),
        ),
        "WithdrawParticipant": lambda s: _either(
            s,
            "h-withdraw",
            WithdrawParticipant(participant_id=s.labels.next("gone"), reason="Départ"),
        ),
        "EraseParticipant": lambda s: _either(
            s, "h-erase", EraseParticipant(participant_id=s.labels.next("never-seen"))
        ),
        "SetNotificationPreferences": preferences,
        "RequestMatching": BASES["RequestMatching"],
        "ApprovePair": lambda s: _either(s, "h-approve", ApprovePair(pair_id=_pair(s))),
        "RejectPair": lambda s: _either(
            s, "h-reject", RejectPair(pair_id=_pair(s), reason="Même équipe")
        ),
        "DissolvePair": lambda s: _either(
            s, "h-dissolve", DissolvePair(pair_id=_pair(s), reason="Mutation")
        ),
        # A preview, so that an accepted imposition leaves the stage's pairs as they are.
        "ImposePairs": lambda s: _either(s, "h-impose", _imposition(_pair(s))),
        # The stage's pairs await no consent: refused as pair_not_awaiting_consent at best.
        "AcceptPair": lambda s: _either(
            s, "h-accept", AcceptPair(pair_id=(pair := _pair(s)), participant_id=mentee_of(pair))
        ),
        "DeclinePair": lambda s: _either(
            s, "h-decline", DeclinePair(pair_id=(pair := _pair(s)), participant_id=mentor_of(pair))
        ),
    }


def _imposition(pair: str) -> ImposePairs:
    override = PairOverride(reason="Choix du comité exécutif")
    imposed = ImposedPair(mentor_id=mentor_of(pair), mentee_id=mentee_of(pair), override=override)
    return ImposePairs(round_id="imposition-hostile", pairs=[imposed], preview=True)


def _session_bases() -> dict[str, Base]:
    def held(s: EdgeStage) -> Case:
        return _either(
            s,
            "h-held",
            ReportSessionHeld(
                pair_id=_pair(s),
                session_number=1,
                held_at=FORMED_AT,
                duration_minutes=60,
                notes="Notes",
            ),
        )

    def pulse_answer(s: EdgeStage) -> Case:
        # No round is asked during the burst: a refusal (pulse_not_asked) is a fair outcome.
        pair = _pair(s)
        answer = AnswerPulse(
            pair_id=pair,
            pulse_number=1,
            participant_id=mentee_of(pair),
            answer=PulseAnswer.NEED_HELP,
        )
        return _either(s, "h-pulse", answer)

    return {
        "ScheduleSession": lambda s: _either(
            s,
            "h-schedule",
            ScheduleSession(
                pair_id=_pair(s), session_number=1, starts_at=_slot(s), location="Teams"
            ),
        ),
        "RescheduleSession": lambda s: _either(
            s,
            "h-reschedule",
            RescheduleSession(
                pair_id=_pair(s), session_number=1, starts_at=_slot(s), location="Visio"
            ),
        ),
        "CancelSession": lambda s: _either(
            s, "h-cancel", CancelSession(pair_id=_pair(s), session_number=1, reason="Empêchement")
        ),
        "SkipSession": lambda s: _either(
            s, "h-skip", SkipSession(pair_id=_pair(s), session_number=3)
        ),
        "ReportSessionHeld": held,
        "ReportSessionMissed": lambda s: _either(
            s,
            "h-missed",
            ReportSessionMissed(
                pair_id=_pair(s), session_number=1, missed_by=ParticipantRole.MENTOR
            ),
        ),
        "SetObjective": lambda s: s.objective("h-objective"),
        "UpdateObjectiveProgress": lambda s: _either(
            s,
            "h-progress",
            UpdateObjectiveProgress(
                pair_id=_pair(s), objective_id="objective-x", progress_percent=40
            ),
        ),
        "GiveFeedback": lambda s: _either(
            s,
            "h-feedback",
            GiveFeedback(
                pair_id=_pair(s),
                side=ParticipantRole.MENTEE,
                session_number=1,
                rating=4,
                comment="Bien",
            ),
        ),
        "RecordMentorTraining": lambda s: _either(
            s, "h-training", RecordMentorTraining(pair_id=_pair(s))
        ),
        "AnswerPulse": pulse_answer,
    }


EVERY_COMMAND: dict[str, Base] = {**_hr_bases(), **_session_bases()}
"""HR commands first (a burst updates people before sessions e-mail them)."""

COMMAND_TYPES = {command.__name__ for command in (*HR_COMMAND_TYPES, *SESSION_COMMAND_TYPES)}
