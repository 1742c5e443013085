"""A message's wire identity (type, topic, key) as its class keywords and bases declare it."""

from __future__ import annotations

import pytest

from binome_shared.contracts import pairing_events, sessions_messages
from binome_shared.contracts.base import Event
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.sessions_messages import commands, events
from binome_shared.contracts.text import Identifier
from binome_shared.contracts.topics import (
    PAIRING_EVENTS,
    SESSION_COMMANDS,
    SESSIONS_EVENTS,
    TopicSpec,
)

pytestmark = pytest.mark.unit

SCRATCH = TopicSpec(name="test.scratch", partitions=1, key="k", description="-", owner="-")


def test_every_sessions_pair_event_is_keyed_by_pair_on_the_sessions_events_topic() -> None:
    pair_events = [
        message
        for message in sessions_messages.SESSIONS_EVENT_TYPES
        if issubclass(message, events.PairEvent)
    ]
    assert len(pair_events) == len(sessions_messages.SESSIONS_EVENT_TYPES) - 1  # progress: not
    for message in pair_events:
        assert (message.topic, message.key_field) == (SESSIONS_EVENTS, "pair_id"), message
        assert next(iter(message.model_fields)) == "pair_id"


def test_every_sessions_command_is_keyed_by_pair_on_the_commands_topic() -> None:
    for message in sessions_messages.SESSION_COMMAND_TYPES:
        assert issubclass(message, commands.PairCommand)
        assert (message.topic, message.key_field) == (SESSION_COMMANDS, "pair_id"), message


def test_pairing_events_keep_their_keys() -> None:
    for message in (
        pairing_events.PairProposed,
        pairing_events.PairFormed,
        pairing_events.PairRejected,
        pairing_events.PairDissolved,
    ):
        assert (message.topic, message.key_field) == (PAIRING_EVENTS, "pair_id"), message
    assert pairing_events.MatchingCompleted.key_field is None  # keyed by programme
    assert pairing_events.PairProposed.message_type != pairing_events.PairFormed.message_type
    assert not issubclass(pairing_events.PairFormed, pairing_events.PairProposed)


def test_an_intermediate_base_is_no_wire_message() -> None:
    for base in (events.PairEvent, commands.PairCommand, pairing_events.MatchedPair):
        assert "message_type" not in vars(base)
    assert not {events.PairEvent, pairing_events.MatchedPair} & set(CATALOGUE)


def test_a_message_may_name_its_own_key_under_a_base_that_names_one() -> None:
    class Base(Event, topic=SCRATCH, key="pair_id"):
        pair_id: Identifier
        other_id: Identifier

    class Inherits(Base, type="test.inherits", version=(1, 0)):
        pass

    class Overrides(Base, type="test.overrides", version=(1, 0), key="other_id"):
        pass

    assert (Inherits.topic, Inherits.key_field) == (SCRATCH, "pair_id")
    assert (Overrides.topic, Overrides.key_field) == (SCRATCH, "other_id")


def test_a_type_without_a_topic_anywhere_is_refused() -> None:
    with pytest.raises(TypeError, match="declares a type but no topic"):

        class Lost(Event, type="test.lost", version=(1, 0)):
            pass
