"""A record just under the broker's size limit, refused: its dead-letter copy (the same
bytes plus the reasons) no longer fits the broker. It must not stop the relay: the events
and dead letters written after it still go out, once each."""

from __future__ import annotations

from dataclasses import replace

import pytest

from binome_shared.contracts.topics import HR_COMMANDS
from tests.support.edges.cases import Case, Verdict
from tests.support.edges.hostile import replaced
from tests.support.edges.ledger import report
from tests.support.edges.sizes import (
    HEADROOM,
    batch_size,
    key_on_another_partition,
    max_message_bytes,
    padded_to,
)
from tests.support.edges.stage import PROGRAMME, EdgeStage

pytestmark = pytest.mark.e2e


async def test_a_refused_record_at_the_size_limit_jams_no_relay(edge_stage: EdgeStage) -> None:
    stage = edge_stage
    limit = await max_message_bytes(stage.kafka.bootstrap, HR_COMMANDS.full_name(stage.prefix))
    at_limit = padded_to(stage.enrolment("at-size-limit"), limit)
    assert limit - HEADROOM - 8 <= batch_size(at_limit) <= limit - HEADROOM

    def refused(stem: str) -> Case:
        return replaced(
            stage.enrolment(stem), ("participant", "role"), "boss", verdict=Verdict.REFUSE
        )

    # Its dead letter travels beside the oversized one's, in another partition's batch:
    # a relay that retries the whole claim publishes it again on every retry.
    elsewhere = replace(
        refused("refused-after-elsewhere"),
        key=key_on_another_partition(PROGRAMME.encode(), HR_COMMANDS.partitions),
    )
    cases = [
        refused("refused-before"),
        stage.enrolment(),
        at_limit,
        elsewhere,
        stage.enrolment(),
        stage.objective(),
        refused("refused-after"),
        stage.enrolment(),
        stage.preview_round(),
    ]

    await stage.send(cases)

    problems = await stage.problems(cases)
    problems += await stage.still_serving()
    assert not problems, report(problems)
