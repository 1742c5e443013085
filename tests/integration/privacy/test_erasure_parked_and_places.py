"""What notifications keeps about an erased person beyond her profile, on the real service
(real Kafka, real PostgreSQL, the local SMTP sink): the place of her pair's session, and the
messages parked about her, are gone with the erasure and counted in its proof; what arrives
about her pairs afterwards is skipped, never parked for a PairFormed already skipped (which
would dead-letter her pair's session, place included, seven days later)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.privacy_events import ErasingService, ErasureCompleted
from binome_shared.contracts.topics import (
    HR_COMMANDS,
    PAIRING_EVENTS,
    PRIVACY_EVENTS,
    SESSIONS_EVENTS,
)
from tests.integration.notifications.test_notifications_erasure_scan import columns_holding
from tests.integration.notifications.test_notifications_service_delivery import (
    publish,
    start_notifications,
    stored_count,
)
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes
from tests.support.waiting import eventually
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

SCHEMA = "notifications"
UNDEFINED = "prog-not-defined-yet"
STARTS = make.NOW + timedelta(days=30)
HER_OFFICE = "Bureau de Laurent Girard, 12 rue des Lilas"
HER_HOME = "Chez Laurent, 3 impasse des Tilleuls"
HER_CAFE = "Café en bas de chez Laurent"
OTHERS_ROOM = "Salle Jupiter"


def session_at(pair_id: str, location: str) -> Envelope[Any]:
    scheduled = make.session_scheduled(starts_at=STARTS, pair_id=pair_id)
    data = scheduled.data.model_copy(update={"location": location})
    return scheduled.model_copy(update={"data": data})


def in_programme(envelope: Envelope[Any], programme_id: str) -> Envelope[Any]:
    return envelope.model_copy(update={"programme_id": programme_id})


async def count(database: ProvisionedDatabase, query: str, *args: Any) -> int:
    return int(await database.fetchval(SCHEMA, query, *args))


async def processed(database: ProvisionedDatabase, envelopes: list[Envelope[Any]]) -> int:
    return await count(
        database,
        "SELECT count(*) FROM processed_messages WHERE event_id = ANY($1::uuid[])",
        [envelope.id for envelope in envelopes],
    )


async def test_her_sessions_places_and_parked_messages_go_with_her_erasure(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, mail_sink: SmtpSink
) -> None:
    service = start_notifications(service_factory, mail_sink)
    await service.wait_ready()
    await publish(kafka, make.define_programme(), *make.enrol_pair(), make.pair_formed("pair-1"))
    await eventually(lambda: stored_count(mail_sink), 2)  # the two introductions
    await publish(
        kafka,
        session_at("pair-1", HER_OFFICE),  # known pair: its place is stored
        # Her pair in a programme not defined here yet: parked, naming her...
        in_programme(make.pair_formed("pair-2"), UNDEFINED),
        # ...and its session, parked for that PairFormed: it names only the pair.
        session_at("pair-2", HER_HOME),
        # A pair announced only after the erasure: parked for its PairFormed.
        session_at("pair-3", HER_CAFE),
        # Someone else's, parked too: it must stay.
        session_at("pair-9", OTHERS_ROOM),
    )
    await eventually(lambda: count(database, "SELECT count(*) FROM parked_messages"), 4)
    await eventually(lambda: count(database, "SELECT count(*) FROM sessions"), 1)
    before = {place: await columns_holding_place(database, place) for place in PLACES}
    assert before == {
        HER_OFFICE: {("sessions", "location"), ("deliveries", "message")},
        HER_HOME: {("parked_messages", "value")},
        HER_CAFE: {("parked_messages", "value")},
        OTHERS_ROOM: {("parked_messages", "value")},
    }

    erase = make.erase(make.MENTEE)
    await publish(kafka, erase)
    [proof] = await read_envelopes(kafka, PRIVACY_EVENTS, expect=1)
    assert isinstance(proof.data, ErasureCompleted)
    assert proof.data.service is ErasingService.NOTIFICATIONS
    assert proof.data.erased.get("session_revisions") == 1, proof.data.erased
    assert proof.data.erased.get("parked_messages") == 2, proof.data.erased

    # pair-3 is announced after the erasure (pairing formed it before it saw her erasure):
    # what was parked for it is replayed and skipped, and what comes later is skipped.
    after = [make.pair_formed("pair-3"), session_at("pair-3", HER_CAFE)]
    await publish(kafka, *after)
    await eventually(lambda: processed(database, [erase, *after]), 3)
    await eventually(lambda: count(database, "SELECT count(*) FROM parked_messages"), 1)

    left = {place: await columns_holding_place(database, place) for place in PLACES}
    assert left == {
        HER_OFFICE: set(),
        HER_HOME: set(),
        HER_CAFE: set(),
        OTHERS_ROOM: {("parked_messages", "value")},
    }
    assert await count(database, "SELECT count(*) FROM sessions") == 0
    assert (
        await count(
            database,
            "SELECT count(*) FROM pairs WHERE pair_id = 'pair-3' AND mentee_id IS NULL "
            "AND mentor_id = $1",
            make.MENTOR,
        )
        == 1
    ), "pair-3 is known without her, so what comes about it is skipped"
    for topic in (HR_COMMANDS, PAIRING_EVENTS, SESSIONS_EVENTS):
        dead = await kafka.read_all(topic.dead_letter_name(kafka.prefix), expect=0)
        assert dead == [], f"dropped, not dead-lettered: {topic.name}"
    planned = await count(
        database, "SELECT count(*) FROM deliveries WHERE pair_id IN ('pair-2', 'pair-3')"
    )
    assert planned == 0, "nothing was ever planned about the pairs announced around her erasure"


PLACES = (HER_OFFICE, HER_HOME, HER_CAFE, OTHERS_ROOM)


async def columns_holding_place(database: ProvisionedDatabase, place: str) -> set[tuple[str, str]]:
    conn = await database.connect(SCHEMA)
    try:
        return await columns_holding(conn, place)
    finally:
        await conn.close()
