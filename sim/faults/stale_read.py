"""stale_read: GET /data/order for the order answers the snapshot taken when the fault starts,
for `duration` seconds (a read replica behind the matching engine)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import ORDER, SECONDS, TRADE, Armory, Draws, FaultKind, Final, Net, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call


class StaleRead(FaultKind):
    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        if call.route != "GET /data/order":
            return answer
        order_id = call.params.get("id")
        for one in armed:
            if net.targets(one, order_id):
                at = float(one.fault.get("at"))
                if at <= net.rel() < at + float(one.fault.get("duration")):
                    # one snapshot per order: a target such as "exit" can name a new order while
                    # the fault lasts, and a replica behind the engine never answers one order
                    # with another's record
                    snapshots = one.state.setdefault("snapshots", {})
                    if order_id not in snapshots:
                        snapshots[order_id] = answer
                        net.trace(TraceType.FAULT, kind=self.name, index=one.index, order_id=order_id, phase="frozen")
                    else:
                        net.trace(
                            TraceType.FAULT, kind=self.name, index=one.index, order_id=order_id, phase="stale answer"
                        )
                    answer = snapshots[order_id]
        return answer

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries(
            {"trade": draws.trade, "order": draws.order, "at": draws.times, "duration": st.sampled_from([10, 30, 120])}
        )


KIND = StaleRead(
    "stale_read",
    "GET /data/order for the order answers the snapshot taken when the fault starts, for `duration` seconds.",
    {"trade": TRADE, "order": ORDER, "at": T, "duration": SECONDS},
    ("trade", "order"),
    {"at": 0, "duration": 30},
    precedence=70,
)
