"""trade_failed: trades of the order go MATCHED -> RETRYING -> FAILED `after` s later: the fill is void.

On Polymarket a matched trade can fail on chain; its fill must then leave the position. The venue
fails one trade, not an order: `count` (default 1) is how many of the order's trades fail, the
first ones that match at or after `at` (default 0, seconds from the window start). A scale-in
filled in pieces may so keep some fills and lose others. The doomed trade's settlement is the
market model's (sim.runner.market), told through `net.doom`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.faults.kind import COUNT, ORDER, SECONDS, TRADE, Armory, Draws, FaultKind, Net, T

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


class TradeFailed(FaultKind):
    def on_venue_event(self, net: Net, armed: Armory, event: dict) -> None:
        if event["kind"] != VenueEvent.TRADE_MATCHED:
            return
        fields = event["fields"]
        makers = [m["order_id"] for m in fields["makers"]]
        for one in armed:
            if net.rel() < float(one.fault.get("at") or 0):
                continue
            if any(net.targets(one, oid) for oid in [fields["taker_order_id"], *makers]):
                net.doom(fields["trade_id"], float(one.fault.get("after")))
                net.fire(one, trade_id=fields["trade_id"])
                return  # a trade fails once, whichever fault doomed it

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        # count and at keep their defaults here: exploration draws the order's first trade
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries({"trade": draws.trade, "order": draws.order, "after": st.sampled_from([4, 20])})


KIND = TradeFailed(
    "trade_failed",
    "`count` trades of the order matched at or after `at` go MATCHED -> RETRYING -> FAILED `after` s later: "
    "the fill is void.",
    {"trade": TRADE, "order": ORDER, "after": SECONDS, "count": COUNT, "at": T},
    ("trade", "order"),
    {"after": 8, "count": 1, "at": 0},
    precedence=160,
    watches=(VenueEvent.TRADE_MATCHED,),
)
