"""The pairing service end to end on the real broker and Postgres: HR commands in, pairs out."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_shared.contracts.hr_commands import (
    ApprovePair,
    EnrolParticipant,
    RecordReportingLines,
    RejectPair,
    RequestMatching,
    WithdrawParticipant,
)
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    PairDissolved,
    PairFormed,
    PairProposed,
    PairRejected,
)
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS
from binome_shared.messaging.cloudevents import KafkaRecord, encode
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes
from tests.support.programmes import hr_command, programme_definition
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def enrol_cohort(
    kafka: Kafka, programme_id: str, *, approval: ApprovalMode, mentees: int = 12, mentors: int = 16
) -> Any:
    cohort = generate_cohort(mentees=mentees, mentors=mentors, seed=7)
    rules = cohort.rules.model_copy(update={"approval_mode": approval})
    await kafka.publish(hr_command(programme_definition(rules), programme_id=programme_id))
    if cohort.reporting_lines:
        await kafka.publish(
            hr_command(
                RecordReportingLines(lines=cohort.reporting_lines), programme_id=programme_id
            )
        )
    for profile in cohort.participants:
        await kafka.publish(
            hr_command(EnrolParticipant(participant=profile), programme_id=programme_id)
        )
    return cohort


def of_type(envelopes: list[Any], kind: type) -> list[Any]:
    return [envelope.data for envelope in envelopes if isinstance(envelope.data, kind)]


async def test_a_round_in_automatic_mode_forms_explained_pairs_and_reports_the_unmatched(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing")
    await pairing.wait_ready()
    cohort = await enrol_cohort(kafka, "prog-auto", approval=ApprovalMode.AUTOMATIC)
    await kafka.publish(hr_command(RequestMatching(round_id="r1"), programme_id="prog-auto"))

    await eventually(
        lambda: database.fetchval("pairing", "SELECT count(*) FROM pairs WHERE status = 'formed'"),
        12,
        timeout=90,
    )
    events = await read_envelopes(kafka, PAIRING_EVENTS, expect=13)
    formed = of_type(events, PairFormed)
    [completed] = of_type(events, MatchingCompleted)
    assert len(formed) == completed.pairs == 12
    assert completed.mentees == 12
    assert completed.mentors == 16
    assert not completed.preview
    mentee_ids = {p.participant_id for p in cohort.mentees}
    assert {pair.mentee.participant_id for pair in formed} == mentee_ids
    for pair in formed:
        assert 0 < pair.explanation.score <= 1
        assert pair.explanation.summary.fr
        assert pair.explanation.summary.en
        assert "mentor_younger" in pair.explanation.constraints_checked
    unmatched_mentors = {u.participant_id for u in completed.unmatched if u.role == "mentor"}
    used = {pair.mentor.participant_id for pair in formed}
    assert unmatched_mentors == {p.participant_id for p in cohort.mentors} - used
    assert all(u.reason.fr for u in completed.unmatched)
    assert all(u.reason.en for u in completed.unmatched)
    assert all(envelope.programme_id == "prog-auto" for envelope in events)


async def test_approval_mode_withdrawal_repair_and_refused_commands(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing")
    await pairing.wait_ready()
    cohort = await enrol_cohort(
        kafka, "prog-hr", approval=ApprovalMode.HR_APPROVES, mentees=6, mentors=14
    )
    duplicate = EnrolParticipant(participant=cohort.mentees[0])
    await kafka.publish(hr_command(duplicate, programme_id="prog-hr"))
    await kafka.publish(
        hr_command(EnrolParticipant(participant=cohort.mentors[0]), programme_id="nowhere")
    )
    wrong_type = encode(
        hr_command(duplicate, programme_id="prog-hr"), topic=HR_COMMANDS.full_name(kafka.prefix)
    )
    await kafka.send(
        KafkaRecord(
            topic=wrong_type.topic,
            key=wrong_type.key,
            headers=wrong_type.headers,
            value=wrong_type.value.replace(b'"birth_year":', b'"birth_year":"old","x":'),
        )
    )
    await kafka.publish(hr_command(RequestMatching(round_id="r1"), programme_id="prog-hr"))

    await eventually(
        lambda: database.fetchval("pairing", "SELECT rounds_run FROM programmes"), 1, timeout=90
    )
    first_round = await read_envelopes(kafka, PAIRING_EVENTS, expect=2)
    [completed] = of_type(first_round, MatchingCompleted)
    proposals = of_type(first_round, PairProposed)
    assert len(proposals) == completed.pairs >= 3
    assert await database.fetchval(
        "pairing", "SELECT count(*) FROM pairs WHERE status = 'proposed'"
    ) == len(proposals)
    assert (
        await database.fetchval("pairing", "SELECT count(*) FROM pairs WHERE status = 'formed'")
        == 0
    )

    dead = await kafka.read_all(HR_COMMANDS.dead_letter_name(kafka.prefix), expect=3)
    codes = Counter(dict(record.headers)["binome_dlq_code"].decode() for record in dead)
    assert codes == {"duplicate_participant": 1, "unknown_programme": 1, "schema_invalid": 1}

    approved, rejected, *_ = proposals
    await kafka.publish(hr_command(ApprovePair(pair_id=approved.pair_id), programme_id="prog-hr"))
    await kafka.publish(
        hr_command(RejectPair(pair_id=rejected.pair_id, reason="même site"), programme_id="prog-hr")
    )
    await kafka.publish(
        hr_command(ApprovePair(pair_id=approved.pair_id), programme_id="prog-hr")
    )  # twice: refused
    await eventually(
        lambda: database.fetchval(
            "pairing", "SELECT status FROM pairs WHERE pair_id = $1", approved.pair_id
        ),
        "formed",
    )
    await eventually(
        lambda: database.fetchval(
            "pairing", "SELECT status FROM pairs WHERE pair_id = $1", rejected.pair_id
        ),
        "rejected",
    )

    # The approved pair's mentor withdraws: the pair is dissolved and its mentee re-paired.
    await kafka.publish(
        hr_command(
            WithdrawParticipant(participant_id=approved.mentor.participant_id),
            programme_id="prog-hr",
        )
    )
    await eventually(
        lambda: database.fetchval("pairing", "SELECT rounds_run FROM programmes"), 2, timeout=60
    )
    events = await read_envelopes(kafka, PAIRING_EVENTS, expect=len(proposals) + 6)
    assert [e.pair_id for e in of_type(events, PairFormed)] == [approved.pair_id]
    assert [e.pair_id for e in of_type(events, PairRejected)] == [rejected.pair_id]
    [dissolved] = of_type(events, PairDissolved)
    assert dissolved.pair_id == approved.pair_id
    assert dissolved.reason == "participant_withdrawn"
    repair = [e for e in of_type(events, MatchingCompleted) if e.round_id.startswith("repair-")]
    assert len(repair) == 1
    assert repair[0].pairs_kept == len(proposals) - 2, "untouched proposals stay as they are"
    repaired = [p for p in of_type(events, PairProposed) if p.round_id == repair[0].round_id]
    still_alone = [u.participant_id for u in repair[0].unmatched if u.role == "mentee"]
    never_paired = {u.participant_id for u in completed.unmatched if u.role == "mentee"}
    freed = {approved.mentee.participant_id, rejected.mentee.participant_id} | never_paired
    assert {p.mentee.participant_id for p in repaired} | set(still_alone) == freed, (
        "only the people without a pair are re-solved; every other proposal stays"
    )
    pairs_again = {(p.mentor.participant_id, p.mentee.participant_id) for p in repaired}
    assert (rejected.mentor.participant_id, rejected.mentee.participant_id) not in pairs_again
    assert approved.mentor.participant_id not in {mentor for mentor, _ in pairs_again}
    dead = await kafka.read_all(HR_COMMANDS.dead_letter_name(kafka.prefix), expect=4)
    assert (
        Counter(dict(r.headers)["binome_dlq_code"].decode() for r in dead)["pair_not_proposed"] == 1
    )
