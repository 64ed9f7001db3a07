"""latency: extra delay on an endpoint's request and response legs during [from, to).

A spike past the client's timeout (5 s) is a timeout for the bot while the venue still applies
the request when it arrives (sim.faults.network decides that from the legs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import ENDPOINT, SECONDS, Armory, Draws, FaultKind, Net, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


class Latency(FaultKind):
    def legs(self, net: Net, armed: Armory, route: str, req: float, resp: float) -> tuple[float, float]:
        for one in armed:
            if one.fault.get("endpoint") in ("*", route) and net.in_window(one):
                req += float(one.fault.get("request_ms"))
                resp += float(one.fault.get("response_ms"))
                if not one.state.get("fired"):  # traced once: a spike over a window touches every request
                    one.state["fired"] = True
                    net.trace(TraceType.FAULT, kind=self.name, index=one.index, route=route, phase="first delayed")
        return req, resp

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries(
            {
                "endpoint": draws.endpoint,
                "request_ms": st.sampled_from([200, 1500, 6000]),
                "response_ms": st.sampled_from([100, 900, 5500]),
            }
        ).flatmap(lambda d: draws.window.map(lambda w: {**d, **w}))


KIND = Latency(
    "latency",
    "Extra latency on an endpoint during [from, to): request and response legs.",
    {"endpoint": ENDPOINT, "from": T, "to": T, "request_ms": SECONDS, "response_ms": SECONDS},
    (),
    {"endpoint": "*", "request_ms": 0, "response_ms": 0},
    precedence=190,
)
