"""Participant consent to a proposed pair: who may answer, when, and what each answer does.

Pure: the pair's status, its members, the deadline and the answers so far go in with ``now``;
an outcome (or a refusal with a stable code and a French and English reason) comes out. The
service stores the result and publishes what it means (see :mod:`binome_pairing.consent`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from binome_pairing.domain.lifecycle import PairStatus, role_in_pair
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.programme import ProgrammeRules


class Answer(StrEnum):
    """What a member said about the pair (stored as its value)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


class Outcome(StrEnum):
    """What an answer, or the deadline, did to the pair."""

    UNCHANGED = "unchanged"
    """The same answer again (a second click): nothing to record or publish."""
    ACCEPTED = "accepted"
    """One side accepted; the other has not yet."""
    FORMED = "formed"
    """Both sides accepted: the pair is formed."""
    CALLED_OFF = "called_off"
    """A side declined, or the deadline passed: both are free."""


class ConsentRefusedError(Exception):
    """An answer the pair cannot take, with a stable code and a reason in both languages."""

    def __init__(self, code: str, *, en: str, fr: str) -> None:
        super().__init__(f"{en} / {fr}")
        self.code = code


@dataclass(frozen=True, slots=True, kw_only=True)
class PairConsent:
    """A pair put to its members: where it stands and what each of them said."""

    pair_id: str
    mentor_id: str
    mentee_id: str
    status: PairStatus
    respond_by: datetime
    mentor_answer: Answer | None = None
    mentee_answer: Answer | None = None

    @property
    def settled(self) -> bool:
        """Whether the pair no longer awaits answers."""
        return self.status is not PairStatus.AWAITING_CONSENT

    def side_of(self, participant_id: str) -> ParticipantRole:
        """The side ``participant_id`` holds, or a refusal if they are not in the pair."""
        if participant_id not in (self.mentor_id, self.mentee_id):
            raise ConsentRefusedError(
                "not_pair_member",
                en=f"{participant_id} is not a member of pair {self.pair_id}",
                fr=f"{participant_id} ne fait pas partie du binôme {self.pair_id}",
            )
        return role_in_pair(participant_id, mentor_id=self.mentor_id)

    def answer_of(self, side: ParticipantRole) -> Answer | None:
        """What ``side`` has said so far."""
        return self.mentor_answer if side is ParticipantRole.MENTOR else self.mentee_answer

    def answered(self, participant_id: str, answer: Answer, *, now: datetime) -> Decision:
        """The pair after ``participant_id`` gave ``answer`` at ``now``.

        The same answer again changes nothing (a second click, a redelivered command); a
        member may still decline after accepting while the other has not answered.
        """
        side = self.side_of(participant_id)
        if self.answer_of(side) is answer and self.status in (
            PairStatus.AWAITING_CONSENT,
            PairStatus.FORMED,
            PairStatus.CALLED_OFF,
        ):
            return Decision(consent=self, outcome=Outcome.UNCHANGED, side=side)
        if self.status is not PairStatus.AWAITING_CONSENT:
            raise self._closed(now)
        if now >= self.respond_by:
            raise _deadline_passed(self.pair_id, self.respond_by)
        answered = self._with_answer(side, answer)
        if answer is Answer.DECLINED:
            called_off = replace(answered, status=PairStatus.CALLED_OFF)
            return Decision(consent=called_off, outcome=Outcome.CALLED_OFF, side=side)
        other = answered.answer_of(_other(side))
        if other is Answer.ACCEPTED:
            formed = replace(answered, status=PairStatus.FORMED)
            return Decision(consent=formed, outcome=Outcome.FORMED, side=side)
        return Decision(consent=answered, outcome=Outcome.ACCEPTED, side=side)

    def expired(self, *, now: datetime) -> Decision | None:
        """The pair called off because the deadline passed without both acceptances; None
        while it still may be answered (or no longer awaits answers)."""
        if self.status is not PairStatus.AWAITING_CONSENT or now < self.respond_by:
            return None
        called_off = replace(self, status=PairStatus.CALLED_OFF)
        return Decision(consent=called_off, outcome=Outcome.CALLED_OFF, side=None)

    def _with_answer(self, side: ParticipantRole, answer: Answer) -> PairConsent:
        if side is ParticipantRole.MENTOR:
            return replace(self, mentor_answer=answer)
        return replace(self, mentee_answer=answer)

    def _closed(self, now: datetime) -> ConsentRefusedError:
        """Why a pair that no longer awaits answers refuses this one."""
        if self.status is PairStatus.CALLED_OFF and now >= self.respond_by:
            return _deadline_passed(self.pair_id, self.respond_by)
        return ConsentRefusedError(
            "pair_not_awaiting_consent",
            en=f"pair {self.pair_id} is {self.status}: it is not awaiting answers",
            fr=f"le binôme {self.pair_id} n'attend pas (ou plus) de réponse",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The pair after an answer or the deadline, what it did, and who answered (None: the
    deadline)."""

    consent: PairConsent
    outcome: Outcome
    side: ParticipantRole | None


def _other(side: ParticipantRole) -> ParticipantRole:
    return ParticipantRole.MENTEE if side is ParticipantRole.MENTOR else ParticipantRole.MENTOR


def _deadline_passed(pair_id: str, respond_by: datetime) -> ConsentRefusedError:
    deadline = respond_by.isoformat()
    return ConsentRefusedError(
        "consent_deadline_passed",
        en=f"the answers to pair {pair_id} were due by {deadline}: too late",
        fr=f"les réponses pour le binôme {pair_id} étaient attendues avant le {deadline}",
    )


def consent_asked(rules: ProgrammeRules, *, mentee_job_grade: int | None) -> bool:
    """Whether a pair whose mentee has ``mentee_job_grade`` is put to its members: never
    when the programme asks nobody, else when its scope covers the mentee (a grade no
    longer known, the profile gone, is asked rather than formed unasked)."""
    consent = rules.participant_consent
    if consent is None:
        return False
    return mentee_job_grade is None or consent.asks(mentee_job_grade)
