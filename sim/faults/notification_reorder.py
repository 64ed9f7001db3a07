"""notification_reorder: pending notifications are delivered newest first during [from, to)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import Armory, Draws, FaultKind, Final, Net, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call


class NotificationReorder(FaultKind):
    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        from clobsim.sim.exchange.gateway import Answer  # noqa: PLC0415 - lazily: sim.faults.kind

        if call.route != "GET /notifications" or answer.status != 200:
            return answer
        out = answer.body
        for one in armed:
            if net.in_window(one) and len(out) > 1:
                out = list(reversed(out))
                net.trace(TraceType.FAULT, kind=self.name, index=one.index, count=len(out))
        return Answer(200, out, answer.headers)

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return draws.window


KIND = NotificationReorder(
    "notification_reorder",
    "Pending notifications are delivered newest first during [from, to).",
    {"from": T, "to": T},
    (),
    {"from": 0},
    precedence=140,
)
