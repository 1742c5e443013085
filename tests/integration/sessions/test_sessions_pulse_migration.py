"""Migration 0005 on PostgreSQL: pairs already running when pulse check-ins arrive get their
first round when the domain would have set it, in their programme's time zone; pairs that
ended, and pairs whose track never started, get none."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from binome_sessions.domain import PairTrack
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.db.migrations import apply_migrations, service_migrations
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration

PULSE_DUE = "0005_pulse_due"
_INSERT_PAIR = """
INSERT INTO pairs (pair_id, tenant_id, programme_id, mentor_id, mentee_id, mentor_unit,
                   mentee_unit, formed_at, formed_by_event_id, status, state, version)
VALUES ($1, 'tenant-a', 'prog-a', $2, $3, 'Digital', 'Finance', $4, gen_random_uuid(), $5,
        $6::jsonb, 1)
"""


def stored_before_pulses(
    pair_id: str, *, formed_at: datetime, starts_on: date, time_zone: str
) -> PairTrack:
    plan = SessionPlan(starts_on=starts_on, ends_on=date(2027, 12, 17), time_zone=time_zone)
    return PairTrack.start(
        pair_id=pair_id,
        programme_id="prog-a",
        plan=plan,
        mentor_id=f"M-{pair_id}",
        mentee_id=f"E-{pair_id}",
        mentor_business_unit="Digital",
        mentee_business_unit="Finance",
        mentor_trained=True,
        formed_at=formed_at,
    )


def without_pulses(track: PairTrack) -> str:
    """The track as a service before pulse check-ins stored it: no ``pulses``, no ``pulse``."""
    state = track.to_dict()
    del state["pulses"]
    del state["plan"]["pulse"]
    return json.dumps(state)


async def test_running_pairs_get_their_first_round_as_the_domain_computes_it(
    database: ProvisionedDatabase,
) -> None:
    # Formed before its programme's first day: 30 days on Paris's calendar, across the change
    # to summer time (28 March 2027): midnight on 12 April in Paris, 22:00 UTC the day before.
    early = stored_before_pulses(
        "pair-early",
        formed_at=datetime(2027, 2, 20, 9, tzinfo=UTC),
        starts_on=date(2027, 3, 13),
        time_zone="Europe/Paris",
    )
    # Formed after it: 30 days after its formation.
    late = stored_before_pulses(
        "pair-late",
        formed_at=datetime(2027, 4, 2, 15, 45, tzinfo=UTC),
        starts_on=date(2027, 3, 1),
        time_zone="Pacific/Auckland",
    )
    conn = await database.connect("sessions")
    try:
        await conn.execute("DELETE FROM pairs")
        await conn.execute("ALTER TABLE pairs DROP COLUMN pulse_due_at")
        await conn.execute("DELETE FROM schema_migrations WHERE version = $1", PULSE_DUE)
        for track, status in ((early, "active"), (late, "active")):
            await conn.execute(
                _INSERT_PAIR,
                track.pair_id,
                track.mentor_id,
                track.mentee_id,
                track.formed_at,
                status,
                without_pulses(track),
            )
        await conn.execute(
            _INSERT_PAIR, "pair-over", "M9", "E9", late.formed_at, "completed", without_pulses(late)
        )
        await conn.execute(
            _INSERT_PAIR, "pair-unstarted", "M8", "E8", late.formed_at, "active", None
        )

        assert PULSE_DUE in await apply_migrations(conn, service_migrations("binome_sessions"))

        due = dict(await conn.fetch("SELECT pair_id, pulse_due_at FROM pairs"))
        rows = await conn.fetch("SELECT pair_id, state FROM pairs WHERE state IS NOT NULL")
    finally:
        await conn.close()

    assert due["pair-early"] == early.pulse_round_due_at(1)
    assert due["pair-early"] == datetime(2027, 4, 11, 22, tzinfo=UTC)
    assert (
        due["pair-late"] == late.pulse_round_due_at(1) == datetime(2027, 5, 2, 15, 45, tzinfo=UTC)
    )
    assert (due["pair-over"], due["pair-unstarted"]) == (None, None)
    stored = {row["pair_id"]: PairTrack.from_dict(json.loads(row["state"])) for row in rows}
    assert stored["pair-early"].pulses == []
    assert stored["pair-early"].next_pulse_due_at() == due["pair-early"]
