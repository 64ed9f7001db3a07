"""timeout_after_apply: the venue applies the request but its answer never reaches the client.

The client times out ("Request exception!"): an outcome-unknown error for the bot, whose order
may well be resting. A blind re-post after it is the classic duplicate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import COUNT, ENDPOINT, Armory, Draws, FaultKind, Final, Net, T

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call


class TimeoutAfterApply(FaultKind):
    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        from clobsim.sim.exchange.gateway import NO_ANSWER  # noqa: PLC0415 - lazily: sim.faults.kind

        for one in armed:
            if net.matches(one, call):
                net.fire(one, route=call.route, seq=call.seq)
                return Final(NO_ANSWER)
        return answer

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries({"endpoint": draws.endpoint, "at": draws.times, "count": st.integers(1, 3)})


KIND = TimeoutAfterApply(
    "timeout_after_apply",
    "The venue applies the request but the answer never comes: the client times out ('Request exception!').",
    {"endpoint": ENDPOINT, "at": T, "count": COUNT},
    ("endpoint",),
    {"at": 0, "count": 1},
    precedence=60,
)
