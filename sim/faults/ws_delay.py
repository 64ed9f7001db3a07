"""ws_delay: WebSocket events of a channel during [from, to) are sent `seconds` (simulated) late.
A lagging push feed: REST already shows the fill while the channel still says nothing, and a
cancel the bot sends meanwhile races a fill it has not heard of."""

from __future__ import annotations

from typing import Any

from clobsim.sim.faults.kind import Armed, Push
from clobsim.sim.faults.sockets import ChannelEvents, channel_events


class WsDelay(ChannelEvents):
    def details(self, one: Armed) -> dict[str, Any]:
        return {"seconds": float(one.fault.get("seconds"))}

    def instead(self, one: Armed, push: Push) -> list[Push]:
        return [push._replace(delay=push.delay + float(one.fault.get("seconds")))]


KIND = channel_events(
    WsDelay,
    "ws_delay",
    "WebSocket events of a channel during [from, to) are sent `seconds` late (server mode).",
    precedence=320,
    seconds=5,
)
