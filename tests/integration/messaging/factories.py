"""Messages for messaging-core tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.pairing_events import PairExplanation, PairFormed, PairSide
from binome_shared.contracts.values import LocalisedText
from binome_shared.messaging.cloudevents import ReceivedRecord, encode

NOW = datetime(2027, 1, 14, 9, 30, tzinfo=UTC)


def pair_formed(
    index: int,
    *,
    programme_id: str = "prog-1",
    mentor_id: str = "",
    mentee_id: str = "",
    pair_id: str = "",
) -> Envelope[PairFormed]:
    return Envelope.new(
        PairFormed(
            pair_id=pair_id or f"pair-{index}",
            round_id="round-1",
            mentor=PairSide(participant_id=mentor_id or f"Y{index}", business_unit="Digital"),
            mentee=PairSide(participant_id=mentee_id or f"X{index}", business_unit="Finance"),
            explanation=PairExplanation(
                score=0.75,
                breakdown={"needs_coverage": 0.8},
                summary=LocalisedText(
                    fr="Compétences IA pour vos besoins", en="AI skills for your needs"
                ),
            ),
        ),
        source="/binome/pairing",
        time=NOW,
        tenant_id="groupe-exemple",
        programme_id=programme_id,
    )


def programme_defined(programme_id: str = "prog-1") -> Envelope[Any]:
    """The HR command the services need before they follow a programme's pairs."""
    from binome_devstack.cohort_generator import benchmark_rules
    from tests.support.programmes import hr_command, programme_definition

    return hr_command(programme_definition(benchmark_rules()), programme_id=programme_id)


def enrolments(programme_id: str = "prog-1") -> tuple[list[Envelope[Any]], str, str]:
    """Enrolment commands for one mentor and one mentee, and their ids."""
    from binome_devstack.cohort_generator import generate_cohort
    from binome_shared.contracts.hr_commands import EnrolParticipant
    from tests.support.programmes import hr_command

    cohort = generate_cohort(mentees=1, mentors=1, seed=3)
    commands = [
        hr_command(EnrolParticipant(participant=profile), programme_id=programme_id)
        for profile in cohort.participants
    ]
    return commands, cohort.mentors[0].participant_id, cohort.mentees[0].participant_id


def received(envelope: Envelope[Any], *, topic: str, offset: int) -> ReceivedRecord:
    """``envelope`` as a consumer gets it from partition 0 of ``topic`` at ``offset``."""
    encoded = encode(envelope, topic=topic)
    return ReceivedRecord(
        topic=encoded.topic,
        partition=0,
        offset=offset,
        key=encoded.key,
        value=encoded.value,
        headers=encoded.headers,
    )
