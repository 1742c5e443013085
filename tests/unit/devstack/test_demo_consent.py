"""The demo's consent step, its pure part: who declines and who accepts how (the plan the
e-mail readers follow), which events it waits for, and how the re-pairings after a decline
are counted for the summary."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from binome_devstack.demo_cohort import EXECUTIVE_GRADE
from binome_devstack.demo_consent import (
    events_of,
    in_consent_scope,
    of_repair,
)
from binome_devstack.demo_links import LinkKey, plan_consent, re_paired
from binome_shared.contracts.action_names import PAIR_ACCEPT, PAIR_DECLINE
from binome_shared.contracts.base import Message
from binome_shared.contracts.hr_commands import AcceptPair
from binome_shared.contracts.pairing_events import (
    REPAIR_ROUND_PREFIX,
    CallOffReason,
    MatchingCompleted,
    PairCalledOff,
    PairConsentRequested,
    PairFormed,
    PairProposed,
)
from tests.support.published import pair_event, published

pytestmark = pytest.mark.unit


def asked(pair_id: str, mentor: str, mentee: str) -> PairConsentRequested:
    proposed = pair_event(PairProposed, pair_id, mentor, mentee)
    return PairConsentRequested(
        **proposed.model_dump(), respond_by=datetime(2027, 2, 1, tzinfo=UTC)
    )


def formed(pair_id: str, mentor: str, mentee: str) -> PairFormed:
    return pair_event(PairFormed, pair_id, mentor, mentee)


# Five pairs, published in an order that is not their mentees' ids'.
REQUESTS = [
    asked("pair-c", "Y3", "M3"),
    asked("pair-a", "Y1", "M1"),
    asked("pair-e", "Y5", "M5"),
    asked("pair-b", "Y2", "M2"),
    asked("pair-d", "Y4", "M4"),
]


def test_the_first_mentees_by_id_decline_before_anyone_accepts() -> None:
    plan = plan_consent(REQUESTS, declines=1)

    assert plan.declined == ["pair-a"]
    assert plan.clicks == [
        LinkKey("pair-a", "M1", PAIR_DECLINE),  # the mentee alone; her mentor does not answer
        LinkKey("pair-b", "Y2", PAIR_ACCEPT),
        LinkKey("pair-b", "M2", PAIR_ACCEPT),
        LinkKey("pair-c", "Y3", PAIR_ACCEPT),
        LinkKey("pair-c", "M3", PAIR_ACCEPT),
        LinkKey("pair-e", "Y5", PAIR_ACCEPT),
        LinkKey("pair-e", "M5", PAIR_ACCEPT),
    ]
    # The third pair left after the declines (pair-d) is accepted by the HR platform.
    assert plan.by_platform == [
        AcceptPair(pair_id="pair-d", participant_id="Y4"),
        AcceptPair(pair_id="pair-d", participant_id="M4"),
    ]


def test_the_plan_depends_on_the_requests_not_on_the_order_pairing_published_them() -> None:
    assert plan_consent(list(reversed(REQUESTS)), declines=2) == plan_consent(REQUESTS, declines=2)


def test_two_declines_call_off_the_two_first_pairs_and_every_pair_is_answered_once() -> None:
    plan = plan_consent(REQUESTS, declines=2)

    assert plan.declined == ["pair-a", "pair-b"]
    assert [key.action for key in plan.clicks[:2]] == [PAIR_DECLINE, PAIR_DECLINE]
    assert PAIR_DECLINE not in {key.action for key in plan.clicks[2:]}
    answered = [key.pair_id for key in plan.clicks] + [a.pair_id for a in plan.by_platform]
    assert sorted(set(answered)) == sorted(request.pair_id for request in REQUESTS)
    assert [a.pair_id for a in plan.by_platform] == ["pair-e", "pair-e"]


def test_no_decline_leaves_every_pair_to_be_accepted() -> None:
    plan = plan_consent(REQUESTS, declines=0)

    assert plan.declined == []
    assert {key.action for key in plan.clicks} == {PAIR_ACCEPT}
    assert {a.pair_id for a in plan.by_platform} == {"pair-c"}
    assert len(plan.clicks) + len(plan.by_platform) == 2 * len(REQUESTS)


def test_more_declines_than_pairs_asked_declines_them_all_and_nothing_more() -> None:
    plan = plan_consent(REQUESTS[:2], declines=3)

    assert plan.declined == ["pair-a", "pair-c"]
    assert plan.clicks == [
        LinkKey("pair-a", "M1", PAIR_DECLINE),
        LinkKey("pair-c", "M3", PAIR_DECLINE),
    ]
    assert plan.by_platform == []


def test_a_pair_formed_again_for_either_member_of_a_declined_pair_counts_as_re_paired() -> None:
    events: list[Message] = [
        asked("pair-a", "Y1", "M1"),
        asked("pair-b", "Y2", "M2"),
        PairCalledOff(pair_id="pair-a", reason=CallOffReason.DECLINED),
        formed("pair-b", "Y2", "M2"),  # accepted, not about pair-a's people
        formed("pair-r1", "Y9", "M1"),  # the declining mentee, with a new mentor
        formed("pair-r2", "Y1", "M8"),  # her former mentor, with a new mentee
        formed("pair-x", "Y7", "M7"),  # strangers to the decline
    ]

    assert re_paired(events, {"pair-a"}) == 2
    assert re_paired(events, set()) == 0


def test_the_declined_pair_itself_is_never_counted_as_a_re_pairing() -> None:
    events: list[Message] = [asked("pair-a", "Y1", "M1"), formed("pair-a", "Y1", "M1")]

    assert re_paired(events, {"pair-a"}) == 0


def test_members_are_known_only_from_the_consent_request_of_the_declined_pair() -> None:
    # PairCalledOff names only the pair: without its consent request nobody is re-paired.
    events: list[Message] = [formed("pair-r1", "Y9", "M1")]

    assert re_paired(events, {"pair-a"}) == 0


def test_the_repair_rounds_events_are_told_from_the_rounds_hr_asked_for() -> None:
    repair = f"{REPAIR_ROUND_PREFIX}0a1b2c3d4e5f"
    first = pair_event(PairProposed, "pair-1", "Y1", "M1")
    repaired = first.model_copy(update={"pair_id": "pair-2", "round_id": repair})
    done = MatchingCompleted(
        round_id=repair, preview=False, mentors=1, mentees=1, pairs=1, pairs_kept=0
    )
    envelopes = [published(data, programme_id="prog") for data in (first, done, repaired)]

    assert events_of(envelopes, PairProposed) == [first, repaired]
    assert events_of(envelopes, PairProposed, of_repair) == [repaired]
    assert events_of(envelopes, MatchingCompleted, of_repair) == [done]
    assert events_of(envelopes, PairConsentRequested) == []


def test_only_the_pairs_of_executive_mentees_are_put_to_their_members() -> None:
    proposals = [
        pair_event(PairProposed, "pair-1", "Y1", "M1"),
        pair_event(PairProposed, "pair-2", "Y2", "M2"),
        pair_event(PairProposed, "pair-3", "Y3", "M3"),
    ]
    grades = {"M1": EXECUTIVE_GRADE - 1, "M2": EXECUTIVE_GRADE, "M3": EXECUTIVE_GRADE + 2}

    assert in_consent_scope(proposals, grades) == 2
    assert in_consent_scope(proposals[:1], grades) == 0
