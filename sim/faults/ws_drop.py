"""ws_drop: WebSocket events of a channel during [from, to) are never sent (of the given event
types; at most `count` of them when given). Polymarket's channels deliver at most once: an event
lost on the way is not sent again, so a bot that trusts the user channel alone misses the fill;
one that also reads its orders and trades over REST finds it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import COUNT, Armory, Draws, FaultKind, Net, Push, T
from clobsim.sim.faults.sockets import CHANNEL, EVENTS, USER, takes, took

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


class WsDrop(FaultKind):
    def ws_push(self, net: Net, armed: Armory, push: Push) -> list[Push]:
        for one in armed:
            if takes(net, one, push):
                took(net, self.name, one, push)
                return []
        return [push]

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return draws.window


KIND = WsDrop(
    "ws_drop",
    "WebSocket events of a channel during [from, to) are never sent (server mode).",
    {"channel": CHANNEL, "events": EVENTS, "from": T, "to": T, "count": COUNT},
    (),
    {"channel": USER, "from": 0},
    precedence=300,
    over_sockets=True,
)
