"""What the WebSocket fault kinds share: the channels and event types of `clobsim serve`'s
/ws/market and /ws/user (Polymarket's names), their schema fragments, and the test of whether a
fault's window and filters take in one event.

The kinds (ws_drop, ws_duplicate, ws_delay, ws_reorder, ws_disconnect) act only in server mode:
sim.server's channels hand every outgoing event to the network's `push`, and ws_disconnect asks
them to drop their connections (`net.sockets`). An in-process run has no channels, so these
kinds are never drawn by exploration (`FaultKind.over_sockets`).
"""

from __future__ import annotations

from clobsim.sim.faults.kind import Armed, Net, Push
from clobsim.sim.trace import TraceType

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
