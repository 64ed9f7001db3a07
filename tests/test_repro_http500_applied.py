"""The repro http500_applied.py, run as it describes itself, on today's layout.

The repro (shared/repro/http500_applied.py; `python http500_applied.py [--applied]`) was written
against the old layout (`sim.network`, `sim.harness`) and monkeypatched the network so that a 500
"order timed out" on POST /order was applied before it was answered. Today that is the
`http_error` fault's own parameter, `applied: true`, so the same runs need no patch: the repro's
scenario, a 500 on the first POST /order from each of its three moments (the first exit
placement, the scale-in placement, the exit resize), applied or not. It used to show core
marking the applied exit rejected and re-posting it 33 times, the run passing. Each run here
must keep every invariant and leave at the venue only the orders the ledger knows, none
re-posted; the library keeps the first case as scenarios/http500-applied-exit-no-repost.yaml.
"""

from __future__ import annotations

import copy
import os
from decimal import Decimal

import pytest

from clobsim import sim
from clobsim.sim.runner.scenario import from_dict, load
from clobsim.sim.trace import TraceType

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
D = Decimal

# the repro's BASE, as it wrote it
BASE = {
    "name": "http500-applied",
    "seed": 1,
    "market": {"price_model": {"kind": "scripted", "start": 0.80, "depth": 50}, "taker_flow": {"rate": 0}},
    "trades": [{"id": 123, "at": 5, "side": "UP", "price": 0.80, "size": 10.5, "confidence": 0.85}],
    "events": [
        {"at": 500, "kind": "take", "token": "UP", "side": "SELL", "size": 60.5, "price": 0.79},
        {"at": 600, "kind": "take", "token": "UP", "side": "BUY", "size": 221, "price": 0.99},
    ],
}
FIRST_EXIT, SCALE_IN, EXIT_RESIZE = 0, 400, 501  # the repro's three moments (`at` of the fault)

# What each run leaves: the bot's orders at the venue (side, size, status, matched) and in the
# ledger (role, state). Applied, the 500'd order is found by its id and used: nothing is posted
# twice. Not applied, it is declared NOT_PLACED after unknown_grace and placed again once.
EXIT_RESIZED_AND_FILLED = [("SELL", "10.5", "CANCELED", "0"), ("BUY", "10.5", "MATCHED", "10.5")]
EXIT_RESIZED_AND_FILLED += [("SELL", "21", "MATCHED", "21")]
EXPECTED = {
    (FIRST_EXIT, True): (EXIT_RESIZED_AND_FILLED, [("exit", "CANCELLED"), ("scale-in", "FILLED"), ("exit", "FILLED")]),
    (SCALE_IN, True): (EXIT_RESIZED_AND_FILLED, [("exit", "CANCELLED"), ("scale-in", "FILLED"), ("exit", "FILLED")]),
    (EXIT_RESIZE, True): (
        EXIT_RESIZED_AND_FILLED,
        [("exit", "CANCELLED"), ("scale-in", "FILLED"), ("exit", "FILLED")],
    ),
    (FIRST_EXIT, False): (
        EXIT_RESIZED_AND_FILLED,
        [("exit", "NOT_PLACED"), ("exit", "CANCELLED"), ("scale-in", "FILLED"), ("exit", "FILLED")],
    ),
    (SCALE_IN, False): ([("SELL", "10.5", "MATCHED", "10.5")], [("exit", "FILLED"), ("scale-in", "NOT_PLACED")]),
    (EXIT_RESIZE, False): (
        EXIT_RESIZED_AND_FILLED,
        [("exit", "CANCELLED"), ("scale-in", "FILLED"), ("exit", "NOT_PLACED"), ("exit", "FILLED")],
    ),
}


def repro_scenario(at: int, applied: bool) -> dict:
    data = copy.deepcopy(BASE)
    fault = {"kind": "http_error", "endpoint": "POST /order", "status": 500, "at": at, "count": 1}
    data["faults"] = [fault | {"applied": True}] if applied else [fault]
    return data


@pytest.mark.parametrize(("at", "applied"), sorted(EXPECTED))
def test_the_http500_repro_keeps_every_invariant_and_never_posts_an_order_twice(at, applied):
    result = sim.run(from_dict(repro_scenario(at, applied), file="http500_applied.py"))
    assert result.passed, [(c.id, c.evidence) for c in result.failures]
    fired = [e for e in result.trace if e["type"] == TraceType.FAULT]
    assert [(e["kind"], e["status"]) for e in fired] == [("http_error", 500)]  # the fault fired, once
    venue_orders, ledger_orders = EXPECTED[(at, applied)]
    mine = [o for o in result.venue.orders.values() if o.owner == result.owner]
    assert [(o.side, str(o.original_size), o.status, str(o.size_matched)) for o in mine] == venue_orders
    snapshot = result.extras["ledger_snapshot"]
    assert [(o.role.value, o.state.value) for o in snapshot["orders"]] == ledger_orders
    assert not [e for e in result.events if e.kind == "exit.failed"]  # no re-post refused for balance
    assert result.venue.accounts[result.owner].balances[result.trade_tokens[123]] == D("0")
    assert snapshot["positions"] == {123: D("0")}


def test_the_library_keeps_the_repros_applied_first_exit_case():
    library = load(os.path.join(ROOT, "scenarios", "http500-applied-exit-no-repost.yaml"))
    repro = from_dict(repro_scenario(FIRST_EXIT, applied=True))
    assert (library.seed, library.trades, library.events, library.faults) == (
        repro.seed,
        repro.trades,
        repro.events,
        repro.faults,
    )
