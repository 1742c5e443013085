"""Waiting, at start-up, until Kafka answers and the service's topics are as declared.

A service refuses to run on missing topics or on topics with fewer partitions than declared
(per-key order would break); it stays not ready, says why, and looks again, since someone
may add the partitions or create the topics meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiokafka.errors import KafkaConnectionError

from binome_shared.messaging.backoff import Backoff, sleep_unless
from binome_shared.runtime.kafka_diagnosis import kafka_refusal
from binome_shared.runtime.kafka_security import aiokafka_security
from binome_shared.runtime.settings import ServiceSettings
from binome_shared.runtime.topic_policy import TopicPolicy
from binome_shared.runtime.topics import TopicsNotAsDeclaredError, ensure_topics

if TYPE_CHECKING:
    from binome_shared.runtime.definition import ServiceDefinition

logger = logging.getLogger(__name__)

TOPIC_RECHECK_SECONDS = 30.0
"""How often a service refusing its topics looks again (someone may add partitions, or
create the missing ones)."""


async def wait_for_declared_topics(
    definition: ServiceDefinition, settings: ServiceSettings, stop: asyncio.Event
) -> bool:
    """Wait for Kafka, create missing topics (unless provisioned as code), and refuse
    (not ready, logged) missing topics or topics with fewer partitions than declared;
    False if stopped meanwhile."""
    topics = {*definition.subscriptions, *(m.topic for m in definition.publishes)}
    backoff = Backoff(first=0.5, cap=5.0)
    while not stop.is_set():
        try:
            await ensure_topics(
                settings.kafka_bootstrap_servers,
                sorted(topics, key=lambda t: t.name),
                policy=TopicPolicy.from_settings(settings),
                prefix=settings.topic_prefix,
                create=settings.create_topics,
                client_options=aiokafka_security(settings),
                dead_letters_of=definition.subscriptions,
            )
        except TopicsNotAsDeclaredError as error:
            logger.error(
                "refusing to run until the topics are as declared: %s; %s; checking again "
                "in %.0f s",
                error,
                error.remedy,
                TOPIC_RECHECK_SECONDS,
            )
            await sleep_unless(stop, TOPIC_RECHECK_SECONDS)
        except Exception as error:  # the broker is unreachable, or refuses us: wait
            delay = backoff.next()
            refusal = await _kafka_refusal(error, settings)
            if refusal is None:
                logger.warning(
                    "Kafka unavailable (%s); retrying in %.1f s", type(error).__name__, delay
                )
            else:
                logger.error(
                    "Kafka refuses this service: %s; not ready, retrying in %.1f s",
                    refusal,
                    delay,
                )
            await sleep_unless(stop, delay)
        else:
            return True
    return False


async def _kafka_refusal(error: Exception, settings: ServiceSettings) -> str | None:
    """Why the broker refuses this service (wrong password, untrusted certificate), asked
    of the broker directly: aiokafka reports any failed bootstrap as a connection error."""
    if not isinstance(error, KafkaConnectionError):
        return None
    return await kafka_refusal(settings.kafka_bootstrap_servers, settings)
