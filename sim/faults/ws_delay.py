"""ws_delay: WebSocket events of a channel during [from, to) are sent `seconds` (simulated) late.
A lagging push feed: REST already shows the fill while the channel still says nothing, and a
cancel the bot sends meanwhile races a fill it has not heard of."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import COUNT, SECONDS, Armory, Draws, FaultKind, Net, Push, T
from clobsim.sim.faults.sockets import CHANNEL, EVENTS, USER, takes, took

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


class WsDelay(FaultKind):
    def ws_push(self, net: Net, armed: Armory, push: Push) -> list[Push]:
        for one in armed:
            if takes(net, one, push):
                seconds = float(one.fault.get("seconds"))
                took(net, self.name, one, push, seconds=seconds)
                return [push._replace(delay=push.delay + seconds)]
        return [push]

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return draws.window


KIND = WsDelay(
    "ws_delay",
    "WebSocket events of a channel during [from, to) are sent `seconds` late (server mode).",
    {"channel": CHANNEL, "events": EVENTS, "from": T, "to": T, "count": COUNT, "seconds": SECONDS},
    (),
    {"channel": USER, "from": 0, "seconds": 5},
    precedence=320,
    over_sockets=True,
)
