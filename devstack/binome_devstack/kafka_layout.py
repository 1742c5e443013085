"""Which shape of Kafka a stack dir holds (one node or three, plaintext or secured).

The shape is chosen by ``binome-stack up --brokers N --secure`` and fixed by the storage
formatted for it, so it is recorded in ``<stack dir>/kafka/layout``: ``down``, ``status``,
``env`` and ``logs`` read it back, and an ``up`` asking for another shape is refused
rather than silently starting a broker whose storage, users and ports do not match.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from binome_devstack.errors import StackError
from binome_devstack.messages import text
from binome_devstack.settings import StackSettings

SECURE_WORD = "secure"
PLAIN_WORD = "plain"


def layout_file(settings: StackSettings) -> Path:
    """``<stack dir>/kafka/layout``: ``brokers=<n> secure|plain``."""
    return settings.kafka_dir / "layout"


def describe_layout(brokers: int, *, secure: bool) -> str:
    """The one-line form written to the layout file and shown in errors."""
    return f"brokers={brokers} {SECURE_WORD if secure else PLAIN_WORD}"


def read_layout(settings: StackSettings) -> tuple[int, bool] | None:
    """``(brokers, secure)`` recorded in the stack dir, or None if nothing was recorded."""
    try:
        words = layout_file(settings).read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return None
    brokers = next((int(word[8:]) for word in words if word.startswith("brokers=")), 1)
    return brokers, SECURE_WORD in words


def with_recorded_layout(settings: StackSettings) -> StackSettings:
    """``settings`` with the shape the stack dir was made with (unchanged if none)."""
    recorded = read_layout(settings)
    if recorded is None:
        return settings
    brokers, secure = recorded
    return dataclasses.replace(settings, kafka_brokers=brokers, kafka_secure=secure)


def record_layout(settings: StackSettings) -> None:
    """Check that the stack dir holds no Kafka of another shape, then record this one.

    A stack dir formatted before layouts were recorded holds a one-node plaintext Kafka.
    """
    wanted = describe_layout(settings.kafka_brokers, secure=settings.kafka_secure)
    recorded = read_layout(settings)
    formatted = (settings.kafka_dir / "data" / "meta.properties").is_file()
    if recorded is None and formatted:
        recorded = (1, False)
    if recorded is not None:
        held = describe_layout(recorded[0], secure=recorded[1])
        if held != wanted:
            raise StackError(text("layout_mismatch", recorded=held, wanted=wanted))
    if settings.kafka_brokers == 1 and not settings.kafka_secure:
        return  # the plain one-node stack writes nothing new into its directory
    path = layout_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(wanted + "\n", encoding="utf-8")
