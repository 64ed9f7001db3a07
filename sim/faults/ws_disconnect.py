"""ws_disconnect: at `at`, the server closes every connection of a channel, and refuses new ones
for `down` seconds (simulated). Like production, a reconnecting client gets no replay of what it
missed: the market channel sends a fresh book on subscription, the user channel nothing, so a
fill matched while the bot was away reaches it only through REST."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobsim.sim.faults.kind import SECONDS, Armed, Draws, FaultKind, Net, T
from clobsim.sim.faults.sockets import CHANNEL, USER
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


class WsDisconnect(FaultKind):
    def begin(self, net: Net, armed: Armed) -> None:
        net.env.process(self._cut(net, armed))

    def _cut(self, net: Net, armed: Armed) -> Any:
        yield net.env.timeout(net.until(float(armed.fault.get("at"))))
        if net.sockets is None:
            return  # an in-process run has no channel to cut
        channel, down = armed.fault.get("channel"), float(armed.fault.get("down"))
        closed = net.sockets.disconnect(channel, until=net.env.now + down)
        if closed:  # a cut with no connection to close tests nothing: it did not fire
            net.trace(TraceType.FAULT, kind=self.name, index=armed.index, channel=channel, closed=closed, down=down)

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return draws.times.map(lambda at: {"at": at})


KIND = WsDisconnect(
    "ws_disconnect",
    "At `at` the server closes a channel's connections; missed events are not replayed (server mode).",
    {"channel": CHANNEL, "at": T, "down": SECONDS},
    ("at",),
    {"channel": USER, "down": 0},
    precedence=340,
    over_sockets=True,
)
