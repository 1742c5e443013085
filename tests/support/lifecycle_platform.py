"""The three services as real processes on a simulated clock, a real SMTP sink, bearer tokens,
and the means to send commands, move the clock and know when everything has been handled.

Idle means what the demo means by it (:class:`binome_devstack.demo_platform.PlatformProbe`):
every consumer group has read every message, no outbox row is unsent, no job is due.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from binome_devstack.demo_platform import DemoRun, PlatformProbe
from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.topics import NOTIFICATIONS_EVENTS, PAIRING_EVENTS, SESSIONS_EVENTS
from binome_shared.messaging.cloudevents import encode
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess
from tests.support.stage_watch import DeadLetterWatch, EventWatch
from tests.support.tokens import TokenIssuer, bearer

SERVICES = ("pairing", "sessions", "notifications")
NOTIFICATIONS_ENV = {
    "BINOME_SMTP_HOST": "127.0.0.1",
    "BINOME_SMTP_FROM": "binome@binome.example.com",
    "BINOME_PUBLIC_BASE_URL": "https://rh.example.com",
    # Every HR alert of a tenant goes to one mailbox within the same simulated minute.
    "BINOME_RATE_PER_RECIPIENT_BURST": "1000",
}

ServiceFactory = Callable[..., ServiceProcess]


@dataclass
class LifeCyclePlatform:
    """A running platform and the test's view of it."""

    kafka: Kafka
    database: ProvisionedDatabase
    services: dict[str, ServiceProcess]
    sink: SmtpSink
    issuer: TokenIssuer
    events: EventWatch
    dead_letters: DeadLetterWatch
    probe: PlatformProbe
    now: datetime
    sent: list[Envelope[Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """What went wrong while playing (a round that never completed…): the test goes on, so
    that one run reports every problem, and fails with these at the end."""

    async def send(self, envelopes: Sequence[Envelope[Any]]) -> None:
        """Send in order (one producer, acknowledged by the broker)."""
        for envelope in envelopes:
            self.sent.append(envelope)
            await self.kafka.publish(envelope)

    async def send_raw(self, records: Sequence[Any]) -> None:
        for record in records:
            await self.kafka.send(record)

    async def set_clock(self, moment: datetime) -> None:
        """Move every service's clock (due jobs then run), then wait until idle."""
        self.now = moment
        async with httpx.AsyncClient(timeout=30) as client:
            for name, service in self.services.items():
                response = await client.post(
                    f"{service.url}/admin/clock", json={"now": moment.isoformat()}
                )
                assert response.status_code == 200, f"{name}: {response.text}"
        await self.settle()

    async def settle(self, *, limit_seconds: float = 180.0) -> None:
        """Until every service has handled everything sent so far, and a little longer for
        e-mails in flight to reach the sink."""
        await self.probe.settle(self.now, limit_seconds=limit_seconds)
        await asyncio.sleep(0.5)
        await self.probe.settle(self.now, limit_seconds=limit_seconds)
        self.assert_alive()

    def assert_alive(self) -> None:
        for name, service in self.services.items():
            assert service.process is not None
            assert service.process.poll() is None, f"{name} exited:\n{service.log_tail()}"

    async def get(self, service: str, path: str, *, tenant: str) -> httpx.Response:
        """A programme-data endpoint, called with a token of ``tenant``."""
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.get(
                f"{self.services[service].url}{path}", headers=bearer(self.issuer.token(tenant))
            )

    def encoded(self, envelope: Envelope[Any]) -> Any:
        return encode(envelope, topic=envelope.data.topic.full_name(self.kafka.prefix))


async def start_platform(
    *,
    service_factory: ServiceFactory,
    kafka: Kafka,
    database: ProvisionedDatabase,
    mail_dir: Path,
    now: datetime,
) -> LifeCyclePlatform:
    """Start the sink, the three services (simulated clock at ``now``) and the watches."""
    sink = SmtpSink(directory=mail_dir)
    await sink.start()
    issuer = TokenIssuer()
    common = {"BINOME_CLOCK": "simulated", **issuer.service_env()}
    services = {
        name: service_factory(
            name,
            **common,
            **(
                {**NOTIFICATIONS_ENV, "BINOME_SMTP_PORT": str(sink.port)}
                if name == "notifications"
                else {}
            ),
        )
        for name in SERVICES
    }
    await asyncio.gather(*(service.wait_ready() for service in services.values()))
    events = EventWatch(
        kafka.bootstrap, kafka.prefix, (PAIRING_EVENTS, SESSIONS_EVENTS, NOTIFICATIONS_EVENTS)
    )
    dead_letters = DeadLetterWatch(kafka.bootstrap, kafka.prefix)
    run = DemoRun(
        run_id="lifecycle",
        topic_prefix=kafka.prefix,
        database=database.name,
        admin_dsn=database.admin(),
        kafka_bootstrap=kafka.bootstrap,
    )
    probe = PlatformProbe(run)
    await asyncio.gather(events.start(), dead_letters.start(), probe.start())
    platform = LifeCyclePlatform(
        kafka=kafka,
        database=database,
        services=services,
        sink=sink,
        issuer=issuer,
        events=events,
        dead_letters=dead_letters,
        probe=probe,
        now=now,
    )
    await platform.set_clock(now)
    return platform


async def stop_platform(platform: LifeCyclePlatform) -> None:
    for closing in (platform.events.stop, platform.dead_letters.stop, platform.probe.stop):
        with contextlib.suppress(Exception):
            await closing()
    await platform.sink.stop()
