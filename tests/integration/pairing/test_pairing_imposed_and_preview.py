"""HR-imposed pairs and full previews on the real broker and Postgres: a list breaking a rule
is dead-lettered whole with the rule named, the same list with an override forms its pairs
and the engine completes the round around them, and a preview with other rules lists every
pair with its change, keeping nothing. Events are counted exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from binome_devstack.cohort_generator import GeneratedCohort, generate_cohort
from binome_pairing.domain import solve
from binome_pairing.domain.encoding import encode_cohort
from binome_pairing.domain.evaluation import feasible
from binome_shared.contracts.hr_commands import (
    EnrolParticipant,
    MatchingScope,
    RecordReportingLines,
    RequestMatching,
)
from binome_shared.contracts.imposed_pairs import ImposedPair, ImposePairs, PairOverride
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    MatchingPreviewed,
    PairChange,
    PairFormed,
)
from binome_shared.contracts.programme import ApprovalMode, ProgrammeRules
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes
from tests.support.programmes import hr_command, programme_definition

pytestmark = pytest.mark.integration

PROGRAMME = "prog-comex"
REASON = "Choix du comité exécutif / executive committee's choice"


def of_type(envelopes: list[Any], kind: type) -> list[Any]:
    return [envelope.data for envelope in envelopes if isinstance(envelope.data, kind)]


def fitting_and_breaking(
    rules: ProgrammeRules, cohort: GeneratedCohort
) -> tuple[tuple[str, str], tuple[str, str]]:
    """A (mentor, mentee) pair the rules allow, and one of two other people they forbid."""
    mentees, mentors = cohort.mentees, cohort.mentors
    encoded = encode_cohort(
        rules=rules, mentees=mentees, mentors=mentors, reporting_lines=cohort.reporting_lines
    )
    allowed = feasible(encoded, np.arange(len(mentees))[:, None], np.arange(len(mentors))[None, :])
    row, column = (int(i) for i in np.argwhere(allowed)[0])
    others = [(int(r), int(c)) for r, c in np.argwhere(~allowed) if r != row and c != column]
    bad_row, bad_column = others[0]
    return (
        (mentors[column].participant_id, mentees[row].participant_id),
        (mentors[bad_column].participant_id, mentees[bad_row].participant_id),
    )


async def test_imposed_pairs_then_a_preview_with_other_rules(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing")
    await pairing.wait_ready()
    cohort = generate_cohort(mentees=12, mentors=16, seed=7)
    rules = cohort.rules.model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC})
    fitting, breaking = fitting_and_breaking(rules, cohort)
    expected = solve(
        rules=rules,
        participants=cohort.participants,
        reporting_lines=cohort.reporting_lines,
        imposed_pairs=[fitting, breaking],
    )
    broken_rules = next(p for p in expected.pairs if p.imposed and p.mentee_id == breaking[1])
    broken_codes = [str(item) for item in broken_rules.constraints_violated]
    assert broken_codes, "the second pair must break a rule"
    other_rules = rules.model_copy(
        update={"constraints": rules.constraints.model_copy(update={"different_department": False})}
    )
    previewed = solve(
        rules=other_rules,
        participants=cohort.participants,
        reporting_lines=cohort.reporting_lines,
        locked_pairs=[(p.mentor_id, p.mentee_id) for p in expected.pairs],
    )
    commands: list[Any] = [
        programme_definition(rules),
        RecordReportingLines(lines=cohort.reporting_lines),
        *[EnrolParticipant(participant=person) for person in cohort.participants],
        ImposePairs(
            round_id="comex-1",
            pairs=[ImposedPair(mentor_id=m, mentee_id=e) for m, e in (fitting, breaking)],
        ),
        ImposePairs(
            round_id="comex-2",
            pairs=[
                ImposedPair(mentor_id=fitting[0], mentee_id=fitting[1]),
                ImposedPair(
                    mentor_id=breaking[0],
                    mentee_id=breaking[1],
                    override=PairOverride(reason=REASON),
                ),
            ],
        ),
        RequestMatching(round_id="try", scope=MatchingScope.FULL, preview=True, rules=other_rules),
    ]
    for command in commands:
        await kafka.publish(hr_command(command, programme_id=PROGRAMME))

    # Formed pairs and their report, then one preview part and its report; nothing else.
    events = await read_envelopes(kafka, PAIRING_EVENTS, expect=len(expected.pairs) + 3, timeout=90)
    assert len(events) == len(expected.pairs) + 3
    dead = await kafka.read_all(HR_COMMANDS.dead_letter_name(kafka.prefix), expect=1)
    assert len(dead) == 1
    letter = dict(dead[0].headers)
    code = broken_codes[0] if len(broken_codes) == 1 else "imposed_pairs_refused"
    assert letter["binome_dlq_code"].decode() == code
    assert "imposed_pairs[1]" in letter["binome_dlq_reason"].decode()

    formed = of_type(events, PairFormed)
    assert sorted((p.mentor.participant_id, p.mentee.participant_id) for p in formed) == sorted(
        (p.mentor_id, p.mentee_id) for p in expected.pairs
    )
    by_mentee = {p.mentee.participant_id: p for p in formed}
    overridden = by_mentee[breaking[1]].explanation.imposed
    assert overridden is not None
    assert (overridden.overridden, overridden.reason) == (broken_codes, REASON)
    assert by_mentee[fitting[1]].explanation.imposed is not None
    assert by_mentee[fitting[1]].explanation.imposed.overridden == []
    imposed_rows = await database.fetchval(
        "pairing",
        "SELECT count(*) FROM pairs WHERE jsonb_typeof(explanation->'imposed') = 'object'",
    )
    assert imposed_rows == 2

    real, preview = of_type(events, MatchingCompleted)
    assert (real.preview, real.pairs, real.pairs_kept) == (False, len(expected.pairs), 0)
    [part] = of_type(events, MatchingPreviewed)
    new_in_preview = [p for p in previewed.pairs if not p.locked]
    assert (part.part, part.parts, part.kept, part.broken) == (1, 1, len(formed), 0)
    assert part.new == len(new_in_preview) == preview.pairs
    assert preview.preview
    kept = {p.pair_id for p in part.pairs if p.change is PairChange.KEPT}
    assert kept == {p.pair_id for p in formed}
    assert sorted(
        (p.mentor.participant_id, p.mentee.participant_id)
        for p in part.pairs
        if p.change is PairChange.NEW
    ) == sorted((p.mentor_id, p.mentee_id) for p in new_in_preview)
    assert await database.fetchval("pairing", "SELECT count(*) FROM pairs") == len(formed)
