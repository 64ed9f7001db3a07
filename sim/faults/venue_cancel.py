"""venue_cancel: the venue cancels ONE of the bot's orders at `at`, not all of them.

heartbeat_cancel_all takes every open order; the operator can also cancel a single order (on
Polymarket: an order a market change left invalid, or one the risk engine pulled), and the bot
learns it only from a cancel notification or the order's status (CANCELED, with whatever had
matched kept). The fault targets the trade's scale-in or exit order open at `at`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobsim.sim.faults.kind import ORDER, TRADE, Armed, Draws, FaultKind, Net, T

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


REASON = "cancelled by the operator"


class VenueCancel(FaultKind):
    def begin(self, net: Net, armed: Armed) -> None:
        net.env.process(self._cancel(net, armed))

    def _cancel(self, net: Net, armed: Armed) -> Any:
        yield net.env.timeout(net.until(float(armed.fault.get("at"))))
        order = net.open_target(armed)
        if order is None:
            return  # nothing to cancel: the fault never fired (no record)
        net.venue.operator_cancel(order.id, REASON)
        net.fire(armed, order_id=order.id)

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries({"trade": draws.trade, "order": draws.order, "at": draws.times})


KIND = VenueCancel(
    "venue_cancel",
    "The venue cancels one of the bot's orders (the trade's scale-in or exit) at `at`.",
    {"trade": TRADE, "order": ORDER, "at": T},
    ("trade", "order", "at"),
    precedence=185,
)
