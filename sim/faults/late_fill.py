"""late_fill: a fill of the order lands at the venue just before the bot's cancel of it, and
its notification arrives `notify_delay` seconds late: the cancel answer says "canceled" while
size_matched has grown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import ORDER, SECONDS, SIZE, TRADE, Armory, Draws, FaultKind, Net

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Call


class LateFill(FaultKind):
    def before_venue(self, net: Net, armed: Armory, call: Call) -> None:
        if call.route != "DELETE /order" or not isinstance(call.body, dict):
            return
        order_id = call.body.get("orderID", "")  # "" is no order, as a missing id
        for one in armed:
            if net.targets(one, order_id):
                size = one.fault.get("size") or net.venue.orders[order_id].remaining
                with net.mailbox.holding_fill_notes(float(one.fault.get("notify_delay"))):
                    net.venue.fill_resting(order_id, size)
                net.fire(one, order_id=order_id, size=str(size))

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries(
            {"trade": draws.trade, "order": draws.order},
            optional={"size": st.sampled_from([2.0, 5.0]), "notify_delay": st.sampled_from([0, 20, 120])},
        )


KIND = LateFill(
    "late_fill",
    "A fill of the order lands at the venue just before the bot's cancel of it; "
    "its notification arrives `notify_delay` seconds late.",
    {"trade": TRADE, "order": ORDER, "size": SIZE, "notify_delay": SECONDS},
    ("trade", "order"),
    {"notify_delay": 20},
    precedence=100,
)
