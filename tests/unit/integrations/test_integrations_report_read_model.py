"""The report's read model (pure, fakes only): a generated programme folded one record at a
time gives the report a replay gives; tenants kept apart; bad records skipped and counted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from binome_integrations.report.build import programme_report
from binome_integrations.report.history import programme_history
from binome_integrations.report.read_model import ReadModel
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import WithdrawParticipant
from binome_shared.messaging.cloudevents import ReceivedRecord
from tests.integration.messaging.factories import received
from tests.support.report_programme import generated_programme

pytestmark = pytest.mark.unit

PROGRAMME = "prog-model"
OTHER_TENANT = "autre-groupe"


def as_record(envelope: Envelope[Message], offset: int = 0) -> ReceivedRecord:
    """``envelope`` as the reader receives it from Kafka."""
    return received(envelope, topic=envelope.data.topic.name, offset=offset)


def garbage(offset: int) -> ReceivedRecord:
    return ReceivedRecord(
        topic="binome.sessions.events",
        partition=0,
        offset=offset,
        key=None,
        value=b"\xff{",
        headers=[],
    )


def test_folded_record_by_record_it_gives_the_replays_report() -> None:
    story = generated_programme(PROGRAMME, managers=40, seed=7)
    model = ReadModel()
    halfway = len(story) // 2
    early = None

    for offset, envelope in enumerate(story):
        assert model.take_record(as_record(envelope, offset))
        if offset == halfway:
            # A report asked in the middle leaves the state as it was.
            early = model.report("groupe-exemple", PROGRAMME)
            assert early is not None
            assert early.generated_at == envelope.time

    replayed = programme_report(
        programme_history(story), programme_id=PROGRAMME, generated_at=story[-1].time
    )
    live = model.report("groupe-exemple", PROGRAMME)
    assert live is not None
    assert live.model_dump() == replayed.model_dump()
    assert live.pairs_formed == 40
    assert live.consent.pairs_asked == 14, "the follow-up fold is in it too"
    assert [pulse.asked for pulse in live.pulse_rounds] == [80]
    assert early is not None
    assert early.generated_at < live.generated_at
    assert model.folded == len(story)
    assert not model.skipped


def test_two_tenants_with_the_same_programme_id_have_their_own_figures() -> None:
    ours = generated_programme(PROGRAMME, managers=6, seed=1)
    theirs = generated_programme(PROGRAMME, managers=3, seed=2, tenant_id=OTHER_TENANT)
    model = ReadModel()
    # Interleaved, as two tenants' records share the topics' partitions.
    for envelope in [e for pair in zip(ours, theirs, strict=False) for e in pair] + ours[
        len(theirs) :
    ]:
        model.take(envelope)

    mine = model.report("groupe-exemple", PROGRAMME)
    other = model.report(OTHER_TENANT, PROGRAMME)
    assert mine is not None
    assert other is not None
    assert (mine.mentees, mine.pairs_formed) == (6, 6)
    assert (other.mentees, other.pairs_formed) == (3, 3)
    assert model.report("tiers", PROGRAMME) is None


def test_a_garbage_or_foreign_record_is_skipped_and_counted_and_folding_goes_on() -> None:
    story = generated_programme(PROGRAMME, managers=2)
    model = ReadModel()
    model.take_record(garbage(0))
    foreign = as_record(story[3], 1)
    foreign = ReceivedRecord(
        topic=foreign.topic,
        partition=0,
        offset=1,
        key=foreign.key,
        value=foreign.value,
        headers=[
            (name, b"com.example.unknown" if name == "ce_type" else value)
            for name, value in foreign.headers
        ],
    )
    model.take_record(foreign)
    for offset, envelope in enumerate(story, start=2):
        model.take_record(as_record(envelope, offset))

    assert sum(model.skipped.values()) == 2
    assert model.folded == len(story)
    report = model.report("groupe-exemple", PROGRAMME)
    assert report is not None
    assert report.pairs_formed == 2


def test_a_fact_the_fold_cannot_take_is_counted_and_does_not_stop_the_others() -> None:
    story = generated_programme(PROGRAMME, managers=2)
    model = ReadModel()
    for envelope in story:
        model.take(envelope)
    broken = story[-1].model_copy(update={"data": object()})

    assert model.take(broken) is True, "a type the fold does not use is passed over"
    model.programmes[("groupe-exemple", PROGRAMME)].history.roles = None  # type: ignore[assignment]
    withdrawal = story[-1].model_copy(update={"data": WithdrawParticipant(participant_id="M0")})
    assert model.take(withdrawal) is False
    assert model.skipped["fold_failed"] == 1


def test_a_programme_without_definition_or_never_seen_has_no_report() -> None:
    story = generated_programme(PROGRAMME, managers=2)
    model = ReadModel()
    for envelope in story[1:]:
        model.take(envelope)

    assert model.report("groupe-exemple", PROGRAMME) is None
    assert model.report("groupe-exemple", "jamais-vu") is None


def test_the_report_is_as_of_the_latest_fact_whatever_the_arrival_order() -> None:
    story = generated_programme(PROGRAMME, managers=2)
    model = ReadModel()
    late = story[-1].model_copy(update={"time": story[-1].time - timedelta(days=400)})
    for envelope in [*story[:-1], late]:
        model.take(envelope)

    report = model.report("groupe-exemple", PROGRAMME)
    assert report is not None
    assert report.generated_at == story[-2].time
