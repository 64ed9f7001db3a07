"""trades_lag: the trades listing lags behind order status by `lag` seconds.

GET /data/trades leaves out every trade matched less than `lag` seconds ago, while GET
/data/order already shows the order MATCHED with its size_matched: on Polymarket the trade
history is a separate read model, fed after the matching engine. A bot that reads a fill's size
from the order status but its trade (id, price, status) from the listing must wait for the
listing, without counting the fill twice or deciding the order is done meanwhile. Applies to
requests during [from, to).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import SECONDS, Armory, Draws, FaultKind, Final, Net, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call

ROUTE = "GET /data/trades"


class TradesLag(FaultKind):
    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        from clobsim.sim.exchange.gateway import Answer  # noqa: PLC0415 - lazily: sim.faults.kind

        if call.route != ROUTE or answer.status != 200 or not isinstance(answer.body, dict):
            return answer
        for one in armed:
            if not net.in_window(one):
                continue
            seen_before = net.env.now - float(one.fault.get("lag"))
            data = answer.body.get("data") or []
            kept = [t for t in data if float(net.venue.trades[t["id"]].match_time) <= seen_before]
            if len(kept) != len(data):
                hidden = [t["id"] for t in data if t not in kept]
                net.trace(TraceType.FAULT, kind=self.name, index=one.index, seq=call.seq, hidden=hidden)
                answer = Answer(200, {**answer.body, "data": kept, "count": len(kept)}, answer.headers)
        return answer

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries({"lag": st.sampled_from([5, 20, 45])})


KIND = TradesLag(
    "trades_lag",
    "GET /data/trades leaves out trades matched less than `lag` s ago, while order status already shows them.",
    {"lag": SECONDS, "from": T, "to": T},
    ("lag",),
    {"from": 0},
    precedence=75,
)
