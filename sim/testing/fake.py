"""A hand-written, zero-latency, in-memory Exchange (core's port, core's types) and a manual clock.

Used by core's unit tests, by the scripted demo, and as the "bare" baseline of the benchmarks.
It is not the simulated CLOB (that one speaks the venue's REST shapes to the real ClobClient):
it is a small, scriptable stand-in whose every quirk is switched on by a test:
  - `before(method, fn)`: run fn once right before the next call of that method (a race);
  - `fail_next(method, exc)`: the next call of that method raises exc (a core.errors type);
  - `hide(order_id, times)`: get_order answers None (null/404) that many times;
  - `stale(order_id, snapshot)`: the next get_order of that order answers an old snapshot;
  - `fill(order_id, size)`: the market fills a resting order (a trade and a fill notification).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from clobsim.core.errors import ExchangeError, Rejected
from clobsim.core.model import (
    ZERO,
    BookTop,
    CancelAck,
    MakerFill,
    MarketResolution,
    Notification,
    NotificationKind,
    OrderSnapshot,
    Placement,
    PlaceOrder,
    PreparedOrder,
    Side,
    TradeSnapshot,
    dec,
)
from clobsim.sim.runner.kernel import ManualClock as ManualClock  # the core tests import it from here


@dataclass
class FakeOrder:
    order_id: str
    token_id: str
    side: Side
    price: Decimal
    size: Decimal
    status: str = "LIVE"
    size_matched: Decimal = ZERO
    trades: list[str] = field(default_factory=list)

    def snapshot(self, status: str | None = None) -> OrderSnapshot:
        return OrderSnapshot(
            self.order_id,
            status or self.status,
            self.token_id,
            self.side,
            self.price,
            self.size,
            self.size_matched,
            tuple(self.trades),
        )


class FakeExchange:
    def __init__(
        self, clock: ManualClock, *, collateral: Decimal = Decimal("1000"), order_ids: list[str] | None = None
    ):
        self.clock = clock
        self.order_ids = list(order_ids or [])  # ids handed out first, in order
        self.orders: dict[str, FakeOrder] = {}
        self.order_seq: list[str] = []
        self.trades_list: list[TradeSnapshot] = []
        self.notes: list[Notification] = []
        self.books: dict[str, tuple[Decimal | None, Decimal | None]] = {}
        self.collateral = dec(collateral)
        self.tokens: dict[str, Decimal] = {}
        self.resolutions: dict[str, str] = {}
        self.calls: list[tuple[str, float]] = []
        self._before: dict[str, list[Callable[[], None]]] = {}
        self._fail: dict[str, list[ExchangeError]] = {}
        self._hidden: dict[str, int] = {}
        self._stale: dict[str, OrderSnapshot] = {}
        self._n_orders = 0
        self._n_trades = 0
        self._n_notes = 0

    # ---- scripting ---------------------------------------------------------------------------

    def before(self, method: str, fn: Callable[[], None]) -> None:
        self._before.setdefault(method, []).append(fn)

    def fail_next(self, method: str, exc: ExchangeError) -> None:
        self._fail.setdefault(method, []).append(exc)

    def hide(self, order_id: str, times: int = 1) -> None:
        self._hidden[order_id] = times

    def stale(self, order_id: str, snapshot: OrderSnapshot) -> None:
        self._stale[order_id] = snapshot

    def set_book(self, token_id: str, bid, ask) -> None:
        self.books[token_id] = (dec(bid) if bid is not None else None, dec(ask) if ask is not None else None)

    def credit(self, token_id: str, shares) -> None:
        self.tokens[token_id] = self.tokens.get(token_id, ZERO) + dec(shares)

    def _enter(self, method: str) -> None:
        self.calls.append((method, self.clock.now()))
        hooks = self._before.get(method)
        if hooks:
            hooks.pop(0)()
        failures = self._fail.get(method)
        if failures:
            raise failures.pop(0)

    def fill(self, order_id: str, size, price=None, *, notify: bool = True, status: str = "MATCHED") -> str:
        """The market takes `size` of a resting order; returns the trade id."""
        order = self.orders[order_id]
        size = dec(size)
        price = dec(price) if price is not None else order.price
        self._n_trades += 1
        trade_id = f"trade-{self._n_trades:04d}"
        order.size_matched += size
        order.trades.append(trade_id)
        if order.size_matched >= order.size:
            order.status = "MATCHED"
        taker_side = Side.SELL if order.side is Side.BUY else Side.BUY
        self.trades_list.append(
            TradeSnapshot(
                trade_id,
                status,
                order.token_id,
                taker_side,
                size,
                price,
                f"taker-{self._n_trades:04d}",
                (MakerFill(order_id, size, price),),
                int(self.clock.now()),
            )
        )
        if order.side is Side.BUY:
            self.credit(order.token_id, size)
        else:
            self.collateral += size * price
        if notify:
            self.notify(
                NotificationKind.FILL,
                order_id=order_id,
                trade_id=trade_id,
                asset_id=order.token_id,
                size=size,
                price=price,
                status=status,
            )
        return trade_id

    def fail_trade(self, trade_id: str) -> None:
        """RETRYING -> FAILED: the fill is void."""
        for i, t in enumerate(self.trades_list):
            if t.trade_id == trade_id:
                self.trades_list[i] = TradeSnapshot(
                    t.trade_id,
                    "FAILED",
                    t.asset_id,
                    t.side,
                    t.size,
                    t.price,
                    t.taker_order_id,
                    t.maker_orders,
                    t.match_time,
                )
                for maker in t.maker_orders:
                    self.orders[maker.order_id].size_matched -= maker.matched_amount

    def notify(self, kind: NotificationKind, **fields) -> None:
        self._n_notes += 1
        self.notes.append(Notification(f"n-{self._n_notes:04d}", kind, **fields))

    def resolve(self, market: str, winning_token_id: str) -> None:
        self.resolutions[market] = winning_token_id
        for oid in self.order_seq:
            if self.orders[oid].status == "LIVE":
                self.orders[oid].status = "CANCELED_MARKET_RESOLVED"
        self.notify(NotificationKind.RESOLVED, market=market, winning_asset_id=winning_token_id)

    # ---- the Exchange port -------------------------------------------------------------------

    def prepare_order(self, command: PlaceOrder) -> PreparedOrder:
        self._enter("prepare_order")
        self._n_orders += 1
        if self.order_ids:
            order_id = self.order_ids.pop(0)
        else:
            order_id = "0x" + hashlib.sha256(f"fake-order-{self._n_orders}".encode()).hexdigest()
        return PreparedOrder(order_id, command, signed=command)

    def post_order(self, prepared: PreparedOrder) -> Placement:
        self._enter("post_order")
        cmd = prepared.command
        if cmd.side is Side.BUY and cmd.price * cmd.size > self.collateral:
            raise Rejected("not enough balance / allowance", status=400)
        # as the venue refuses a sale beyond the shares held: a shortfall no trade states shows
        # first as this refusal (failure mode 7). Lenient: a sale's fill takes no shares back here.
        if cmd.side is Side.SELL and cmd.size > self.tokens.get(cmd.token_id, ZERO):
            raise Rejected("not enough balance / allowance", status=400)
        order = FakeOrder(prepared.order_id, cmd.token_id, cmd.side, cmd.price, cmd.size)
        self.orders[order.order_id] = order
        self.order_seq.append(order.order_id)
        if cmd.side is Side.BUY:
            self.collateral -= cmd.price * cmd.size
        _, ask = self.books.get(cmd.token_id, (None, None))
        if cmd.side is Side.BUY and ask is not None and cmd.price >= ask:
            self.fill(order.order_id, cmd.size, ask, notify=False)
            return Placement(order.order_id, "matched", cmd.size, cmd.size * ask)
        return Placement(order.order_id, "live")

    def cancel_order(self, order_id: str) -> CancelAck:
        self._enter("cancel_order")
        order = self.orders.get(order_id)
        if order is None or order.status != "LIVE":
            return CancelAck(order_id, False, "order can't be found - already canceled or matched")
        order.status = "CANCELED"
        return CancelAck(order_id, True)

    def get_order(self, order_id: str) -> OrderSnapshot | None:
        self._enter("get_order")
        if order_id in self._stale:
            return self._stale.pop(order_id)
        if self._hidden.get(order_id, 0) > 0:
            self._hidden[order_id] -= 1
            return None
        order = self.orders.get(order_id)
        return order.snapshot() if order is not None else None

    def open_orders(self, asset_id: str = "") -> list[OrderSnapshot]:
        self._enter("open_orders")
        return [
            self.orders[o].snapshot()
            for o in self.order_seq
            if self.orders[o].status == "LIVE" and asset_id in ("", self.orders[o].token_id)
        ]

    def trades(self, asset_id: str = "") -> list[TradeSnapshot]:
        self._enter("trades")
        return [t for t in self.trades_list if asset_id in ("", t.asset_id)]

    def notifications(self) -> list[Notification]:
        self._enter("notifications")
        return list(self.notes)

    def drop_notifications(self, notification_ids: list[str]) -> None:
        self._enter("drop_notifications")
        dropped = set(notification_ids)
        self.notes = [n for n in self.notes if n.notification_id not in dropped]

    def balance(self, token_id: str | None = None) -> Decimal:
        self._enter("balance")
        return self.collateral if token_id is None else self.tokens.get(token_id, ZERO)

    def book(self, token_id: str) -> BookTop:
        self._enter("book")
        bid, ask = self.books.get(token_id, (None, None))
        return BookTop(token_id, bid, ask)

    def resolution(self, market: str) -> MarketResolution:
        self._enter("resolution")
        winner = self.resolutions.get(market)
        return MarketResolution(market, winner is not None, winner)
