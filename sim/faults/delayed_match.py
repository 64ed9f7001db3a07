"""delayed_match: the order is answered `delayed` (Polymarket's status for marketable orders held
back by the engine) and matches `delay` seconds later, or never (fail: true): it ends UNMATCHED,
or with `ends: ORDER_TIMED_OUT` in CLOB V2's status for an order whose time in the engine ran out
(a v1 venue has no such status: UNMATCHED there too)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobsim.sim.exchange.records import ORDER_TIMED_OUT, UNMATCHED
from clobsim.sim.faults.kind import ORDER, SECONDS, TRADE, Armed, Armory, Draws, FaultKind, Final, Net
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call

ENDS = (UNMATCHED, ORDER_TIMED_OUT)  # how a failed delay ends the order (`ends`, with fail: true)


class DelayedMatch(FaultKind):
    def before_venue(self, net: Net, armed: Armory, call: Call) -> None:
        posted = net.posted_order(call)
        if posted is None:
            return
        order_id, token, side = posted
        for one in armed:
            if net.is_target_request(one, token, side):
                one.state["order_id"] = order_id
                net.venue.set_match_delay(token, "delay")

    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        for one in armed:
            if "order_id" in one.state and not one.state.get("scheduled"):
                order = net.venue.orders.get(one.state["order_id"])
                token = order.asset_id if order else None
                if token:
                    net.venue.set_match_delay(token, None)
                one.state["scheduled"] = True
                if order is not None and order.status == "DELAYED":
                    net.fire(one, order_id=order.id)
                    net.env.process(self._release(net, order.id, one))
                else:
                    one.state.pop("order_id")
                    one.state.pop("scheduled")
        return answer

    def _release(self, net: Net, order_id: str, armed: Armed) -> Any:
        yield net.env.timeout(float(armed.fault.get("delay")))
        if armed.fault.get("fail"):
            net.venue.fail_delayed(order_id, timed_out=armed.fault.get("ends") == ORDER_TIMED_OUT)
        else:
            net.venue.release_delayed(order_id)
        net.trace(
            TraceType.FAULT,
            kind=self.name,
            index=armed.index,
            order_id=order_id,
            phase="failed" if armed.fault.get("fail") else "released",
        )

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries(
            {"trade": draws.trade, "order": draws.order, "delay": st.sampled_from([5, 60]), "fail": st.booleans()}
        )


KIND = DelayedMatch(
    "delayed_match",
    "The order is answered `delayed` and matches `delay` seconds later (or never, with fail: true).",
    {"trade": TRADE, "order": ORDER, "delay": SECONDS, "fail": {"type": "boolean"}, "ends": {"enum": list(ENDS)}},
    ("trade", "order"),
    {"delay": 10, "fail": False, "ends": UNMATCHED},
    precedence=50,
)
