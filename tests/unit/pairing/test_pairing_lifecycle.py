"""The statuses' rules, the pair id and the row a stored pair is written as."""

from __future__ import annotations

import re

import pytest

from binome_pairing.adapters import repository
from binome_pairing.adapters.repository import PairRecord, pair_columns
from binome_pairing.domain.lifecycle import (
    PairStatus,
    kept_pair_statuses,
    new_pair_status,
    pair_id_for,
    role_in_pair,
)
from binome_shared.contracts.hr_commands import MatchingScope
from binome_shared.contracts.pairing_events import PairExplanation, PairSide
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.values import LocalisedText

from .service_fakes import NOW

pytestmark = pytest.mark.unit


def test_a_pair_id_depends_on_programme_round_and_members_only() -> None:
    # The value the service has always given: a round solved again after an upgrade names
    # its pairs as before.
    assert pair_id_for("prog-2027", "r1", ("M1", "E1")) == "pair-a859b152bc27594e"
    assert pair_id_for("prog-2027", "r1", ("M1", "E1")) == pair_id_for(
        "prog-2027", "r1", ("M1", "E1")
    )
    assert pair_id_for("prog-2027", "r2", ("M1", "E1")) != pair_id_for(
        "prog-2027", "r1", ("M1", "E1")
    )


def test_a_round_keeps_proposals_only_when_it_pairs_the_unmatched() -> None:
    # Pairs put to their members for consent are kept by every round (issue #17).
    assert kept_pair_statuses(MatchingScope.UNMATCHED) == (
        PairStatus.FORMED,
        PairStatus.PROPOSED,
        PairStatus.AWAITING_CONSENT,
    )
    assert kept_pair_statuses(MatchingScope.FULL) == (
        PairStatus.FORMED,
        PairStatus.AWAITING_CONSENT,
    )
    assert new_pair_status(formed_at_once=True) is PairStatus.FORMED
    assert new_pair_status(formed_at_once=False) is PairStatus.PROPOSED


def test_the_role_in_a_pair_is_read_from_its_mentor() -> None:
    assert role_in_pair("M1", mentor_id="M1") is ParticipantRole.MENTOR
    assert role_in_pair("E1", mentor_id="M1") is ParticipantRole.MENTEE


def test_a_stored_pair_is_laid_out_in_the_insert_s_column_order() -> None:
    explanation = PairExplanation(
        score=0.5, breakdown={"same_site": 1.0}, summary=LocalisedText(fr="Été", en="Summer")
    )
    pair = PairRecord(
        pair_id="pair-1",
        programme_id="prog-2027",
        round_id="r1",
        mentor=PairSide(participant_id="M1", business_unit="Digital"),
        mentee=PairSide(participant_id="E1", business_unit="Finance"),
        mentor_trained=True,
        status=PairStatus.PROPOSED,
        score=0.5,
        explanation=explanation,
        proposed_at=NOW,
        decided_at=None,
    )
    names = re.findall(r"\w+", repository._PAIR_COLUMNS)
    row = dict(zip(names, pair_columns(pair), strict=True))
    assert PairExplanation.model_validate_json(row.pop("explanation")) == explanation
    assert row == {
        "pair_id": "pair-1",
        "programme_id": "prog-2027",
        "round_id": "r1",
        "mentor_id": "M1",
        "mentee_id": "E1",
        "mentor_unit": "Digital",
        "mentee_unit": "Finance",
        "mentor_trained": True,
        "status": "proposed",
        "score": 0.5,
        "proposed_at": NOW,
        "decided_at": None,
    }
