"""cancel_race: a fill lands between the bot's status check of the order and its cancel.

The bot reads the order LIVE, then cancels it; the fill lands just before the cancel arrives,
so a bot that trusts its status read ("check, then cancel") never counts it. A read the bot
does not follow with a cancel is routine monitoring, not the race: the fill waits for a cancel
that follows a LIVE read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import ORDER, SIZE, TRADE, Armory, Draws, FaultKind, Final, Net

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call


class CancelRace(FaultKind):
    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        if call.route != "GET /data/order":
            return answer
        order_id = call.params.get("id")
        for one in armed:
            body = answer.body if isinstance(answer.body, dict) else {}
            if net.targets(one, order_id):
                if body.get("status") == "LIVE":
                    one.state["checked"] = order_id
                else:
                    one.state.pop("checked", None)
        return answer

    def before_venue(self, net: Net, armed: Armory, call: Call) -> None:
        if call.route != "DELETE /order" or not isinstance(call.body, dict):
            return
        order_id = call.body.get("orderID")
        for one in armed:
            order = net.venue.orders.get(order_id or "")
            if one.state.get("checked") == order_id and order is not None and order.is_open:
                size = one.fault.get("size") or order.remaining
                net.venue.fill_resting(order.id, size)
                net.fire(one, order_id=order_id, size=str(size))

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries(
            {"trade": draws.trade, "order": draws.order}, optional={"size": st.sampled_from([2.0, 5.0])}
        )


KIND = CancelRace(
    "cancel_race",
    "A fill lands between the bot's status check of the order (answered LIVE) and its cancel.",
    {"trade": TRADE, "order": ORDER, "size": SIZE},
    ("trade", "order"),
    precedence=90,
)
