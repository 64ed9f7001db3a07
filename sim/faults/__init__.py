"""Faults: the catalogue of fault kinds, one module each, and the network where they act.

A fault is data (`Fault(kind, params)`): scenario files list them, exploration draws them. Each
kind is one module of this package holding its schema, its injection and its exploration
strategy (sim.faults.kind says how); sim.faults.network runs a request through them. The
catalogue below is the documented order (design.md), used for `clobsim list faults`, the
scenario JSON Schema and exploration. Adding a kind: one module, one line here, its tests and
its docs (CONTRIBUTING.md).

Common parameters:
  at / from / to   seconds from the window start (a moment, or the window [from, to))
  trade            the scenario trade the fault targets (its `id`)
  order            which of that trade's orders: "scale-in" or "exit"
  endpoint         a route such as "POST /order", or "*" for all
  count            how many matching requests it hits (default 1)
"""

from __future__ import annotations

from clobsim.sim.faults import (
    balance_lag,
    bot_crash,
    cancel_race,
    delayed_match,
    engine_restart,
    heartbeat_cancel_all,
    http_error,
    late_fill,
    latency,
    notification_delay,
    notification_drop,
    notification_duplicate,
    notification_reorder,
    order_not_found_after_match,
    partial_fill,
    size_shortfall,
    stale_read,
    timeout_after_apply,
    timeout_before_apply,
    trade_failed,
    trades_lag,
    venue_cancel,
    ws_delay,
    ws_disconnect,
    ws_drop,
    ws_duplicate,
    ws_reorder,
)
from clobsim.sim.faults.kind import ROUTES, Fault, FaultKind

__all__ = ["CATALOGUE", "ROUTES", "Fault", "FaultKind", "fault", "names"]

CATALOGUE: dict[str, FaultKind] = {
    module.KIND.name: module.KIND
    for module in (
        latency,
        timeout_after_apply,
        timeout_before_apply,
        http_error,
        stale_read,
        order_not_found_after_match,
        late_fill,
        partial_fill,
        cancel_race,
        notification_delay,
        notification_duplicate,
        notification_drop,
        notification_reorder,
        delayed_match,
        trade_failed,
        trades_lag,
        balance_lag,
        size_shortfall,
        engine_restart,
        heartbeat_cancel_all,
        venue_cancel,
        bot_crash,
        ws_drop,
        ws_duplicate,
        ws_delay,
        ws_reorder,
        ws_disconnect,
    )
}


def names() -> list[str]:
    return list(CATALOGUE)


def fault(kind: str, params: dict) -> Fault:
    """A Fault of a catalogue kind, with that kind's defaults for the parameters not given."""
    return Fault(kind, params, CATALOGUE[kind].defaults)
