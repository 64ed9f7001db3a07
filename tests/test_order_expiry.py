"""Orders end with their window: core places GTD orders that the venue expires shortly before the
window ends, so a bot that is down across the end leaves no order behind (no-orphan-orders)."""

from __future__ import annotations

import os

import yaml

from clobsim import sim
from clobsim.core.config import StrategyConfig
from clobsim.sim.runner.scenario import from_dict, load

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGRESSION = os.path.join(ROOT, "scenarios", "regressions", "core-no-orphan-orders-bbc83bed.yaml")
END = 1_764_029_700.0


def test_an_order_expires_order_expiry_before_end_seconds_before_its_window_ends():
    config = StrategyConfig()
    # the venue expires a GTD order gtd_security_margin before the expiration it carries
    assert config.order_lifetime(END, END - 600) == ("GTD", int(END) - 10 + 60)
    assert config.order_lifetime(END, END - 10) is None  # its expiry is here: nothing to place
    assert StrategyConfig(order_expiry_before_end=0).order_lifetime(END, END - 1) == ("GTC", 0)


def test_the_venue_expires_the_orders_of_a_bot_down_across_the_window_end():
    result = sim.run(load(REGRESSION))
    assert result.passed, [(c.id, c.evidence) for c in result.failures]
    expired = [
        (e["time"] - result.scenario.window_start, e["fields"]["order_id"])
        for e in result.venue.events
        if e["kind"] == "order_status" and e["fields"].get("reason") == "expired"
    ]
    assert [t for t, _ in expired] == [890.0, 890.0]  # both resting orders, while the bot was down
    assert {o.id for o in result.venue.orders.values() if o.owner == result.owner} == {oid for _, oid in expired}


def test_gtc_orders_outlive_a_bot_down_across_the_window_end():
    with open(REGRESSION, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["bot"] = {"order_expiry_before_end": 0}  # GTC: as core placed its orders before
    result = sim.run(from_dict(data))
    assert {c.id for c in result.failures if c.kind == "invariant"} == {"no-orphan-orders"}
