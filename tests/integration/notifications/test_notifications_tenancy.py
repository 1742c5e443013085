"""Two tenants with the same programme id, participant ids and pair id, through the real
notifications service (real Kafka, real PostgreSQL, the local SMTP sink): every e-mail goes to
its own tenant's people and HR contact, exactly once, and none names the other tenant's
people."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_notifications.adapters.mime import DELIVERY_KEY_HEADER
from tests.integration.notifications.test_notifications_service_delivery import (
    publish,
    read_mail,
    start_notifications,
    stored_count,
)
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.waiting import eventually
from tests.unit.notifications import notifications_factories as make
from tests.unit.notifications import notifications_tenants as other

pytestmark = pytest.mark.integration

A_PEOPLE = {
    "ines.martin@example.com": "Inès Martin",
    "laurent.girard@example.com": "Laurent Girard",
    "claire.dubois@example.com": "Claire Dubois",
}
B_PEOPLE = {
    other.OTHER_EMAILS[make.MENTOR]: other.OTHER_NAMES[make.MENTOR],
    other.OTHER_EMAILS[make.MENTEE]: other.OTHER_NAMES[make.MENTEE],
    other.OTHER_CONTACT.email: other.OTHER_CONTACT.name,
}
EACH_TENANTS_MAIL = Counter(
    {
        ("introduction", "mentor"): 1,
        ("introduction", "mentee"): 1,
        ("session_invitation", "mentor"): 1,
        ("session_invitation", "mentee"): 1,
        ("hr_fit_alert", "contact"): 1,
    }
)


def everything_readable(message: EmailMessage) -> str:
    """Headers, text, HTML and calendar parts, decoded: what a reader could see."""
    parts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        content = part.get_content()
        parts.append(content.decode() if isinstance(content, bytes) else str(content))
    return "\n".join(parts)


def role_of(address: str) -> str:
    if address in ("ines.martin@example.com", other.OTHER_EMAILS[make.MENTOR]):
        return "mentor"
    if address in ("laurent.girard@example.com", other.OTHER_EMAILS[make.MENTEE]):
        return "mentee"
    return "contact"


async def pending_or_sent(database: ProvisionedDatabase) -> list[tuple[str, str, int]]:
    conn = await database.connect("notifications")
    try:
        rows = await conn.fetch(
            "SELECT tenant_id, status, count(*) AS n FROM deliveries "
            "WHERE kind <> 'session_reminder' GROUP BY tenant_id, status ORDER BY tenant_id"
        )
    finally:
        await conn.close()
    return [(row["tenant_id"], row["status"], row["n"]) for row in rows]


async def test_two_tenants_with_the_same_ids_are_each_written_to_their_own_people(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, mail_sink: SmtpSink
) -> None:
    service = start_notifications(service_factory, mail_sink)
    await service.wait_ready()
    # Tenant B's pair arrives while only tenant A has the programme and the people: it must
    # wait for B's own, never be written with A's.
    await publish(kafka, make.define_programme(), *make.enrol_pair())
    await eventually(lambda: database.fetchval("notifications", "SELECT count(*) FROM people"), 2)
    await publish(kafka, other.in_tenant(make.pair_formed()))
    await eventually(
        lambda: database.fetchval(
            "notifications",
            "SELECT waiting_for FROM parked_messages",
        ),
        f"programme:{other.OTHER_TENANT}/{make.PROGRAMME}",
    )
    await publish(kafka, make.pair_formed(), other.define_programme(), *other.enrol_pair())
    starts = make.NOW + timedelta(days=30)
    for tenant_id in (make.TENANT, other.OTHER_TENANT):
        await publish(
            kafka,
            other.in_tenant(make.session_scheduled(starts_at=starts), tenant_id),
            other.in_tenant(make.pair_fit_concern_raised(), tenant_id),
        )

    await eventually(lambda: stored_count(mail_sink), 10)
    await eventually(
        lambda: pending_or_sent(database),
        [(other.OTHER_TENANT, "sent", 5), (make.TENANT, "sent", 5)],
    )
    messages = read_mail(mail_sink)
    assert len(messages) == 10
    assert len({str(message["Message-ID"]) for message in messages}) == 10

    conn = await database.connect("notifications")
    try:
        rows = await conn.fetch("SELECT delivery_key, tenant_id, kind FROM deliveries")
    finally:
        await conn.close()
    planned = {row["delivery_key"]: (row["tenant_id"], row["kind"]) for row in rows}
    by_tenant: dict[str, Counter[tuple[str, str]]] = {
        make.TENANT: Counter(),
        other.OTHER_TENANT: Counter(),
    }
    for message in messages:
        tenant_id, kind = planned[str(message[DELIVERY_KEY_HEADER])]
        address = message["To"].addresses[0].addr_spec
        assert address in A_PEOPLE or address in B_PEOPLE, address
        mine, theirs = (A_PEOPLE, B_PEOPLE) if address in A_PEOPLE else (B_PEOPLE, A_PEOPLE)
        readable = everything_readable(message)
        for their_address, their_name in theirs.items():
            assert their_name not in readable, f"an e-mail to {address} names {their_name}"
            assert their_address not in readable, f"an e-mail to {address} shows {their_address}"
        assert message["To"].addresses[0].display_name == mine[address]
        assert (tenant_id == make.TENANT) == (mine is A_PEOPLE), "planned in the right tenant"
        by_tenant[tenant_id][kind, role_of(address)] += 1
    assert by_tenant == {make.TENANT: EACH_TENANTS_MAIL, other.OTHER_TENANT: EACH_TENANTS_MAIL}
    assert await database.fetchval("notifications", "SELECT count(*) FROM parked_messages") == 0
