"""Records of every shape in one burst, valid commands between them, on the real platform:
each hostile record is refused once by every service that reads it, each valid command
has exactly one effect, and the services go on serving."""

from __future__ import annotations

import pytest

from tests.support.edges.corpus import raw_corpus
from tests.support.edges.ledger import report
from tests.support.edges.stage import EdgeStage

pytestmark = pytest.mark.e2e


async def test_every_record_shape_has_one_outcome_and_no_valid_command_is_lost(
    edge_stage: EdgeStage,
) -> None:
    cases = raw_corpus(edge_stage.enrolment)

    await edge_stage.send(cases)

    problems = await edge_stage.problems(cases)
    problems += await edge_stage.still_serving()
    assert not problems, report(problems)
