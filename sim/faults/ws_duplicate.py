"""ws_duplicate: WebSocket events of a channel during [from, to) are sent twice, the copy right
after the original (a reconnecting gateway, a retried push): a bot must count a trade once by
its id, not once per message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.faults.kind import COUNT, Armory, Draws, FaultKind, Net, Push, T
from clobsim.sim.faults.sockets import CHANNEL, EVENTS, USER, takes, took

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


class WsDuplicate(FaultKind):
    def ws_push(self, net: Net, armed: Armory, push: Push) -> list[Push]:
        for one in armed:
            if takes(net, one, push):
                took(net, self.name, one, push)
                return [push, push]
        return [push]

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return draws.window


KIND = WsDuplicate(
    "ws_duplicate",
    "WebSocket events of a channel during [from, to) are sent twice (server mode).",
    {"channel": CHANNEL, "events": EVENTS, "from": T, "to": T, "count": COUNT},
    (),
    {"channel": USER, "from": 0},
    precedence=310,
    over_sockets=True,
)
