"""ws_reorder: a WebSocket event of a channel during [from, to) is held back and sent right
after the channel's next event (or after `seconds`, simulated, if none comes): the bot sees, say,
an order's CANCELLATION before the trade that filled part of it. Production orders a user's
events per connection, but not across its fan-out paths."""

from __future__ import annotations

from typing import Any

from clobsim.sim.faults.kind import Armed, Armory, Net, Push
from clobsim.sim.faults.sockets import ChannelEvents, channel_events, takes, took


class WsReorder(ChannelEvents):
    def ws_push(self, net: Net, armed: Armory, push: Push) -> list[Push]:
        for one in armed:
            held = one.state.pop("held", None)
            if held is not None and held.channel == push.channel:
                took(net, self.name, one, held, overtaken_by=push.message.get("event_type"))
                return [push, held]
            if held is not None:
                one.state["held"] = held
        for one in armed:
            if "held" not in one.state and takes(net, one, push):
                one.state["held"] = push
                net.env.process(self._release(net, one, push))
                return []
        return [push]

    def _release(self, net: Net, one: Armed, push: Push) -> Any:
        """Nothing overtook the held event in time: it goes out in its place in the end."""
        yield net.env.timeout(float(one.fault.get("seconds")))
        if one.state.get("held") is push:
            del one.state["held"]
            if net.sockets is not None:
                net.sockets.send(push)


KIND = channel_events(
    WsReorder,
    "ws_reorder",
    "A WebSocket event during [from, to) is sent after the channel's next one (server mode).",
    precedence=330,
    seconds=5,
)
