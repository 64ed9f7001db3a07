"""ws_drop: WebSocket events of a channel during [from, to) are never sent (of the given event
types; at most `count` of them when given). Polymarket's channels deliver at most once: an event
lost on the way is not sent again, so a bot that trusts the user channel alone misses the fill;
one that also reads its orders and trades over REST finds it."""

from __future__ import annotations

from clobsim.sim.faults.kind import Armed, Push
from clobsim.sim.faults.sockets import ChannelEvents, channel_events


class WsDrop(ChannelEvents):
    def instead(self, one: Armed, push: Push) -> list[Push]:
        return []


KIND = channel_events(
    WsDrop,
    "ws_drop",
    "WebSocket events of a channel during [from, to) are never sent (server mode).",
    precedence=300,
)
