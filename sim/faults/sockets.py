"""What the WebSocket fault kinds share: the channels and event types of `clobsim serve`'s
/ws/market and /ws/user (Polymarket's names), their schema fragments, the test of whether a
fault's window and filters take in one event, and `ChannelEvents`, the shape of the kinds that act
on a channel's events one by one (ws_drop, ws_duplicate, ws_delay, ws_reorder).

The kinds (ws_drop, ws_duplicate, ws_delay, ws_reorder, ws_disconnect) act only in server mode:
sim.server's channels hand every outgoing event to the network's `push`, and ws_disconnect asks
them to drop their connections (`net.sockets`). An in-process run has no channels, so these
kinds are never drawn by exploration (`FaultKind.over_sockets`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobsim.sim.faults.kind import COUNT, SECONDS, Armed, Armory, Draws, FaultKind, Net, Push, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

MARKET, USER = "market", "user"
CHANNELS = (MARKET, USER)
# event_type of each message, as Polymarket's channels name them
BOOK, PRICE_CHANGE, LAST_TRADE_PRICE = "book", "price_change", "last_trade_price"
ORDER, TRADE = "order", "trade"
EVENT_TYPES = (BOOK, PRICE_CHANGE, LAST_TRADE_PRICE, ORDER, TRADE)

CHANNEL = {"enum": list(CHANNELS)}
EVENTS = {"type": "array", "items": {"enum": list(EVENT_TYPES)}, "uniqueItems": True}


def takes(net: Net, one: Armed, push: Push) -> bool:
    """Does fault `one` take this event: its channel, its event types, inside [from, to), and
    fewer than `count` events taken so far (no count: every one in the window)?"""
    fault = one.fault
    if push.channel != fault.get("channel") or not net.in_window(one):
        return False
    events = fault.get("events")
    if events and push.message.get("event_type") not in events:
        return False
    count = fault.get("count")
    return count is None or one.state.get("taken", 0) < int(count)


def took(net: Net, kind: str, one: Armed, push: Push, **details: object) -> None:
    """Count the event against the fault and trace the firing."""
    one.state["taken"] = one.state.get("taken", 0) + 1
    message = push.message
    net.trace(
        TraceType.FAULT,
        kind=kind,
        index=one.index,
        channel=push.channel,
        event_type=message.get("event_type"),
        event_id=message.get("id") or message.get("asset_id") or "",
        **details,
    )


class ChannelEvents(FaultKind):
    """A kind that takes a channel's events during [from, to) (of the given event types; at most
    `count` of them when given) and sends each it takes `instead` as something else. Exploration
    never draws it (over_sockets), but its strategy is the window every such kind shares."""

    def ws_push(self, net: Net, armed: Armory, push: Push) -> list[Push]:
        for one in armed:
            if takes(net, one, push):
                took(net, self.name, one, push, **self.details(one))
                return self.instead(one, push)
        return [push]

    def details(self, one: Armed) -> dict[str, Any]:
        """What a firing's trace record says besides the event."""
        return {}

    def instead(self, one: Armed, push: Push) -> list[Push]:
        """What goes out in place of an event the fault took."""
        raise NotImplementedError(f"fault kind {self.name} does not say what it sends instead")

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return draws.window


def channel_events(
    kind: type[ChannelEvents], name: str, summary: str, precedence: int, seconds: float | None = None
) -> ChannelEvents:
    """The one instance of a ChannelEvents kind: its parameters are the channel, the event types, the
    window and the count, and `seconds` (with its default) for a kind that holds events back."""
    params: dict[str, dict] = {"channel": CHANNEL, "events": EVENTS, "from": T, "to": T, "count": COUNT}
    defaults: dict[str, Any] = {"channel": USER, "from": 0}
    if seconds is not None:
        params["seconds"] = SECONDS
        defaults["seconds"] = seconds
    return kind(name, summary, params, (), defaults, precedence=precedence, over_sockets=True)
