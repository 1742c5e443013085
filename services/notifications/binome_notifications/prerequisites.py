"""What a message waits for when it arrives before what it is about: it is parked under one of
these names and replayed when the message that makes it known releases the name."""

from __future__ import annotations

from binome_notifications.domain.directory import PairPeople, ProgrammeRecord
from binome_notifications.domain.model import Person
from binome_shared.messaging.errors import AwaitingPrerequisiteError


def programme_ready(programme_id: str) -> str:
    """What a message waits for until DefineProgramme is seen."""
    return f"programme:{programme_id}"


def participant_ready(programme_id: str, participant_id: str) -> str:
    """What a message waits for until the participant is enrolled."""
    return f"participant:{programme_id}:{participant_id}"


def pair_ready(pair_id: str) -> str:
    """What a session event waits for until PairFormed is seen."""
    return f"pair:{pair_id}"


def session_ready(session_id: str) -> str:
    """What a cancellation waits for until the session was scheduled."""
    return f"session:{session_id}"


def known_programme(record: ProgrammeRecord | None, programme_id: str) -> ProgrammeRecord:
    """The programme, or park the message until DefineProgramme."""
    if record is None:
        raise AwaitingPrerequisiteError(
            programme_ready(programme_id), "programme not defined yet (DefineProgramme)"
        )
    return record


def known_pair(people: PairPeople | None, pair_id: str) -> PairPeople:
    """The pair, or park the message until PairFormed."""
    if people is None:
        raise AwaitingPrerequisiteError(pair_ready(pair_id), "pair not formed yet (PairFormed)")
    return people


def known_person(person: Person | None, programme_id: str, participant_id: str) -> Person:
    """A participant, or park the message until they are enrolled."""
    if person is None:
        raise AwaitingPrerequisiteError(
            participant_ready(programme_id, participant_id),
            "participant not enrolled (EnrolParticipant) or erased",
        )
    return person
