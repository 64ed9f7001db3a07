"""timeout_before_apply: the request is lost on its way; the venue never sees it, the client
times out. Indistinguishable, for the bot, from timeout_after_apply: that is the point."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import COUNT, ENDPOINT, Armory, Draws, FaultKind, Net, T

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call


class TimeoutBeforeApply(FaultKind):
    def refuse(self, net: Net, armed: Armory, call: Call) -> Answer | None:
        from clobsim.sim.exchange.gateway import NO_ANSWER  # noqa: PLC0415 - lazily: sim.faults.kind

        for one in armed:
            if net.matches(one, call):
                net.fire(one, route=call.route, seq=call.seq)
                return NO_ANSWER
        return None

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries({"endpoint": draws.endpoint, "at": draws.times, "count": st.integers(1, 3)})


KIND = TimeoutBeforeApply(
    "timeout_before_apply",
    "The request is lost before the venue sees it: the client times out.",
    {"endpoint": ENDPOINT, "at": T, "count": COUNT},
    ("endpoint",),
    {"at": 0, "count": 1},
    precedence=10,
)
