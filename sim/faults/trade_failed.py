"""trade_failed: the order's trades go MATCHED -> RETRYING -> FAILED: the fill is void.

On Polymarket a matched trade can fail on chain; its fill must then leave the position. The
doomed trade's settlement is the market model's (sim.runner.market), told through `net.doom`.
"""

from __future__ import annotations

from hypothesis import strategies as st

from sim.exchange.events import VenueEvent
from sim.faults.kind import ORDER, SECONDS, TRADE, Armory, Draws, FaultKind, Net
from sim.trace import TraceType


class TradeFailed(FaultKind):
    def on_venue_event(self, net: Net, armed: Armory, event: dict) -> None:
        if event["kind"] != VenueEvent.TRADE_MATCHED:
            return
        fields = event["fields"]
        makers = [m["order_id"] for m in fields["makers"]]
        for one in armed:
            if any(net.targets(one, oid) for oid in [fields["taker_order_id"], *makers]):
                net.doom(fields["trade_id"], float(one.fault.get("after")))
                net.trace(TraceType.FAULT, kind=self.name, index=one.index, trade_id=fields["trade_id"])

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return st.fixed_dictionaries({"trade": draws.trade, "order": draws.order, "after": st.sampled_from([4, 20])})


KIND = TradeFailed(
    "trade_failed",
    "The order's trades go MATCHED -> RETRYING -> FAILED: the fill is void.",
    {"trade": TRADE, "order": ORDER, "after": SECONDS},
    ("trade", "order"),
    {"after": 8},
    precedence=160,
    watches=(VenueEvent.TRADE_MATCHED,),
)
