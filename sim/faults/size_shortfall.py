"""size_shortfall: the shares received fall short of size_matched by `shortfall` per fill (4.95
received for 5 matched): an exit sized from size_matched asks for shares the bot does not have."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import ORDER, SIZE, TRADE, Armory, Draws, FaultKind, Net

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Call


class SizeShortfall(FaultKind):
    def before_venue(self, net: Net, armed: Armory, call: Call) -> None:
        posted = net.posted_order(call)
        if posted is None:
            return
        order_id, token, side = posted
        for one in armed:
            if net.is_target_request(one, token, side):
                net.venue.share_shortfall[order_id] = Decimal(str(one.fault.get("shortfall")))
                net.fire(one, order_id=order_id)

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries(
            {"trade": draws.trade, "order": draws.order, "shortfall": st.sampled_from([0.05, 0.5])}
        )


KIND = SizeShortfall(
    "size_shortfall",
    "Shares received fall short of size_matched by `shortfall` per fill (e.g. 4.95 received for 5 matched).",
    {"trade": TRADE, "order": ORDER, "shortfall": SIZE},
    ("trade", "order"),
    {"shortfall": 0.05},
    precedence=40,
)
