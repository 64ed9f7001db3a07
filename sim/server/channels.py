"""The WebSocket channels of `clobsim serve`: /ws/market and /ws/user, in Polymarket's shapes.

Subscriptions (the first message a client sends; later ones with "operation": "subscribe" or
"unsubscribe" change it):

    market  {"type": "market", "assets_ids": [token ids]}                 no auth
    user    {"type": "user", "auth": {"apiKey", "secret", "passphrase"},  the account's own events
             "markets": [condition ids] (empty or absent: every market)}

A client may send the text "PING" at any time; it is answered "PONG" (production's keep-alive).

Events (each a JSON object; the market channel's first answer is a JSON array of `book`s):

    market  book               the whole book of an asset: on subscription, and after a trade
                               changed it
            price_change       levels whose aggregate size changed: {"market", "price_changes":
                               [{"asset_id", "price", "size", "side", "hash", "best_bid",
                               "best_ask"}]} (hash: the book's, after the change)
            last_trade_price   a trade on the asset: price, size, side (the taker's), fee_rate_bps
    user    order              PLACEMENT when placed, UPDATE when a trade matches some of it,
                               CANCELLATION when it leaves the book unfilled (cancel, resolution,
                               heartbeat, expiry)
            trade              the account's trade at MATCHED, then each status it moves to
                               (MINED, CONFIRMED, RETRYING, FAILED): Polymarket's trade message

Every event goes through the network's `push` (the ws fault kinds: drop, duplicate, delay,
reorder) before it is sent; a delayed one waits on the simulated clock. Events are built when
the venue records them (the venue's listeners), except price changes: the book is diffed against
what each asset's subscribers last saw at every `flush` (after each clock step and request), so
a burst of crowd re-quotes in one step is one message per asset.

Connections are not replayed anything they missed: a client that reconnects gets a fresh book
(market) or nothing (user), as in production.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from clobsim.sim.exchange.book import BUY, SELL
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.gateway import book_json, trade_json
from clobsim.sim.exchange.records import OPEN_STATUSES, Order, fmt
from clobsim.sim.exchange.venue import Venue
from clobsim.sim.faults.kind import Push
from clobsim.sim.faults.sockets import (
    BOOK,
    LAST_TRADE_PRICE,
    MARKET,
    ORDER,
    PRICE_CHANGE,
    TRADE,
    USER,
)
from clobsim.sim.trace import TraceType

PLACEMENT, UPDATE, CANCELLATION = "PLACEMENT", "UPDATE", "CANCELLATION"
PING, PONG = "PING", "PONG"
MAX_SUBSCRIBED = 1000  # ids in one subscription: more is a client bug, refused
UNAUTHORIZED_CLOSE = 4001  # the close code for a user subscription whose credentials are wrong


class BadSubscription(ValueError):
    """A subscription message the channel cannot act on: the message says why."""


@dataclass
class Connection:
    channel: str
    socket: web.WebSocketResponse
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    owner: str | None = None  # user channel: the authenticated api key
    ids: set[str] = field(default_factory=set)  # assets (market) or markets (user); user: empty = all
    subscribed: bool = False

    def wants(self, push: Push) -> bool:
        message = push.message
        if not self.subscribed or push.channel != self.channel:
            return False
        if self.channel == MARKET:
            assets = {change["asset_id"] for change in message.get("price_changes", ())} or {message.get("asset_id")}
            return bool(assets & self.ids)
        return message.get("owner") == self.owner and (not self.ids or message.get("market") in self.ids)


class Channels:
    """Every open WebSocket connection, and the venue's events turned into their messages."""

    def __init__(self, venue: Venue, network: Any, trace: Callable[..., None]):
        self.venue, self.network, self.trace = venue, network, trace
        self.env = network.env
        self.connections: list[Connection] = []
        self.refused_until: dict[str, float] = {}  # channel -> simulated time new connections wait for
        self._seen: dict[str, dict[tuple[str, str], str]] = {}  # asset -> (side, price) -> size sent
        self._dirty: dict[str, None] = {}  # assets whose book changed since the last flush
        self._traded: set[str] = set()  # of those, the assets a trade touched: a whole book follows
        self.sent = {MARKET: 0, USER: 0}
        venue.listeners.append(self._on_venue_event)
        network.sockets = self

    # ---- connections -------------------------------------------------------------------------

    def accepting(self, channel: str) -> bool:
        return self.env.now >= self.refused_until.get(channel, float("-inf"))

    def connect(self, channel: str, socket: web.WebSocketResponse) -> Connection:
        connection = Connection(channel, socket)
        self.connections.append(connection)
        return connection

    def forget(self, connection: Connection) -> None:
        if connection in self.connections:
            self.connections.remove(connection)

    def subscribe(self, connection: Connection, message: Any) -> list[dict]:
        """Apply a subscription message; returns what to send at once (the market's books)."""
        if not isinstance(message, dict):
            raise BadSubscription("a subscription is a JSON object")
        operation = message.get("operation", "subscribe")
        if operation not in ("subscribe", "unsubscribe"):
            raise BadSubscription(f"operation must be subscribe or unsubscribe, got {str(operation)[:40]!r}")
        key = "assets_ids" if connection.channel == MARKET else "markets"
        ids = message.get(key) or []
        if not isinstance(ids, list) or len(ids) > MAX_SUBSCRIBED or not all(isinstance(i, str) for i in ids):
            raise BadSubscription(f"{key} must be a list of at most {MAX_SUBSCRIBED} strings")
        if connection.channel == USER and not connection.subscribed:
            connection.owner = self._authenticate(message.get("auth"))
        if operation == "unsubscribe":
            connection.ids -= set(ids)
            return []
        connection.ids |= set(ids)
        connection.subscribed = True
        if connection.channel == MARKET:
            return [self._book(asset) for asset in ids if self.venue.book(asset) is not None]
        return []

    def _authenticate(self, auth: Any) -> str:
        if not isinstance(auth, dict):
            raise BadSubscription("the user channel needs auth: {apiKey, secret, passphrase}")
        account = self.venue.account(str(auth.get("apiKey", "")))
        if account is None or auth.get("secret") != account.secret or auth.get("passphrase") != account.passphrase:
            raise BadSubscription("Unauthorized/Invalid api key")
        return account.api_key

    def disconnect(self, channel: str, *, until: float) -> int:
        """Close every connection of a channel and refuse new ones until `until` (ws_disconnect)."""
        self.refused_until[channel] = until
        closing = [c for c in self.connections if c.channel == channel]
        for connection in closing:
            self.forget(connection)
            connection.queue.put_nowait(None)  # its writer closes the socket
        return len(closing)

    # ---- sending -----------------------------------------------------------------------------

    def emit(self, channel: str, message: dict) -> None:
        """An event on its way: through the ws faults, then sent now or later (simulated)."""
        for push in self.network.push(Push(channel, message)):
            if push.delay > 0:
                self.env.process(self._later(push))
            else:
                self.send(push)

    def _later(self, push: Push) -> Any:
        yield self.env.timeout(push.delay)
        self.send(push)

    def send(self, push: Push) -> None:
        text = json.dumps(push.message, separators=(",", ":"))
        for connection in self.connections:
            if connection.wants(push):
                connection.queue.put_nowait(text)
                self.sent[push.channel] += 1
        self.trace(TraceType.PUSH, channel=push.channel, event_type=push.message.get("event_type"), **_ids(push))

    # ---- the venue's events as messages -----------------------------------------------------

    def _on_venue_event(self, event: dict) -> None:
        kind, fields = event["kind"], event["fields"]
        if kind in _BOOK_EVENTS:
            asset = fields.get("asset_id") or self._asset_of(fields.get("order_id"))
            if asset:
                self._dirty[asset] = None
        if kind == VenueEvent.ORDER_PLACED:
            order = self.venue.orders.get(fields["order_id"])
            if order is not None:
                self.emit(USER, self._order(order, PLACEMENT))
        elif kind == VenueEvent.ORDER_STATUS:
            order = self.venue.orders.get(fields["order_id"])
            if order is not None and order.status not in OPEN_STATUSES and order.size_matched < order.original_size:
                self.emit(USER, self._order(order, CANCELLATION))
        elif kind == VenueEvent.TRADE_MATCHED:
            self._traded.add(fields["asset_id"])
            self._trade(fields["trade_id"], matched=True)
        elif kind == VenueEvent.TRADE_STATUS:
            self._trade(fields["trade_id"], matched=False)

    def _asset_of(self, order_id: str | None) -> str | None:
        order = self.venue.orders.get(order_id or "")
        return order.asset_id if order else None

    def _trade(self, trade_id: str, *, matched: bool) -> None:
        trade = self.venue.trades[trade_id]
        owners = [trade.taker_owner] + [leg.owner for leg in trade.makers]
        for owner in dict.fromkeys(o for o in owners if o):
            viewer = self.venue.account(owner)
            if viewer is None:
                continue
            if matched:
                # the account's orders in the trade changed first: production sends UPDATE, then TRADE
                order_ids = [trade.taker_order_id] + [leg.order_id for leg in trade.makers if leg.owner == owner]
                for order_id in dict.fromkeys(order_ids):
                    order = self.venue.orders.get(order_id)
                    if order is not None and order.owner == owner:
                        self.emit(USER, self._order(order, UPDATE))
            self.emit(USER, self._trade_message(trade_json(trade, viewer)))
        if matched:
            self.emit(
                MARKET,
                {
                    "event_type": LAST_TRADE_PRICE,
                    "asset_id": trade.asset_id,
                    "market": trade.market,
                    "price": fmt(trade.price),
                    "size": fmt(trade.size),
                    "side": trade.side,
                    "fee_rate_bps": str(trade.fee_rate_bps),
                    "timestamp": self._stamp(),
                },
            )

    def _trade_message(self, trade: dict) -> dict:
        return {
            "event_type": TRADE,
            "type": "TRADE",
            "id": trade["id"],
            "taker_order_id": trade["taker_order_id"],
            "market": trade["market"],
            "asset_id": trade["asset_id"],
            "side": trade["side"],
            "size": trade["size"],
            "price": trade["price"],
            "fee_rate_bps": trade["fee_rate_bps"],
            "status": trade["status"],
            "matchtime": trade["match_time"],
            "last_update": trade["last_update"],
            "outcome": trade["outcome"],
            "owner": trade["owner"],
            "trade_owner": trade["owner"],
            "maker_address": trade["maker_address"],
            "transaction_hash": trade["transaction_hash"],
            "bucket_index": trade["bucket_index"],
            "maker_orders": trade["maker_orders"],
            "trader_side": trade["trader_side"],
            "timestamp": self._stamp(),
        }

    def _order(self, order: Order, kind: str) -> dict:
        return {
            "event_type": ORDER,
            "type": kind,
            "id": order.id,
            "owner": order.owner,
            "order_owner": order.owner,
            "market": order.market,
            "asset_id": order.asset_id,
            "side": order.side,
            "outcome": order.outcome,
            "price": fmt(order.price),
            "original_size": fmt(order.original_size),
            "size_matched": fmt(order.size_matched),
            "associate_trades": list(order.associate_trades),
            "order_type": order.order_type,
            "status": order.status,
            "created_at": str(order.created_at),
            "expiration": str(order.expiration),
            "timestamp": self._stamp(),
        }

    def _book(self, asset: str) -> dict:
        book = book_json(self.venue, asset)
        self._seen[asset] = self._levels(asset)
        return {"event_type": BOOK, **book}

    def _levels(self, asset: str) -> dict[tuple[str, str], str]:
        book = self.venue.book(asset)
        if book is None:
            return {}
        return {(side, fmt(price)): fmt(size) for side in (BUY, SELL) for price, size in book.depth(side)}

    def _stamp(self) -> str:
        return str(int(self.env.now * 1000))

    def flush(self) -> None:
        """One price_change per asset whose levels changed since its subscribers last saw them."""
        dirty, self._dirty = list(self._dirty), {}
        traded, self._traded = self._traded, set()
        for asset in dirty:
            if asset in traded:  # production sends the whole book after a trade that changed it
                self.emit(MARKET, self._book(asset))
                continue
            if asset not in self._seen:
                self._seen[asset] = self._levels(asset)
                continue
            before, now = self._seen[asset], self._levels(asset)
            changes = [
                (side, price, now.get((side, price), "0"))
                for side, price in sorted(set(before) | set(now))
                if before.get((side, price)) != now.get((side, price))
            ]
            self._seen[asset] = now
            if not changes:
                continue
            book = self.venue.book(asset)
            best_bid, best_ask = (book.best_bid(), book.best_ask()) if book is not None else (None, None)
            market = self.venue.market_of(asset)
            digest = book_json(self.venue, asset)["hash"]  # the book's hash after the change
            self.emit(
                MARKET,
                {
                    "event_type": PRICE_CHANGE,
                    "market": market.condition_id if market else "",
                    "price_changes": [
                        {
                            "asset_id": asset,
                            "price": price,
                            "size": size,
                            "side": side,
                            "hash": digest,
                            "best_bid": _price(best_bid),
                            "best_ask": _price(best_ask),
                        }
                        for side, price, size in changes
                    ],
                    "timestamp": self._stamp(),
                },
            )


_BOOK_EVENTS = frozenset(
    {
        VenueEvent.CROWD_DEPTH,
        VenueEvent.ORDER_PLACED,
        VenueEvent.ORDER_STATUS,
        VenueEvent.TRADE_MATCHED,
        VenueEvent.DIRECT_FILL,
    }
)


def _price(value: Decimal | None) -> str:
    return fmt(value) if value is not None else ""


def _ids(push: Push) -> dict:
    message = push.message
    if message.get("event_type") == PRICE_CHANGE:
        return {"levels": len(message.get("price_changes", ()))}
    return {"id": message.get("id") or message.get("asset_id") or "", "message_type": message.get("type", "")}
