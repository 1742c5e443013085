"""A second tenant that uses the same programme id, participant ids and pair id as the first
(:mod:`.notifications_factories`), with its own HR contact and its own people."""

from __future__ import annotations

import uuid
from typing import Any

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import ProgrammeContact
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.values import Language
from tests.unit.notifications import notifications_factories as make

OTHER_TENANT = "autre-groupe"
OTHER_CONTACT = ProgrammeContact(
    name="Bruno Lefèvre", email="bruno.lefevre@autre.example", language=Language.FR
)
OTHER_NAMES = {make.MENTOR: "Sofia Rossi", make.MENTEE: "Marc Dupuis"}
OTHER_EMAILS = {make.MENTOR: "sofia.rossi@autre.example", make.MENTEE: "marc.dupuis@autre.example"}


def in_tenant(envelope: Envelope[Any], tenant_id: str = OTHER_TENANT) -> Envelope[Any]:
    """The same message from another tenant (a message of its own: a new event id)."""
    return envelope.model_copy(update={"tenant_id": tenant_id, "id": uuid.uuid4()})


def define_programme() -> Envelope[Any]:
    """The other tenant's programme: same id, its own HR contact."""
    defined = make.define_programme()
    data = defined.data.model_copy(update={"contact": OTHER_CONTACT})
    return in_tenant(defined.model_copy(update={"data": data}))


def enrol_pair() -> list[Envelope[Any]]:
    """The other tenant's mentor and mentee: same ids, other names and addresses."""
    return [
        in_tenant(
            make.enrol(
                participant_id,
                name=OTHER_NAMES[participant_id],
                email=OTHER_EMAILS[participant_id],
                role=role,
            )
        )
        for participant_id, role in (
            (make.MENTOR, ParticipantRole.MENTOR),
            (make.MENTEE, ParticipantRole.MENTEE),
        )
    ]
