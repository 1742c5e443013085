"""What a message waits for when it arrives before what it is about: it is parked under one of
these names and replayed when the message that makes it known releases the name.

Every name carries the tenant (:func:`prerequisite`): ids are namespaced by tenant, so tenant
A's PairFormed must not release tenant B's messages parked for a pair of the same id.
"""

from __future__ import annotations

from binome_notifications.domain.directory import PairPeople, ProgrammeRecord
from binome_notifications.domain.model import Person
from binome_shared.messaging.errors import AwaitingPrerequisiteError
from binome_shared.messaging.parking import prerequisite


def programme_ready(tenant_id: str, programme_id: str) -> str:
    """What a message waits for until DefineProgramme is seen."""
    return prerequisite("programme", tenant_id, programme_id)


def participant_ready(tenant_id: str, programme_id: str, participant_id: str) -> str:
    """What a message waits for until the participant is enrolled."""
    return prerequisite("participant", tenant_id, programme_id, participant_id)


def pair_ready(tenant_id: str, pair_id: str) -> str:
    """What a session event waits for until PairFormed is seen."""
    return prerequisite("pair", tenant_id, pair_id)


def session_ready(tenant_id: str, session_id: str) -> str:
    """What a cancellation waits for until the session was scheduled."""
    return prerequisite("session", tenant_id, session_id)


def known_programme(
    record: ProgrammeRecord | None, tenant_id: str, programme_id: str
) -> ProgrammeRecord:
    """The programme, or park the message until DefineProgramme (in the same tenant)."""
    if record is None:
        raise AwaitingPrerequisiteError(
            programme_ready(tenant_id, programme_id), "programme not defined yet (DefineProgramme)"
        )
    return record


def known_pair(people: PairPeople | None, tenant_id: str, pair_id: str) -> PairPeople:
    """The pair, or park the message until PairFormed (in the same tenant)."""
    if people is None:
        raise AwaitingPrerequisiteError(
            pair_ready(tenant_id, pair_id), "pair not formed yet (PairFormed)"
        )
    return people


def known_person(
    person: Person | None, tenant_id: str, programme_id: str, participant_id: str
) -> Person:
    """A participant, or park the message until they are enrolled (in the same tenant)."""
    if person is None:
        raise AwaitingPrerequisiteError(
            participant_ready(tenant_id, programme_id, participant_id),
            "participant not enrolled (EnrolParticipant) or erased",
        )
    return person
