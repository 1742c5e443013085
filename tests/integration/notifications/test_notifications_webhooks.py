"""Signed webhooks against a real HTTP receiver (http.server in a thread) on 127.0.0.1."""

import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from binome_devstack.notifications.examples import example_trigger
from binome_notifications.adapters.messages import OutgoingWebhook
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.adapters.retrying import deliver_with_retries
from binome_notifications.adapters.webhooks import WebhookEndpoint, WebhookSender
from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_notifications.domain.policy import HttpReply, OutcomeClass, RetryPolicy
from binome_notifications.domain.signing import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    ReplayGuard,
    SignatureError,
    verify_signature,
)
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.integration

SECRET = b"whsec-hr-platform-secret"


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What an HR platform would run: verify, refuse replays, then accept."""

    url: str = ""
    clock_offset: timedelta = timedelta(0)
    scripted_statuses: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    accepted: list[Request] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    guard: ReplayGuard = field(default_factory=ReplayGuard)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            if self.scripted_statuses:
                status, headers = self.scripted_statuses.pop(0)
                return status, headers, b""
            now = datetime.now(UTC) + self.clock_offset
            try:
                verified = verify_signature(
                    request.body, request.headers.get(SIGNATURE_HEADER), secrets=[SECRET], now=now
                )
                self.guard.check(verified, now=now)
            except SignatureError as error:
                self.refusals.append(error.reason)
                return 401, {}, error.reason.encode()
            self.accepted.append(request)
            return 204, {}, b""


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            request = Request(headers=dict(self.headers.items()), body=self.rfile.read(length))
            status, headers, body = receiver.handle(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/binome"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _webhook() -> OutgoingWebhook:
    renderer = NotificationRenderer(
        public_base_url="https://binome.example.com", organizer_email="noreply@example.com"
    )
    planned = plan_notifications(
        example_trigger(NotificationKind.HR_STALL_ALERT, language=Language.EN)
    )
    notification = next(n for n in planned if n.channel is Channel.WEBHOOK)
    return renderer.render_webhook(notification)


def _sender(client: httpx.AsyncClient, url: str, secret: bytes = SECRET) -> WebhookSender:
    endpoint = WebhookEndpoint(receiver_id="hr-platform", url=url, secret=secret)
    return WebhookSender(client=client, endpoints={"hr-platform": endpoint})


async def test_a_signed_webhook_is_verified_and_a_replay_is_rejected(receiver: Receiver) -> None:
    webhook = _webhook()
    async with httpx.AsyncClient(timeout=10) as client:
        outcome = await _sender(client, receiver.url).send(webhook)
        assert outcome.outcome is OutcomeClass.DELIVERED
        assert outcome.signal == HttpReply(204)

        assert len(receiver.accepted) == 1
        request = receiver.accepted[0]
        assert request.body == webhook.body
        assert request.headers[DELIVERY_ID_HEADER] == webhook.delivery_key
        payload = json.loads(request.body)
        assert payload["kind"] == "hr_stall_alert"
        assert payload["facts"]["weeks_without_session"] == 5

        kept = {"content-type", SIGNATURE_HEADER.lower(), DELIVERY_ID_HEADER.lower()}
        replay_headers = {
            name: value for name, value in request.headers.items() if name.lower() in kept
        }
        replayed = await client.post(receiver.url, content=request.body, headers=replay_headers)
        assert replayed.status_code == 401
        assert replayed.text == "replayed request"

        tampered = await client.post(
            receiver.url, content=request.body.replace(b"5", b"1"), headers=replay_headers
        )
        assert tampered.status_code == 401
        assert tampered.text == "signature mismatch"

        receiver.clock_offset = timedelta(minutes=10)
        late = await client.post(receiver.url, content=request.body, headers=replay_headers)
        assert late.status_code == 401
        assert late.text == "timestamp outside tolerance"

    assert len(receiver.accepted) == 1
    assert receiver.refusals == [
        "replayed request",
        "signature mismatch",
        "timestamp outside tolerance",
    ]


async def test_a_wrong_secret_is_refused_and_is_permanent(receiver: Receiver) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        outcome = await _sender(client, receiver.url, secret=b"not-the-secret").send(_webhook())
    assert outcome.outcome is OutcomeClass.PERMANENT
    assert outcome.signal == HttpReply(401)
    assert receiver.refusals == ["signature mismatch"]
    assert receiver.accepted == []


async def test_5xx_and_429_are_retried_then_delivered_once(receiver: Receiver) -> None:
    receiver.scripted_statuses = [(503, {}), (429, {"Retry-After": "0"})]
    policy = RetryPolicy(base_delay=timedelta(milliseconds=20), max_attempts=5)
    async with httpx.AsyncClient(timeout=10) as client:
        sender = _sender(client, receiver.url)
        webhook = _webhook()
        report = await deliver_with_retries(
            lambda: sender.send(webhook), policy=policy, rng=random.Random(2)
        )
    assert report.delivered
    assert report.attempts == 3
    assert len(receiver.accepted) == 1


async def test_an_unreachable_receiver_is_transient_and_an_unknown_one_permanent(
    receiver: Receiver,
) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        unreachable = await _sender(client, "http://127.0.0.1:9/nothing").send(_webhook())
        unknown = await WebhookSender(client=client, endpoints={}).send(_webhook())
    assert unreachable.outcome is OutcomeClass.TRANSIENT
    assert unknown.outcome is OutcomeClass.PERMANENT
