"""``GET /deliveries`` on the real notifications process: a bearer token is required, and a
tenant sees the counts of its own deliveries only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from binome_devstack.notifications.smtp_sink import SmtpSink
from tests.integration.notifications.test_notifications_service_delivery import (
    delivery_statuses,
    publish,
    sink,
    start_notifications,
)
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.tokens import TokenIssuer, bearer
from tests.support.waiting import eventually
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

__all__ = ["sink"]  # the SMTP sink fixture, shared with the delivery tests


async def test_delivery_counts_answer_a_tenant_its_own_deliveries_only(
    database: ProvisionedDatabase,
    kafka: Kafka,
    service_factory: Any,
    sink: SmtpSink,
    tmp_path: Path,
) -> None:
    idp = TokenIssuer()
    keys = tmp_path / "token-keys.pem"
    keys.write_text(idp.public_pem, encoding="utf-8")
    service = start_notifications(
        service_factory,
        sink,
        BINOME_HTTP_AUTH_PUBLIC_KEYS_FILE=str(keys),  # the Secret-volume form
        BINOME_HTTP_AUTH_ISSUER=idp.issuer,
        BINOME_HTTP_AUTH_AUDIENCE=idp.audience,
    )
    await service.wait_ready()
    await publish(kafka, make.define_programme(), *make.enrol_pair(), make.pair_formed())
    await eventually(lambda: delivery_statuses(database), [("introduction", "sent", 1)] * 2)

    async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
        own = await client.get("/deliveries", headers=bearer(idp.token(make.TENANT)))
        other = await client.get("/deliveries", headers=bearer(idp.token("autre-groupe")))
        anonymous = await client.get("/deliveries")
        forged = await client.get("/deliveries", headers=bearer(TokenIssuer().token(make.TENANT)))
        contract = await client.get("/asyncapi.json")

    assert own.status_code == 200
    assert own.json() == {
        "deliveries": [
            {
                "kind": "introduction",
                "status": "sent",
                "deliveries": 2,
                "attempts": 2,
                "in_doubt_resends": 0,
            }
        ]
    }
    assert other.status_code == 200
    assert other.json() == {"deliveries": []}, "another tenant's deliveries are not counted"
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="binome"'
    assert forged.status_code == 401
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]
    assert contract.status_code == 200, "the AsyncAPI document stays open"
