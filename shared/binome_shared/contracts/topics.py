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
    """The service that writes it, ``hr`` for inbound commands from HR platforms, or
    ``shared`` for a topic several services write (then named in ``writers``)."""
    writers: tuple[str, ...] = ()
    """The services that write a shared topic; empty when its owner is its only writer."""

    @property
    def written_by(self) -> tuple[str, ...]:
        """Who may write it: the services of a shared topic, else its owner."""
        return self.writers or (self.owner,)

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
PRIVACY_EVENTS = TopicSpec(
    name="binome.privacy.events",
    partitions=3,
    key="participant_id",
    description=(
        "Proofs of GDPR erasure for the HR platform: each service says what it erased of a "
        "person (counts by kind, no personal data). Keyed by participant."
    ),
    owner="shared",
    writers=("pairing", "sessions", "notifications"),
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    HR_COMMANDS,
    SESSION_COMMANDS,
    PAIRING_EVENTS,
    SESSIONS_EVENTS,
    NOTIFICATIONS_EVENTS,
    PRIVACY_EVENTS,
)
