"""Where the start-up probe asks the broker why it refuses the service."""

from __future__ import annotations

import pytest

from binome_shared.runtime.kafka_diagnosis import first_server

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("bootstrap", "server"),
    [
        ("127.0.0.1:19092", ("127.0.0.1", 19092)),
        ("kafka-0.kafka:9093, kafka-1.kafka:9093", ("kafka-0.kafka", 9093)),
        ("[::1]:9094,[::1]:9095", ("::1", 9094)),
        ("kafka", ("kafka", 9092)),
    ],
)
def test_the_probe_asks_the_first_bootstrap_server(bootstrap: str, server: tuple[str, int]) -> None:
    assert first_server(bootstrap) == server
