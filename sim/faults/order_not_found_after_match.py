"""order_not_found_after_match: once the order has matched, GET /data/order answers 404 (or
200 with a null body): only the trades listing shows the fill, as on Polymarket for orders that
matched on arrival."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import ORDER, TRADE, Armory, Draws, FaultKind, Final, Net
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call


class OrderNotFoundAfterMatch(FaultKind):
    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        from clobsim.sim.exchange.gateway import Answer, error  # noqa: PLC0415 - lazily: sim.faults.kind

        if call.route != "GET /data/order":
            return answer
        order_id = call.params.get("id", "")  # "" is no order, as a missing id
        for one in armed:
            if net.targets(one, order_id) and net.venue.orders[order_id].status == "MATCHED":
                net.trace(TraceType.FAULT, kind=self.name, index=one.index, order_id=order_id)
                if int(one.fault.get("status")) == 404:
                    return Final(error(404, "order not found"))
                return Final(Answer(200, None))
        return answer

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries(
            {"trade": draws.trade, "order": draws.order, "status": st.sampled_from([404, 200])}
        )


KIND = OrderNotFoundAfterMatch(
    "order_not_found_after_match",
    "Once the order has matched, GET /data/order answers 404: only the trades listing shows the fill.",
    {"trade": TRADE, "order": ORDER, "status": {"enum": [404, 200]}},
    ("trade", "order"),
    {"status": 404},
    precedence=80,
)
