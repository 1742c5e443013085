"""Per-pair objectives: set on both sides, progressed 0–100 %, closed as met or not met."""

from __future__ import annotations

import pytest

from binome_sessions.domain import (
    CommandRejectedError,
    ObjectiveClosed,
    ObjectiveProgressed,
    ObjectiveSet,
    ObjectiveStatus,
    PairCompleted,
    PairTrack,
    RejectionCode,
)
from binome_shared.contracts.sessions_messages import (
    ObjectiveOutcome,
    ParticipantRole,
)

from .sessions_fakes import at, event_names, hold, make_plan, make_track

pytestmark = pytest.mark.unit

NOW = at("2025-02-01")


def rejected(code: RejectionCode) -> pytest.RaisesExc[CommandRejectedError]:
    return pytest.raises(CommandRejectedError, match=rf"^{code.value}:")


def track_with_objective(
    objective_id: str = "obj-1", side: ParticipantRole = ParticipantRole.MENTEE
) -> PairTrack:
    track = make_track()
    track.set_objective(
        objective_id=objective_id,
        side=side,
        statement="Publier un article LinkedIn par mois",
        now=NOW,
    )
    return track


def test_both_sides_set_objectives() -> None:
    track = make_track()

    track.set_objective(
        objective_id="obj-1",
        side=ParticipantRole.MENTEE,
        statement="  Animer un Teams d'équipe  ",
        now=NOW,
    )
    track.set_objective(
        objective_id="obj-2",
        side=ParticipantRole.MENTOR,
        statement="Comprendre comment un comité de direction décide",
        now=NOW,
    )

    assert track.events == [
        ObjectiveSet(
            pair_id="pair-1",
            programme_id="prog-orange-2025",
            occurred_at=NOW,
            objective_id="obj-1",
            owner=ParticipantRole.MENTEE,
            title="Animer un Teams d'équipe",
        ),
        ObjectiveSet(
            pair_id="pair-1",
            programme_id="prog-orange-2025",
            occurred_at=NOW,
            objective_id="obj-2",
            owner=ParticipantRole.MENTOR,
            title="Comprendre comment un comité de direction décide",
        ),
    ]
    assert [(o.progress_percent, o.status) for o in track.objectives] == [
        (0, ObjectiveStatus.OPEN),
        (0, ObjectiveStatus.OPEN),
    ]


def test_an_objective_id_is_used_once() -> None:
    track = track_with_objective()
    with rejected(RejectionCode.OBJECTIVE_ALREADY_EXISTS):
        track.set_objective(
            objective_id="obj-1", side=ParticipantRole.MENTOR, statement="Autre", now=NOW
        )


@pytest.mark.parametrize("statement", ["", "   ", "x" * 501])
def test_an_objective_needs_a_statement_of_reasonable_length(statement: str) -> None:
    with rejected(RejectionCode.OBJECTIVE_STATEMENT_INVALID):
        make_track().set_objective(
            objective_id="obj-1", side=ParticipantRole.MENTEE, statement=statement, now=NOW
        )


def test_each_side_has_at_most_five_objectives() -> None:
    track = make_track()
    for number in range(5):
        track.set_objective(
            objective_id=f"mentee-{number}",
            side=ParticipantRole.MENTEE,
            statement="Objectif",
            now=NOW,
        )

    with rejected(RejectionCode.TOO_MANY_OBJECTIVES):
        track.set_objective(
            objective_id="mentee-5", side=ParticipantRole.MENTEE, statement="Un de trop", now=NOW
        )
    track.set_objective(
        objective_id="mentor-0", side=ParticipantRole.MENTOR, statement="Objectif", now=NOW
    )
    assert len(track.objectives) == 6


def test_progress_is_recorded_with_its_previous_value_and_may_go_down() -> None:
    track = track_with_objective()

    track.update_objective_progress(objective_id="obj-1", progress_percent=60, now=NOW)
    track.update_objective_progress(objective_id="obj-1", progress_percent=40, now=at("2025-02-08"))

    assert track.events[-2:] == [
        ObjectiveProgressed(
            pair_id="pair-1",
            programme_id="prog-orange-2025",
            occurred_at=NOW,
            objective_id="obj-1",
            owner=ParticipantRole.MENTEE,
            previous_percent=0,
            progress_percent=60,
        ),
        ObjectiveProgressed(
            pair_id="pair-1",
            programme_id="prog-orange-2025",
            occurred_at=at("2025-02-08"),
            objective_id="obj-1",
            owner=ParticipantRole.MENTEE,
            previous_percent=60,
            progress_percent=40,
        ),
    ]
    assert track.objectives[0].updated_at == at("2025-02-08")


def test_the_same_progress_again_records_nothing() -> None:
    track = track_with_objective()
    track.update_objective_progress(objective_id="obj-1", progress_percent=30, now=NOW)

    track.update_objective_progress(objective_id="obj-1", progress_percent=30, now=NOW)

    assert event_names(track) == ["ObjectiveSet", "ObjectiveProgressed"]


@pytest.mark.parametrize("percent", [-1, 101])
def test_progress_is_a_percentage(percent: int) -> None:
    with rejected(RejectionCode.PROGRESS_OUT_OF_RANGE):
        track_with_objective().update_objective_progress(
            objective_id="obj-1", progress_percent=percent, now=NOW
        )


def test_progress_of_an_unknown_objective_is_rejected() -> None:
    with rejected(RejectionCode.UNKNOWN_OBJECTIVE):
        make_track().update_objective_progress(objective_id="nope", progress_percent=10, now=NOW)


@pytest.mark.parametrize("outcome", list(ObjectiveOutcome))
def test_closing_records_the_outcome_and_freezes_the_objective(outcome: ObjectiveOutcome) -> None:
    track = track_with_objective()
    track.update_objective_progress(objective_id="obj-1", progress_percent=80, now=NOW)

    track.close_objective(objective_id="obj-1", outcome=outcome, now=at("2025-03-01"))

    assert track.events[-1] == ObjectiveClosed(
        pair_id="pair-1",
        programme_id="prog-orange-2025",
        occurred_at=at("2025-03-01"),
        objective_id="obj-1",
        owner=ParticipantRole.MENTEE,
        outcome=outcome,
        progress_percent=80,
    )
    assert track.objectives[0].status.value == outcome.value
    with rejected(RejectionCode.OBJECTIVE_CLOSED):
        track.update_objective_progress(objective_id="obj-1", progress_percent=90, now=NOW)
    with rejected(RejectionCode.OBJECTIVE_CLOSED):
        track.close_objective(objective_id="obj-1", outcome=ObjectiveOutcome.MET, now=NOW)


def test_after_completion_objectives_can_be_closed_but_not_added() -> None:
    track = make_track(plan=make_plan(sessions=[make_plan().sessions[0]]))
    track.set_objective(
        objective_id="obj-1", side=ParticipantRole.MENTEE, statement="Objectif", now=NOW
    )
    track.set_objective(
        objective_id="obj-2", side=ParticipantRole.MENTOR, statement="Objectif", now=NOW
    )
    track.close_objective(objective_id="obj-2", outcome=ObjectiveOutcome.MET, now=NOW)
    hold(track, "kick-off", at("2025-02-03"))
    completed = track.events[-1]
    assert isinstance(completed, PairCompleted)
    assert (completed.objectives_met, completed.objectives_set) == (1, 2)

    with rejected(RejectionCode.PAIR_CLOSED):
        track.set_objective(
            objective_id="obj-3", side=ParticipantRole.MENTEE, statement="Trop tard", now=NOW
        )
    track.update_objective_progress(objective_id="obj-1", progress_percent=100, now=NOW)
    track.close_objective(objective_id="obj-1", outcome=ObjectiveOutcome.MET, now=NOW)
    assert event_names(track)[-2:] == ["ObjectiveProgressed", "ObjectiveClosed"]


def test_a_dissolved_pair_refuses_objective_commands() -> None:
    track = track_with_objective()
    track.dissolve(now=NOW)

    with rejected(RejectionCode.PAIR_DISSOLVED):
        track.set_objective(
            objective_id="obj-2", side=ParticipantRole.MENTOR, statement="Objectif", now=NOW
        )
    with rejected(RejectionCode.PAIR_DISSOLVED):
        track.update_objective_progress(objective_id="obj-1", progress_percent=10, now=NOW)
    with rejected(RejectionCode.PAIR_DISSOLVED):
        track.close_objective(objective_id="obj-1", outcome=ObjectiveOutcome.MET, now=NOW)


def test_closing_can_set_the_final_progress_in_the_same_command() -> None:
    track = track_with_objective()

    with rejected(RejectionCode.PROGRESS_OUT_OF_RANGE):
        track.close_objective(
            objective_id="obj-1", outcome=ObjectiveOutcome.MET, progress_percent=120, now=NOW
        )
    assert track.objectives[0].status is ObjectiveStatus.OPEN

    track.close_objective(
        objective_id="obj-1", outcome=ObjectiveOutcome.MET, progress_percent=100, now=NOW
    )

    progressed, closed = track.events[-2:]
    assert isinstance(progressed, ObjectiveProgressed)
    assert (progressed.previous_percent, progressed.progress_percent) == (0, 100)
    assert isinstance(closed, ObjectiveClosed)
    assert (closed.outcome, closed.progress_percent) == (ObjectiveOutcome.MET, 100)
