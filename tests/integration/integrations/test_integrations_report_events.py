"""The report's collector on the real local Kafka: it reads this test's own topics from the
start, keeps one tenant's programme only (each partition in order), passes over what it
cannot decode, and counts dead letters from the offsets."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from binome_integrations.report.events import ProgrammeEvents, dead_letter_counts
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import RequestMatching
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.sessions_messages import (
    SessionCompleted,
    SessionPlanned,
    SessionScheduled,
)
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS
from binome_shared.messaging.cloudevents import KafkaRecord, encode
from tests.support.platform import Kafka
from tests.support.programmes import TENANT, programme_definition
from tests.support.published import AT, pair_event, published

pytestmark = pytest.mark.integration

PROGRAMME = "prog-events"


def envelope(
    data: Message, *, programme_id: str = PROGRAMME, tenant_id: str = TENANT
) -> Envelope[Any]:
    return published(data, programme_id=programme_id, tenant_id=tenant_id)


def formed(pair_id: str) -> PairFormed:
    return pair_event(PairFormed, pair_id)


def session_story(pair_id: str) -> list[Message]:
    return [
        SessionPlanned(pair_id=pair_id, sessions_planned=6, first_session_due=AT),
        SessionScheduled(
            pair_id=pair_id, session_number=1, theme_key="s1", starts_at=AT, duration_minutes=60
        ),
        SessionCompleted(
            pair_id=pair_id, session_number=1, theme_key="s1", held_at=AT, duration_minutes=60
        ),
    ]


async def test_the_programmes_envelopes_are_read_from_the_start_in_order(
    kafka: Kafka, kafka_bootstrap: str, topic_prefix: str
) -> None:
    ours = [
        envelope(programme_definition(ProgrammeRules(starts_on=date(2027, 1, 4)))),
        envelope(formed("p-1")),
        *(envelope(event) for event in session_story("p-1")),
        *(envelope(event) for event in session_story("p-2")),
    ]
    others = [
        envelope(RequestMatching(round_id="r-1"), programme_id="prog-other"),
        envelope(formed("p-9"), tenant_id="another-group"),
    ]
    for item in [*others, *ours]:
        await kafka.publish(item)
    garbled = encode(envelope(formed("p-3")), topic=PAIRING_EVENTS.full_name(topic_prefix))
    await kafka.send(dataclasses.replace(garbled, value=b"{not json"))

    collected = await ProgrammeEvents(
        bootstrap_servers=kafka_bootstrap,
        topic_prefix=topic_prefix,
        tenant_id=TENANT,
        programme_id=PROGRAMME,
        client_options={"client_id": "report-test"},
    ).collect()

    assert sorted(item.id for item in collected) == sorted(item.id for item in ours)
    by_pair: dict[str, list[str]] = {}
    for item in collected:
        pair_id = getattr(item.data, "pair_id", None)
        if pair_id is not None and item.data.topic.name == "binome.sessions.events":
            by_pair.setdefault(pair_id, []).append(item.type)
    story = [event.message_type for event in session_story("p-1")]
    assert by_pair == {"p-1": story, "p-2": story}, "each pair's facts in the order published"
    assert collected[0].data.topic == HR_COMMANDS, "HR's commands are read first"


async def test_dead_letters_are_counted_per_topic_without_consuming(
    kafka: Kafka, kafka_bootstrap: str, topic_prefix: str
) -> None:
    dead_topic = HR_COMMANDS.dead_letter_name(topic_prefix)
    for number in range(2):
        await kafka.send(KafkaRecord(topic=dead_topic, key=b"k", value=b"%d" % number, headers=[]))

    counts = await dead_letter_counts(kafka_bootstrap, topic_prefix)
    again = await dead_letter_counts(kafka_bootstrap, topic_prefix)

    assert {entry.topic: entry.count for entry in counts}[dead_topic] == 2
    assert sum(entry.count for entry in counts) == 2
    assert counts == again
    missing = await dead_letter_counts(kafka_bootstrap, "no-such-prefix.")
    assert [entry.count for entry in missing] == [0] * len(missing)
