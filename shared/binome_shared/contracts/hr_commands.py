"""Commands HR platforms send: programmes, participants, matching rounds and HR decisions.

All go to ``binome.hr.commands`` keyed by programme, so a programme's commands are handled
in the order they were sent (enrolments before the matching request that follows them).
Commands are untrusted input: unknown fields are refused, and a refused command lands on
``binome.hr.commands.dlq`` with the reason.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from binome_shared.contracts.base import Command
from binome_shared.contracts.imposed_pairs import ImposePairs
from binome_shared.contracts.participants import ParticipantProfile, ReportingLine
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.contracts.text import Identifier, Name, Reason
from binome_shared.contracts.topics import HR_COMMANDS
from binome_shared.contracts.values import EmailAddress, Language


class ProgrammeContact(BaseModel):
    """Who at HR runs the programme: receives summaries, stall alerts and reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name = Field(examples=["Claire Dubois"])
    email: EmailAddress = Field(examples=["claire.dubois@example.com"])
    language: Language = Field(default=Language.FR, description="Language of HR messages.")


class DefineProgramme(
    Command, type="binome.hr.define-programme", version=(1, 4), topic=HR_COMMANDS
):
    """Create a programme, or replace its definition (rules, session plan, contact).

    1.1 added to the rules the skills taxonomy (``topics``, ``interests``) and the
    ``different_organisation`` constraint; 1.2 the optional ``participant_consent``; 1.3 the
    session plan's optional ``pulse`` (the rhythm of pulse check-ins); 1.4 the consent's
    optional ``from_mentee_job_grade`` (consent asked of part of the programme)."""

    name: Name = Field(examples=["Mentorat inversé 2027 — Groupe"])
    organisation_name: Name = Field(examples=["Groupe Exemple"])
    language: Language = Field(
        default=Language.FR, description="The programme's language, used when a person has none."
    )
    rules: ProgrammeRules = Field(description="Pairing rules: constraints, weights, capacity.")
    session_plan: SessionPlan = Field(description="The framed sequence of sessions (déroulé).")
    contact: ProgrammeContact = Field(description="The HR contact for the programme.")
    reminder_hours_before: int = Field(
        default=24, ge=1, le=24 * 14, description="How long before a session reminders go out."
    )


class EnrolParticipant(
    Command, type="binome.hr.enrol-participant", version=(1, 1), topic=HR_COMMANDS
):
    """Add a mentor or a mentee to a programme.

    Refused (``unknown_topic``) when the profile names a topic outside the programme's
    taxonomy. 1.1 added the profile's optional ``organisation``."""

    participant: ParticipantProfile


class UpdateParticipant(
    Command, type="binome.hr.update-participant", version=(1, 1), topic=HR_COMMANDS
):
    """Replace an enrolled participant's profile (the whole profile, not a patch).

    Refused like an enrolment when it names a topic outside the programme's taxonomy.
    1.1 added the profile's optional ``organisation``."""

    participant: ParticipantProfile


class RecordReportingLines(
    Command, type="binome.hr.record-reporting-lines", version=(1, 0), topic=HR_COMMANDS
):
    """Who reports to whom, including managers not enrolled, so that no pair is formed
    inside a management chain. Lines sent again replace the earlier ones for those people."""

    lines: list[ReportingLine] = Field(min_length=1, max_length=200_000)


class WithdrawParticipant(
    Command, type="binome.hr.withdraw-participant", version=(1, 0), topic=HR_COMMANDS
):
    """Take a participant out of the programme; their pair, if any, is dissolved."""

    participant_id: Identifier = Field(examples=["E10442"])
    reason: Reason = Field(default="", examples=["Départ de l'entreprise"])


class EraseParticipant(
    Command, type="binome.hr.erase-participant", version=(1, 0), topic=HR_COMMANDS
):
    """GDPR erasure: every service deletes the person's personal data (names, e-mails, ages)."""

    participant_id: Identifier = Field(examples=["E10442"])


class OptOut(BaseModel):
    """One opt-out: a kind of message, a channel, or both; null means "all"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str | None = Field(
        default=None,
        pattern=r"^[a-z_]+$",
        max_length=64,
        description="A notification kind (see docs/notifications.md), or null for every kind.",
        examples=["session_reminder"],
    )
    channel: str | None = Field(
        default=None,
        pattern=r"^(email|webhook)$",
        max_length=7,
        description="`email` or `webhook`, or null for every channel.",
        examples=["email"],
    )


class SetNotificationPreferences(
    Command, type="binome.hr.set-notification-preferences", version=(1, 0), topic=HR_COMMANDS
):
    """A participant's opt-outs (the whole list: it replaces the previous one)."""

    participant_id: Identifier = Field(examples=["E10442"])
    opt_outs: list[OptOut] = Field(default_factory=list, max_length=50)


class MatchingScope(StrEnum):
    """What a round re-solves."""

    FULL = "full"
    """Everyone not in an approved or formed pair, proposals included."""
    UNMATCHED = "unmatched"
    """Only people without a pair or a pending proposal; everything else stays."""


class RequestMatching(
    Command, type="binome.hr.request-matching", version=(1, 1), topic=HR_COMMANDS
):
    """Run a matching round for the programme.

    1.1 added ``rules``: a preview may try other rules than the programme's."""

    round_id: Identifier = Field(examples=["2027-round-1"])
    scope: MatchingScope = Field(default=MatchingScope.UNMATCHED)
    preview: bool = Field(
        default=False,
        description=(
            "Compute and report the round (MatchingPreviewed with every pair, then "
            "MatchingCompleted) without forming pairs."
        ),
    )
    rules: ProgrammeRules | None = Field(
        default=None,
        description=(
            "Preview only: solve with these rules instead of the programme's, to compare "
            "rule sets before committing (refused without preview: define the programme)."
        ),
    )


class ApprovePair(Command, type="binome.hr.approve-pair", version=(1, 0), topic=HR_COMMANDS):
    """HR accepts a proposed pair; it becomes a formed pair."""

    pair_id: Identifier = Field(examples=["p-4f0c2a"])


class RejectPair(Command, type="binome.hr.reject-pair", version=(1, 0), topic=HR_COMMANDS):
    """HR refuses a proposed pair; these two people are never proposed together again."""

    pair_id: Identifier = Field(examples=["p-4f0c2a"])
    reason: Reason = ""


class DissolvePair(Command, type="binome.hr.dissolve-pair", version=(1, 0), topic=HR_COMMANDS):
    """End a formed pair (a bad fit, a conflict); both people may be paired again."""

    pair_id: Identifier = Field(examples=["p-4f0c2a"])
    reason: Reason = ""


# --- Participant consent (issue #17): a person answers a pair proposed to them. --------------


class AcceptPair(Command, type="binome.hr.accept-pair", version=(1, 0), topic=HR_COMMANDS):
    """A member of a pair awaiting consent accepts it; once both have, it is formed.

    Sent by an HR platform, or by the signed link of the e-mail asking the person: the same
    command either way. Accepting twice changes nothing; an answer after the deadline is
    refused (``consent_deadline_passed``), as is one from someone outside the pair
    (``not_pair_member``)."""

    pair_id: Identifier = Field(examples=["pair-4f0c2a9e1b7d3c58"])
    participant_id: Identifier = Field(
        description="Who answers: the pair's mentor or mentee.", examples=["E10442"]
    )


class DeclinePair(Command, type="binome.hr.decline-pair", version=(1, 0), topic=HR_COMMANDS):
    """A member of a pair awaiting consent declines it: the pair is called off, both are
    re-paired, never with each other again. The other person is only told that the pairing
    will not go ahead. No free-text reason: it would be personal data on a topic that an
    erasure cannot take back."""

    pair_id: Identifier = Field(examples=["pair-4f0c2a9e1b7d3c58"])
    participant_id: Identifier = Field(
        description="Who answers: the pair's mentor or mentee.", examples=["E10442"]
    )


HR_COMMAND_TYPES: tuple[type[Command], ...] = (
    DefineProgramme,
    EnrolParticipant,
    UpdateParticipant,
    RecordReportingLines,
    WithdrawParticipant,
    EraseParticipant,
    SetNotificationPreferences,
    RequestMatching,
    ApprovePair,
    RejectPair,
    DissolvePair,
    ImposePairs,
    AcceptPair,
    DeclinePair,
)
