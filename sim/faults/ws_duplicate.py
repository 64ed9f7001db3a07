"""ws_duplicate: WebSocket events of a channel during [from, to) are sent twice, the copy right
after the original (a reconnecting gateway, a retried push): a bot must count a trade once by
its id, not once per message."""

from __future__ import annotations

from clobsim.sim.faults.kind import Armed, Push
from clobsim.sim.faults.sockets import ChannelEvents, channel_events


class WsDuplicate(ChannelEvents):
    def instead(self, one: Armed, push: Push) -> list[Push]:
        return [push, push]


KIND = channel_events(
    WsDuplicate,
    "ws_duplicate",
    "WebSocket events of a channel during [from, to) are sent twice (server mode).",
    precedence=310,
)
