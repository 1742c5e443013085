"""The ``deliver`` job over fakes: what it claims, sends, records, publishes and plans next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from binome_notifications.domain.sending import DeliveryStatus
from tests.unit.notifications.notifications_sending_fakes import SendingJob, email_delivery

pytestmark = pytest.mark.unit

NOW = datetime(2027, 1, 14, 9, 30, tzinfo=UTC)


async def test_a_due_delivery_is_claimed_sent_settled_and_announced() -> None:
    job = SendingJob()
    job.add(email_delivery("k1"))
    await job.run("k1", now=NOW)
    assert [email.delivery_key for email in job.smtp.sent] == ["k1"]
    assert job.attempts.status("k1") is DeliveryStatus.SENT
    assert job.attempts.deliveries["k1"].message is None
    [event] = job.outbox.envelopes
    assert type(event.data).__name__ == "NotificationSent"
    assert (event.data.attempts, event.data.possible_duplicate) == (1, False)
    assert event.data.channel == "email"
    assert job.conn.planned_jobs == []


async def test_a_delivery_found_sending_is_sent_again_and_flagged_a_possible_duplicate() -> None:
    job = SendingJob()
    job.add(email_delivery("k1", status=DeliveryStatus.SENDING, attempts=1))
    await job.run("k1", now=NOW, turn=2)
    [event] = job.outbox.envelopes
    assert (event.data.attempts, event.data.possible_duplicate) == (2, True)


async def test_a_transient_refusal_is_retried_by_the_next_turn_at_its_time() -> None:
    job = SendingJob()
    job.smtp.codes = [451]
    job.add(email_delivery("k1"))
    await job.run("k1", now=NOW)
    state = job.attempts.deliveries["k1"].state
    assert (state.status, state.attempts) == (DeliveryStatus.PENDING, 1)
    assert job.conn.planned_jobs == [("deliver:k1:2", state.next_attempt_at)]
    assert job.outbox.envelopes == []


async def test_a_permanent_refusal_fails_the_delivery_and_says_so() -> None:
    job = SendingJob()
    job.smtp.codes = [550]
    job.add(email_delivery("k1"))
    await job.run("k1", now=NOW)
    assert job.attempts.status("k1") is DeliveryStatus.FAILED
    [event] = job.outbox.envelopes
    assert type(event.data).__name__ == "NotificationFailed"
    assert (event.data.permanent, event.data.reason) == (True, "smtp 550")


async def test_a_delivery_not_due_yet_only_plans_its_next_turn() -> None:
    job = SendingJob()
    later = NOW + timedelta(minutes=5)
    job.add(email_delivery("k1", attempts=1, next_attempt_at=later))
    await job.run("k1", now=NOW)
    assert job.smtp.sent == []
    assert job.conn.planned_jobs == [("deliver:k1:2", later)]


async def test_a_reminder_whose_session_began_expires_unsent() -> None:
    job = SendingJob()
    job.add(email_delivery("k1", expires_at=NOW - timedelta(minutes=1)))
    await job.run("k1", now=NOW)
    assert job.smtp.sent == []
    assert job.attempts.status("k1") is DeliveryStatus.EXPIRED


async def test_an_ended_delivery_is_left_alone() -> None:
    job = SendingJob()
    job.add(email_delivery("k1", status=DeliveryStatus.SENT, attempts=1))
    await job.run("k1", now=NOW)
    await job.run("erased", now=NOW)
    assert (job.smtp.sent, job.outbox.envelopes, job.conn.planned_jobs) == ([], [], [])


async def test_the_rate_limit_defers_an_address_without_counting_an_attempt() -> None:
    job = SendingJob(burst=1)
    job.add(email_delivery("k1"))
    job.add(email_delivery("k2"))
    await job.run("k1", now=NOW)
    await job.run("k2", now=NOW)
    assert [email.delivery_key for email in job.smtp.sent] == ["k1"]
    assert job.attempts.deliveries["k2"].state.attempts == 0
    [(job_id, due_at)] = job.conn.planned_jobs
    assert job_id == "deliver:k2:2"
    assert due_at >= NOW + timedelta(seconds=1)


async def test_sends_in_flight_are_claimed_with_a_recovery_turn_then_recorded_together() -> None:
    job = SendingJob(concurrency=3)
    for key in ("k1", "k2"):
        job.add(email_delivery(key, to=f"{key}@example.com"))
        await job.run(key, now=NOW)
    assert job.attempts.recovery_turns == ["deliver:k1:2", "deliver:k2:2"]
    await job.dispatcher.drain()
    assert {job.attempts.status(key) for key in ("k1", "k2")} == {DeliveryStatus.SENT}
    assert sorted(job.attempts.called_off) == ["deliver:k1:2", "deliver:k2:2"]
    assert len(job.outbox.envelopes) == 2


async def test_a_send_in_flight_that_must_retry_moves_its_recovery_turn() -> None:
    job = SendingJob(concurrency=2)
    job.smtp.codes = [451]
    job.add(email_delivery("k1"))
    await job.run("k1", now=NOW)
    await job.dispatcher.drain()
    retry_at = job.attempts.deliveries["k1"].state.next_attempt_at
    assert retry_at is not None
    assert job.attempts.moved_turns == [("deliver:k1:2", retry_at)]
    assert job.attempts.called_off == []
