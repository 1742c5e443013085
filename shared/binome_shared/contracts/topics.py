"""Every Kafka topic Binôme reads or writes, defined once.

Keys keep order where it matters: HR commands are keyed by programme (an enrolment is seen
before the matching request that follows it), pair-scoped events by pair.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic's base name (before any deployment prefix), size and purpose."""

    name: str
    partitions: int
    key: str
    description: str
    owner: str
    """The service that writes it, or ``hr`` for inbound commands from HR platforms."""

    def full_name(self, prefix: str = "") -> str:
        """The topic's name in a deployment where every topic starts with ``prefix``."""
        return f"{prefix}{self.name}"

    def dead_letter_name(self, prefix: str = "") -> str:
        """Where messages that cannot be processed from this topic are parked, with a reason."""
        return f"{prefix}{self.name}{DEAD_LETTER_SUFFIX}"


DEAD_LETTER_SUFFIX = ".dlq"

HR_COMMANDS = TopicSpec(
    name="binome.hr.commands",
    partitions=6,
    key="programme_id",
    description=(
        "Commands from HR platforms about programmes, participants and matching. "
        "Keyed by programme so a programme's commands are handled in the order sent."
    ),
    owner="hr",
)
SESSION_COMMANDS = TopicSpec(
    name="binome.sessions.commands",
    partitions=6,
    key="pair_id",
    description=(
        "Commands from HR platforms and calendar tools about a pair's sessions, objectives "
        "and feedback. Keyed by pair."
    ),
    owner="hr",
)
PAIRING_EVENTS = TopicSpec(
    name="binome.pairing.events",
    partitions=6,
    key="pair_id or programme_id",
    description="Facts from pairing: proposed, formed and dissolved pairs, matching rounds.",
    owner="pairing",
)
SESSIONS_EVENTS = TopicSpec(
    name="binome.sessions.events",
    partitions=6,
    key="pair_id or programme_id",
    description="Facts from sessions: the life of every pair's sessions, objectives, feedback.",
    owner="sessions",
)
NOTIFICATIONS_EVENTS = TopicSpec(
    name="binome.notifications.events",
    partitions=3,
    key="programme_id",
    description="Facts from notifications: messages sent or failed (no personal data).",
    owner="notifications",
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    HR_COMMANDS,
    SESSION_COMMANDS,
    PAIRING_EVENTS,
    SESSIONS_EVENTS,
    NOTIFICATIONS_EVENTS,
)
