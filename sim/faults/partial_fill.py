"""partial_fill: the market takes `size` shares of the order at `at` (scheduled, not on a request)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clobsim.sim.faults.kind import ORDER, SIZE, TRADE, Armed, Draws, FaultKind, Net, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


class PartialFill(FaultKind):
    def begin(self, net: Net, armed: Armed) -> None:
        net.env.process(self._fill(net, armed))

    def _fill(self, net: Net, armed: Armed) -> Any:
        yield net.env.timeout(net.until(float(armed.fault.get("at"))))
        order = net.open_target(armed)
        if order is None:
            net.trace(TraceType.FAULT, kind=self.name, index=armed.index, phase="no open order")
            return
        size = Decimal(str(armed.fault.get("size")))
        net.venue.fill_resting(order.id, size)
        net.fire(armed, order_id=order.id, size=str(size))

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries(
            {
                "trade": draws.trade,
                "order": draws.order,
                "at": draws.times,
                "size": st.sampled_from([1.0, 2.5, 5.0, 50.0]),
            }
        )


KIND = PartialFill(
    "partial_fill",
    "The market takes `size` shares of the order at `at`.",
    {"trade": TRADE, "order": ORDER, "at": T, "size": SIZE},
    ("trade", "order", "at", "size"),
    precedence=170,
)
