"""Erasure reaches everything the notifications service holds, on the real service (real
Kafka, real PostgreSQL, the local SMTP sink): after a mentee who is also another programme's
HR contact is erased, no text, JSON or binary column of the service's schema holds her name
or e-mail address, her id is left only in the erasure register (and in events already
published), the pending reminders naming her are withdrawn, and no further e-mail mentions
her."""

from __future__ import annotations

import base64
import email
import json
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import ProgrammeContact
from binome_shared.contracts.pairing_events import PairSide
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.values import Language
from tests.integration.notifications.test_notifications_erasure_stored import OTHER
from tests.integration.notifications.test_notifications_service_delivery import (
    publish,
    start_notifications,
    stored_count,
)
from tests.integration.notifications.test_notifications_tenancy import everything_readable
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.waiting import eventually
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

ERASED_ID = "emp-7f3q-lg"
NAME = "Laurent Girard"
EMAIL = "laurent.girard@example.com"
SCHEMA = "notifications"

# Where the id may stay: the erasure register (what makes the erasure final), the
# NotificationSent events of e-mails sent to her before the erasure, already published, and
# the proof of the erasure, ErasureCompleted, whose Kafka key is her id (the messaging core's
# outbox keeps published rows until it prunes them; events carry ids only).
ID_MAY_REMAIN = {
    ("erased_participants", "participant_id"),
    ("outbox", "value"),
    ("outbox", "key"),
}


def laurent(programme_id: str) -> Envelope[Any]:
    enrolment = make.enrol(
        ERASED_ID, name=NAME, email=EMAIL, language=Language.EN, role=ParticipantRole.MENTEE
    )
    return enrolment.model_copy(update={"programme_id": programme_id})


def pair_of(pair_id: str, mentee_id: str) -> Envelope[Any]:
    formed = make.pair_formed(pair_id)
    mentee = PairSide(participant_id=mentee_id, business_unit="Finance")
    return formed.model_copy(update={"data": formed.data.model_copy(update={"mentee": mentee})})


def programme_with_her_as_contact() -> Envelope[Any]:
    defined = make.define_programme()
    contact = ProgrammeContact(name=NAME, email=EMAIL, language=Language.EN)
    data = defined.data.model_copy(update={"contact": contact})
    return defined.model_copy(update={"programme_id": OTHER, "data": data})


def in_programme(envelope: Envelope[Any], programme_id: str) -> Envelope[Any]:
    return envelope.model_copy(update={"programme_id": programme_id, "id": uuid.uuid4()})


async def columns_holding(conn: asyncpg.Connection, needle: str) -> set[tuple[str, str]]:
    """Every (table, column) of the schema, of a text, JSON or binary type (arrays of them
    included), in which some row contains ``needle``."""
    columns = await conn.fetch(
        """
        SELECT c.table_name, c.column_name, c.udt_name
        FROM information_schema.columns AS c
        JOIN information_schema.tables AS t
          ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
          AND c.udt_name IN ('text', 'varchar', 'bpchar', 'json', 'jsonb', 'bytea',
                             '_text', '_varchar', '_json', '_jsonb', '_bytea')
        """,
        SCHEMA,
    )
    assert len(columns) > 20, "the scan sees the whole schema"
    found = set()
    for column in columns:
        table, name, udt = column["table_name"], column["column_name"], column["udt_name"]
        ref = f'"{table}"."{name}"'
        if udt == "bytea":
            match = f"position(convert_to($1, 'UTF8') in {ref}) > 0"
        elif udt == "_bytea":
            match = (
                f"EXISTS (SELECT FROM unnest({ref}) AS v"
                " WHERE position(convert_to($1, 'UTF8') in v) > 0)"
            )
        else:
            match = f"position($1 in {ref}::text) > 0"
        if await conn.fetchval(f'SELECT EXISTS (SELECT FROM "{table}" WHERE {match})', needle):
            found.add((table, name))
    return found


def parse(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


def calendars_kept(rows: list[asyncpg.Record]) -> str:
    """The .ics of the messages still stored, decoded (stored as base64, out of a scan's
    reach)."""
    texts = []
    for row in rows:
        calendar = json.loads(row["message"]).get("calendar")
        if calendar:
            texts.append(base64.b64decode(calendar["ics"]).decode())
    return "\n".join(texts)


async def test_erasure_leaves_nothing_of_the_person_and_nothing_more_mentions_her(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, mail_sink: SmtpSink
) -> None:
    service = start_notifications(service_factory, mail_sink)
    await service.wait_ready()
    zoe = make.enrol(
        "X2", name="Zoé Bernard", email="zoe.bernard@example.com", role=ParticipantRole.MENTEE
    )
    await publish(
        kafka,
        make.define_programme(),
        programme_with_her_as_contact(),
        make.enrol_pair()[0],
        laurent(make.PROGRAMME),
        laurent(OTHER),
        zoe,
    )
    await eventually(lambda: database.fetchval(SCHEMA, "SELECT count(*) FROM people"), 4)
    starts = make.NOW + timedelta(days=30)
    await publish(
        kafka,
        pair_of("pair-1", ERASED_ID),
        pair_of("pair-2", "X2"),
        make.session_scheduled(starts_at=starts),
    )
    await eventually(lambda: stored_count(mail_sink), 6)  # 4 introductions, 2 invitations
    conn = await database.connect(SCHEMA)
    try:
        assert {("people", "full_name"), ("deliveries", "message")} <= await columns_holding(
            conn, NAME
        ), "the scan finds what is there"
        pending_naming_her = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE status = 'pending' AND pair_id = 'pair-1'"
        )
        assert pending_naming_her == 2, "the two reminders of pair-1's session"

        sent_before = list(mail_sink.stored)
        await publish(kafka, make.erase(ERASED_ID))
        await eventually(
            lambda: database.fetchval(SCHEMA, "SELECT count(*) FROM erased_participants"), 1
        )
        after = [
            make.session_rescheduled(previous=starts, starts_at=starts + timedelta(days=1)),
            make.pair_fit_concern_raised(),
            in_programme(make.matching_completed(), OTHER),
            laurent(make.PROGRAMME),
            make.session_scheduled(starts_at=starts, pair_id="pair-2"),
        ]
        await publish(kafka, *after)
        await eventually(
            lambda: database.fetchval(
                SCHEMA,
                "SELECT count(*) FROM processed_messages WHERE event_id = ANY($1::uuid[])",
                [envelope.id for envelope in after],
            ),
            len(after),
        )
        await eventually(lambda: stored_count(mail_sink), 8)  # pair-2's two invitations only

        for needle in (NAME, EMAIL):
            assert await columns_holding(conn, needle) == set(), needle
        assert await columns_holding(conn, ERASED_ID) <= ID_MAY_REMAIN
        kept = await conn.fetch("SELECT message FROM deliveries WHERE message IS NOT NULL")
        assert kept, "pair-2's reminders are still pending"
        assert NAME not in calendars_kept(kept)
        assert EMAIL not in calendars_kept(kept)
        withdrawn = await conn.fetch(
            "SELECT kind, recipient_id, last_outcome FROM deliveries "
            "WHERE pair_id = 'pair-1' AND status = 'cancelled'"
        )
        assert [(row["kind"], row["recipient_id"]) for row in withdrawn] == [
            ("session_reminder", make.MENTOR)
        ]
        programme = await conn.fetchrow(
            "SELECT contact_name, contact_email FROM programmes WHERE programme_id = $1", OTHER
        )
        assert dict(programme) == {"contact_name": None, "contact_email": None}
    finally:
        await conn.close()

    later = [parse(path) for path in mail_sink.stored[len(sent_before) :]]
    assert sorted(message["To"].addresses[0].addr_spec for message in later) == [
        "ines.martin@example.com",
        "zoe.bernard@example.com",
    ]
    for message in later:
        readable = everything_readable(message)
        assert NAME not in readable
        assert EMAIL not in readable
