"""Erasure in the sessions service: about the person within the tenant, idempotent, and
final: an erased person's pairs are never followed again, and commands about them (parked
ones replayed later included) are dropped, so their free text never comes back."""

from __future__ import annotations

import pytest

from binome_sessions.prerequisites import pair_key
from binome_shared.contracts.hr_commands import EraseParticipant
from binome_shared.contracts.pairing_events import DissolutionReason, PairDissolved
from binome_shared.contracts.sessions_messages import SetObjective
from binome_shared.messaging.errors import AwaitingPrerequisiteError
from tests.support.erasures import proofs

from .service_fakes import TENANT, Service, pair_formed

pytestmark = pytest.mark.unit

FREE_TEXT = "Animer une réunion en visio"


def objective(pair_id: str) -> SetObjective:
    return SetObjective(pair_id=pair_id, objective_id="o1", owner="mentee", title=FREE_TEXT)


async def test_a_second_erasure_changes_nothing() -> None:
    service = Service()
    await service.formed("pair-1", mentor="M1", mentee="E1")
    await service.handle(objective("pair-1"))
    await service.handle(EraseParticipant(participant_id="E1"))
    saves, published = service.tracks.saves, len(service.outbox.envelopes)
    await service.handle(EraseParticipant(participant_id="E1"))
    assert service.tracks.saves == saves
    assert len(service.outbox.envelopes) == published + 1, "the proof, and nothing else"
    first, again = proofs(service.outbox.envelopes)
    assert first.erased == {"pair_tracks": 1, "objectives": 1}
    assert (again.already_erased, again.erased_at, again.erased) == (True, first.erased_at, {})


async def test_erasing_someone_never_seen_is_a_success_that_is_remembered() -> None:
    service = Service()
    await service.handle(EraseParticipant(participant_id="X1"))
    assert set(service.tracks.erased) == {(TENANT, "X1")}
    assert [
        (p.participant_id, p.already_erased, p.erased) for p in proofs(service.outbox.envelopes)
    ] == [("X1", False, {})]
    assert service.outbox.types() == ["ErasureCompleted"]


async def test_a_command_about_an_erased_persons_pair_is_dropped() -> None:
    service = Service()
    await service.formed("pair-1", mentor="M1", mentee="E1")
    await service.handle(EraseParticipant(participant_id="E1"))
    saves, published = service.tracks.saves, len(service.outbox.envelopes)
    await service.handle(objective("pair-1"))  # no dead letter: it would keep the text
    assert service.tracks.track("pair-1").objectives == []
    assert service.tracks.saves == saves
    assert len(service.outbox.envelopes) == published


async def test_a_parked_command_replayed_after_the_pair_forms_does_not_restore_free_text() -> None:
    service = Service()
    await service.formed("pair-1", mentor="M1", mentee="E1")
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.handle(objective("pair-2"))
    assert parked.value.waiting_for == pair_key(TENANT, "pair-2")
    await service.handle(EraseParticipant(participant_id="E1"))
    published = len(service.outbox.envelopes)

    await service.handle(pair_formed("pair-2", mentor="M2", mentee="E1"))
    assert (TENANT, "pair-2") not in service.tracks.pairs, "an erased person is never followed"
    assert service.tracks.unfollowed == {(TENANT, "pair-2")}
    assert pair_key(TENANT, "pair-2") in service.released, "what was parked is replayed now"

    await service.handle(objective("pair-2"))  # the replay
    assert (TENANT, "pair-2") not in service.tracks.pairs
    assert len(service.outbox.envelopes) == published


async def test_the_same_id_in_another_tenant_is_followed() -> None:
    service = Service()
    await service.handle(EraseParticipant(participant_id="E1"), tenant_id="autre-groupe")
    await service.formed("pair-1", mentor="M1", mentee="E1")
    await service.handle(objective("pair-1"))
    assert service.tracks.track("pair-1").objectives[0].statement == FREE_TEXT


async def test_the_dissolution_of_a_pair_never_followed_is_not_parked() -> None:
    service = Service()
    await service.formed("pair-1", mentor="M1", mentee="E1")
    await service.handle(EraseParticipant(participant_id="E1"))
    await service.handle(pair_formed("pair-2", mentor="M2", mentee="E1"))
    await service.handle(
        PairDissolved(pair_id="pair-2", reason=DissolutionReason.ERASED, detail="")
    )  # would raise AwaitingPrerequisiteError if it waited for the pair
    assert (TENANT, "pair-2") not in service.tracks.pairs
