"""The route table: typed registration, batched routes, and a type routed twice refused."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.pairing_events import PairDissolved, PairFormed
from binome_shared.messaging.routes import Batched, RouteTable, UnitOfWork

pytestmark = pytest.mark.unit


async def on_formed(envelope: Envelope[PairFormed], uow: UnitOfWork) -> None:
    del envelope, uow


async def on_either(envelope: Envelope[PairFormed | PairDissolved], uow: UnitOfWork) -> None:
    del envelope, uow


async def on_formed_runs(envelopes: Sequence[Envelope[PairFormed]], uow: UnitOfWork) -> None:
    del envelopes, uow


def test_each_type_gets_the_handler_it_was_routed_to() -> None:
    routes = RouteTable().on(PairFormed, on_formed).on(PairDissolved, on_either).build()

    assert routes == {PairFormed: on_formed, PairDissolved: on_either}


def test_a_batched_route_is_wrapped_so_the_consumer_hands_it_runs() -> None:
    routes = RouteTable().on_batches(PairFormed, on_formed_runs).build()

    assert routes == {PairFormed: Batched(on_formed_runs)}


def test_a_type_routed_twice_is_refused_naming_it() -> None:
    table = RouteTable().on(PairFormed, on_formed)

    with pytest.raises(ValueError, match="PairFormed is routed twice"):
        table.on_batches(PairFormed, on_formed_runs)


def test_the_built_table_is_a_copy_that_later_routes_do_not_change() -> None:
    table = RouteTable().on(PairFormed, on_formed)
    routes = table.build()
    table.on(PairDissolved, on_either)

    assert list(routes) == [PairFormed]
