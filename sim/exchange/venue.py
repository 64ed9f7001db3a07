"""The simulated exchange: accounts, balances, order rules, matching, trades, notifications.

The Venue is pure exchange logic. It never reads a clock (time comes from the injected `now()`),
never draws random numbers, and derives every id from a counter or a hash, so a run is a function
of its inputs. Requests reach it through sim.gateway (the only dispatch point); the market model
and the later scheduler call its exchange-side methods directly:

    set_crowd_depth / take              the rest of the market moves the book and trades with us
    advance_trade                       MATCHED -> MINED -> CONFIRMED, or RETRYING -> FAILED
    release_delayed / fail_delayed      the fate of an order answered `delayed`
    expire_orders / heartbeat_sweep     GTD expiry; the 10 s heartbeat dead-man switch
    operator_cancel                     the operator cancels one order
    resolve_market                      payout and CANCELED_MARKET_RESOLVED

Every state change appends one plain dict to `events` ({seq, time, kind, fields}); this list is
the exchange's half of the run trace, identical in fast and wire mode.

Decisions where clob-reference.md and venue-shapes.md are silent:
- Sizes are shares for every order type (a BUY's size is its takerAmount). A marketable BUY that
  trades below its limit spends less USDC for the same shares; the real engine gives a market
  BUY more shares for the same USDC instead.
- One trade per price level a taker reaches; `bucket_index` numbers them within one match.
  Trades are created only when an account takes part; crowd-against-crowd only moves the book.
- Balances move at MATCHED. A trade that ends FAILED reverses its movements exactly; the orders
  keep their size_matched (a ghost fill, as seen in the wild).
- GET /balance-allowance reports the whole balance; resting orders lock part of it for the
  "not enough balance / allowance" check only.
- A FAK that matched part of its size ends MATCHED (the rest is killed, no cancel notification).
- Resolution pays each winning share 1 USDC and zeroes both token balances (auto-redeem).
- Self-trades are allowed (Polymarket does not prevent them).
- Each token has its own book; BUY Up / SELL Down equivalence (mint/merge) is not modelled.
- Under protocol v2 (docs/venue-shapes.md, "CLOB V2") the taker of a trade pays the market's
  operator fee in what it receives, the operator ends orders with V2's statuses
  (CANCELED_NOT_ENOUGH_BALANCE, EXPIRED_ORDER, ORDER_TIMED_OUT), and a FAILED trade raises
  notification type 8. Under v1 none of it: the venue is the one recorded runs were made with.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal

from clobsim.core.fees import fee_in_shares, rate_of, taker_fee
from clobsim.sim.exchange.book import BUY, SELL, ZERO, Book, Fill
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.markets import TICK_SIZES, V2_TICK_SIZES, Market, updown_market
from clobsim.sim.exchange.protocol import V1, V2
from clobsim.sim.exchange.records import (
    ALREADY_GONE,
    BASE_UNITS,
    CANCELED,
    CANCELED_MARKET_RESOLVED,
    CANCELED_NOT_ENOUGH_BALANCE,
    COLLATERAL,
    DELAYED,
    EXPIRED_ORDER,
    FAILED,
    FAK_NO_MATCH,
    FOK_NOT_FILLED,
    INVALID_EXPIRATION,
    INVALID_PAYLOAD,
    LIVE,
    MARKET_NOT_READY,
    MATCHED,
    NOT_ENOUGH_BALANCE,
    NOTE_CANCEL,
    NOTE_FILL,
    NOTE_FILL_FAILED,
    NOTE_RESOLVED,
    ORDER_TIMED_OUT,
    ORDER_TYPES,
    OWNER_MISMATCH,
    POST_ONLY_CROSSES,
    SIGNER_MISMATCH,
    TRADE_MOVES,
    UNAUTHORIZED,
    UNMATCHED,
    Account,
    MakerLeg,
    Notification,
    Order,
    OrderRequest,
    Placement,
    Trade,
    VenueError,
    fmt,
)

USDC_QUANTUM = Decimal("0.000001")
HEARTBEAT_TIMEOUT = 10.0
GTD_SECURITY_MARGIN = 60  # Polymarket expires GTD orders a minute before their expiration
CROWD_ADDRESS = "0x" + "c0" * 20  # maker address shown for crowd liquidity
# Who receives the shares a fill delivers short (size_shortfall): the operator's fee, taken in
# the outcome token as Polymarket takes a BUY's fee. Not an account (it trades nothing); its
# movements are on the record, so no share leaves the market unaccounted (payouts-match-ledger).
OPERATOR = "operator"


def _hash_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---- the venue --------------------------------------------------------------------------------


class Venue:
    def __init__(self, now: Callable[[], float], *, chain_id: int = 137, name: str = "clobsim", protocol: str = V1):
        self.now = now
        self.chain_id = chain_id
        # v2 turns on what CLOB V2 changed at match time: the operator's taker fee, the statuses
        # by which the operator ends orders, MATCHED_NOT_BROADCASTED and notification type 8
        self.protocol = protocol
        self.name = name  # namespaces generated ids
        self.events: list[dict] = []
        self.accounts: dict[str, Account] = {}
        self.markets: dict[str, Market] = {}
        self.orders: dict[str, Order] = {}
        self.trades: dict[str, Trade] = {}
        self.notifications: dict[str, list[Notification]] = {}
        self._books: dict[str, Book] = {}
        self._market_of_token: dict[str, Market] = {}
        self._match_delay: dict[str, str] = {}  # token id -> "delay" | "unmatched"
        self._counters: dict[str, int] = {}
        self.listeners: list[Callable[[dict], None]] = []  # called with every recorded event
        # kind -> listeners of those kinds only (watch()), called after `listeners`, in order
        self._watchers: dict[str, list[Callable[[dict], None]]] = {}
        # order id -> shares withheld per fill of a BUY (fees/rounding: clob-reference mode 7)
        self.share_shortfall: dict[str, Decimal] = {}
        self._on_tick: dict[Decimal, dict[Decimal, bool]] = {}  # tick -> price -> on the tick

    # ---- bookkeeping -------------------------------------------------------------------

    def _record(self, kind: VenueEvent, **fields) -> None:
        self._emit(kind, fields)

    def watch(self, kinds, listener: Callable[[dict], None]) -> None:
        """Call `listener` with every recorded event of these kinds (after `listeners`): most
        events are the crowd's quotes, which a listener of fills and balances never wants."""
        for kind in kinds:
            self._watchers.setdefault(kind, []).append(listener)

    def _emit(self, kind: VenueEvent, fields: dict) -> None:
        events = self.events
        event = {"seq": len(events), "time": self.now(), "kind": kind, "fields": fields}
        events.append(event)
        for listener in self.listeners:
            listener(event)
        watchers = self._watchers.get(kind)
        if watchers:
            for listener in watchers:
                listener(event)

    def _next(self, counter: str) -> int:
        self._counters[counter] = self._counters.get(counter, 0) + 1
        return self._counters[counter]

    def _uuid(self, counter: str) -> str:
        digest = hashlib.sha256(f"{self.name}:{counter}:{self._next(counter)}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def _clock(self) -> int:
        return int(self.now())

    # ---- setup -------------------------------------------------------------------------

    def open_account(
        self,
        api_key: str,
        secret: str,
        passphrase: str,
        address: str,
        *,
        funder: str | None = None,
        collateral: Decimal | str | int = 0,
    ) -> Account:
        if api_key in self.accounts:
            raise ValueError(f"account {api_key} exists")
        account = Account(api_key, secret, passphrase, address, funder or address)
        self.accounts[api_key] = account
        self.notifications[api_key] = []
        self._record(VenueEvent.ACCOUNT_OPENED, owner=api_key, address=address, funder=account.funder)
        if collateral:
            self.deposit(api_key, COLLATERAL, collateral)
        return account

    def deposit(self, api_key: str, asset: str, amount: Decimal | str | int) -> None:
        """Credit (or, negative, debit) an account outside trading: funding, a balance fault."""
        self._move(api_key, asset, Decimal(str(amount)))
        market = self._market_of_token.get(asset)
        if market is not None:
            self._touch(self.accounts[api_key], market.condition_id)
        self._record(VenueEvent.DEPOSIT, owner=api_key, asset=asset, amount=fmt(Decimal(str(amount))))

    def list_market(self, market: Market) -> Market:
        if market.condition_id in self.markets:
            raise ValueError(f"market {market.slug} is listed")
        self.markets[market.condition_id] = market
        for token_id in market.token_ids:
            self._market_of_token[token_id] = market
            self._books[token_id] = Book(token_id)
        self._record(
            VenueEvent.MARKET_LISTED,
            market=market.condition_id,
            slug=market.slug,
            tokens=list(market.token_ids),
            tick_size=fmt(market.tick_size),
            min_size=fmt(market.min_size),
        )
        return market

    def open_updown_market(self, symbol: str, window_start: int, **options) -> Market:
        """List a window's market. Under v1 the operator's fee (V2 only: V1 signs its fee into
        the order, and clobsim's V1 orders sign 0) is dropped."""
        if self.protocol == V1:
            options.pop("taker_fee_rate", None)
            options.pop("fee_exponent", None)
        tick_sizes = V2_TICK_SIZES if self.protocol == V2 else TICK_SIZES
        return self.list_market(updown_market(symbol, window_start, tick_sizes=tick_sizes, **options))

    # ---- lookups -----------------------------------------------------------------------

    def account(self, api_key: str | None) -> Account | None:
        return self.accounts.get(api_key) if api_key else None

    def market_of(self, token_id: str) -> Market | None:
        return self._market_of_token.get(token_id)

    def book(self, token_id: str) -> Book | None:
        return self._books.get(token_id)

    def balance(self, api_key: str, asset: str) -> Decimal:
        return self.accounts[api_key].balance(asset)

    def locked(self, account: Account, asset: str) -> Decimal:
        total = ZERO
        for order in account.open_orders.values():
            if order.side == BUY and asset == COLLATERAL:
                total += order.remaining * order.price
            elif order.side == SELL and asset == order.asset_id:
                total += order.remaining
        return total

    def available(self, api_key: str, asset: str) -> Decimal:
        account = self.accounts[api_key]
        return account.balance(asset) - self.locked(account, asset)

    # ---- placing -----------------------------------------------------------------------

    def place_order(self, owner: str, request: OrderRequest) -> Placement:
        account = self._require_account(owner)
        try:
            market, side, price, size = self._validate(account, request)
        except VenueError as exc:
            self._record(
                VenueEvent.ORDER_REJECTED, order_id=request.order_id, owner=owner, status=exc.status, error=exc.message
            )
            raise
        order = Order(
            id=request.order_id,
            owner=owner,
            maker_address=account.funder,
            market=market.condition_id,
            asset_id=request.token_id,
            outcome=market.outcome_of(request.token_id),
            side=side,
            price=price,
            original_size=size,
            order_type=request.order_type,
            expiration=request.expiration,
            created_at=self._clock(),
            post_only=request.post_only,
        )
        self.orders[order.id] = order
        self._touch(account, market.condition_id)
        self._record(
            VenueEvent.ORDER_PLACED,
            order_id=order.id,
            owner=owner,
            market=order.market,
            asset_id=order.asset_id,
            side=side,
            price=fmt(price),
            size=fmt(size),
            order_type=order.order_type,
            post_only=order.post_only,
            expiration=order.expiration,
        )
        book = self._books[order.asset_id]
        delay = self._match_delay.get(order.asset_id)
        if delay and book.crosses(side, price):
            return self._hold(order, delay)
        trades = self._execute(order, market, book)
        return self._placement(order, trades)

    def _validate(self, account: Account, request: OrderRequest):
        """The exchange's checks in the order it makes them; -> (market, side, price, size)."""
        market = self._market_of_token.get(request.token_id)
        if (
            market is None
            or request.order_type not in ORDER_TYPES
            or request.side not in (BUY, SELL)
            or request.maker_amount <= 0
            or request.taker_amount <= 0
        ):
            raise VenueError(400, INVALID_PAYLOAD)
        if request.owner_field != account.api_key or request.maker.lower() != account.funder.lower():
            raise VenueError(400, OWNER_MISMATCH)
        if request.signer.lower() != account.address.lower():
            raise VenueError(400, SIGNER_MISMATCH)
        if not market.accepting_orders:
            raise VenueError(400, MARKET_NOT_READY)
        if request.order_id in self.orders:
            raise VenueError(400, f"order {request.order_id} is invalid. Duplicated.")
        side = request.side
        usdc, shares = (
            (request.maker_amount, request.taker_amount)
            if side == BUY
            else (request.taker_amount, request.maker_amount)
        )
        price = Decimal(usdc) / Decimal(shares)
        size = Decimal(shares) / BASE_UNITS
        tick = market.tick_size
        if price % tick != 0 or not tick <= price <= 1 - tick:
            raise VenueError(
                400,
                f"order {request.order_id} is invalid. Price ({fmt(price)}) breaks minimum tick size rule: {fmt(tick)}",
            )
        if size < market.min_size:
            raise VenueError(
                400,
                f"order {request.order_id} is invalid. Size ({fmt(size)}) "
                f"lower than the minimum: {fmt(market.min_size)}",
            )
        self._check_type_and_expiration(request)
        needed, asset = (Decimal(usdc) / BASE_UNITS, COLLATERAL) if side == BUY else (size, request.token_id)
        if self.available(account.api_key, asset) < needed:
            raise VenueError(400, NOT_ENOUGH_BALANCE)
        book = self._books[request.token_id]
        if request.post_only and book.crosses(side, price):
            raise VenueError(400, POST_ONLY_CROSSES)
        if request.order_type == "FOK" and book.liquidity(side, price) < size:
            raise VenueError(400, FOK_NOT_FILLED)
        if request.order_type == "FAK" and book.liquidity(side, price) == 0:
            raise VenueError(400, FAK_NO_MATCH)
        return market, side, price, size

    def _check_type_and_expiration(self, request: OrderRequest) -> None:
        if request.post_only and request.order_type not in ("GTC", "GTD"):
            raise VenueError(400, INVALID_PAYLOAD)
        if request.order_type == "GTD":
            if request.expiration <= self.now() + GTD_SECURITY_MARGIN:
                raise VenueError(400, INVALID_EXPIRATION)
        elif request.expiration != 0:
            raise VenueError(400, INVALID_EXPIRATION)

    def _execute(self, order: Order, market: Market, book: Book) -> list[Trade]:
        """Match an arriving (or released) order, then rest or kill what is left."""
        fills = book.match(order.side, order.remaining, order.price)
        trades = self._book_trades(market, order.asset_id, order.side, fills, order, order.id)
        if order.remaining == 0:
            self._set_status(order, MATCHED)
        elif order.order_type in ("GTC", "GTD"):
            book.rest(order.id, order.owner, order.side, order.price, order.remaining)
            self._set_status(order, LIVE)
        else:  # FAK remainder is killed; FOK never gets here with a remainder
            self._set_status(order, MATCHED if order.size_matched > 0 else UNMATCHED)
        return trades

    def _hold(self, order: Order, mode: str) -> Placement:
        """Marketable order while matching is delayed: accepted, but not matched (yet)."""
        if mode == "unmatched":
            self._set_status(order, UNMATCHED)
            return Placement(order, "unmatched", [], ZERO, ZERO)
        self._set_status(order, DELAYED)
        return Placement(order, "delayed", [], ZERO, ZERO)

    def _placement(self, order: Order, trades: list[Trade]) -> Placement:
        shares = sum((t.size for t in trades), ZERO)
        usdc = sum((self._cost(t) for t in trades), ZERO)
        making, taking = (usdc, shares) if order.side == BUY else (shares, usdc)
        status = "matched" if order.size_matched > 0 else "live"
        return Placement(order, status, trades, making, taking)

    @staticmethod
    def _cost(trade: Trade) -> Decimal:
        return sum((_fill_cost(leg.matched_amount, leg.price) for leg in trade.makers), ZERO)

    def _set_status(self, order: Order, status: str, reason: str = "") -> None:
        order.status = status
        account = self.accounts[order.owner]
        if order.is_open:
            account.open_orders[order.id] = order
        else:
            account.open_orders.pop(order.id, None)
        self._record(
            VenueEvent.ORDER_STATUS,
            order_id=order.id,
            status=status,
            size_matched=fmt(order.size_matched),
            reason=reason,
        )

    # ---- trades ------------------------------------------------------------------------

    def _book_trades(
        self, market: Market, token_id: str, taker_side: str, fills: list[Fill], taker: Order | None, taker_ref: str
    ) -> list[Trade]:
        """Turn a taker's fills into trades, one per price level, and settle them."""
        trades: list[Trade] = []
        for group in _by_price(fills):
            if taker is None and all(f.maker_owner is None for f in group):
                continue  # the crowd trading with itself: nobody to tell
            trades.append(
                self._book_trade(market, token_id, taker_side, group, taker, taker_ref, bucket_index=len(trades))
            )
        return trades

    def _book_trade(
        self,
        market: Market,
        token_id: str,
        taker_side: str,
        group: list[Fill],
        taker: Order | None,
        taker_ref: str,
        bucket_index: int,
    ) -> Trade:
        trade_id = self._uuid("trade")
        now = self._clock()
        maker_side = SELL if taker_side == BUY else BUY
        trade = Trade(
            id=trade_id,
            market=market.condition_id,
            asset_id=token_id,
            outcome=market.outcome_of(token_id),
            taker_order_id=taker_ref,
            taker_owner=taker.owner if taker else None,
            side=taker_side,
            size=sum((f.size for f in group), ZERO),
            price=group[0].price,
            match_time=now,
            last_update=now,
            bucket_index=bucket_index,
            makers=[],
            transaction_hash="0x" + _hash_hex(f"{self.name}:tx:{trade_id}"),
            fee_rate_bps=market.fee_rate_bps,
        )
        if market.taker_fee_rate and taker is not None:
            # V2: the operator charges the taker at match time, in what the taker receives;
            # makers pay nothing (the crowd's takes are not booked, so only a bot taker pays)
            # charged at the rate the trade states (a scenario's rate is whole basis points), so
            # that a bot reading the trade derives the fee exactly (core.fees, the one formula)
            trade.fee_rate_bps = int(market.taker_fee_rate * 10_000)
            rate = rate_of(trade.fee_rate_bps)
            trade.fee = taker_fee(trade.size, trade.price, rate, market.fee_exponent)
        for fill in group:
            trade.makers.append(self._fill_maker(trade, fill, maker_side))
        if taker is not None:
            self._fill_order(taker, trade, trade.size, self._cost(trade), fee=trade.fee)
        self.trades[trade_id] = trade
        for owner in trade.owners():
            account = self.accounts[owner]
            account.trade_ids.append(trade_id)
            self._touch(account, trade.market)
        self._record(
            VenueEvent.TRADE_MATCHED,
            trade_id=trade_id,
            market=trade.market,
            asset_id=token_id,
            taker_order_id=taker_ref,
            taker_owner=trade.taker_owner,
            side=taker_side,
            price=fmt(trade.price),
            size=fmt(trade.size),
            bucket_index=bucket_index,
            makers=[
                {"order_id": leg.order_id, "owner": leg.owner, "matched_amount": fmt(leg.matched_amount)}
                for leg in trade.makers
            ],
            # what each account was delivered: shares can fall short of matched_amount (mode 7)
            movements=[[o, a, fmt(d)] for o, a, d in trade.movements],
            **({"fee": fmt(trade.fee), "fee_rate_bps": trade.fee_rate_bps} if trade.fee else {}),
        )
        self._notify_fills(trade, taker)
        return trade

    def _fill_maker(self, trade: Trade, fill: Fill, maker_side: str) -> MakerLeg:
        if fill.maker_owner is None:
            return MakerLeg(fill.maker_ref, None, CROWD_ADDRESS, fill.size, fill.price, maker_side)
        order = self.orders[fill.maker_ref]
        self._fill_order(order, trade, fill.size, _fill_cost(fill.size, fill.price))
        if fill.maker_done:
            self._set_status(order, MATCHED)
        return MakerLeg(order.id, order.owner, order.maker_address, fill.size, fill.price, maker_side)

    def _fill_order(self, order: Order, trade: Trade, shares: Decimal, usdc: Decimal, fee: Decimal = ZERO) -> None:
        """Book one order's part of a trade. A BUY receives its shares less any shortfall (mode 7:
        the size_shortfall fault) and less a taker fee converted to shares at the trade's price;
        a SELL receives its USDC less a taker fee. size_matched counts the shares matched, so
        what the bot holds (and can sell) is what was delivered, not size_matched."""
        order.size_matched += shares
        order.associate_trades.append(trade.id)
        received = shares
        if order.side == BUY:
            if order.id in self.share_shortfall:
                received = max(ZERO, shares - self.share_shortfall[order.id])
            if fee:
                received = max(ZERO, received - fee_in_shares(fee, trade.price))
        token_delta = received if order.side == BUY else -shares
        usdc_delta = -usdc if order.side == BUY else usdc - fee
        for asset, delta in ((order.asset_id, token_delta), (COLLATERAL, usdc_delta)):
            self._move(order.owner, asset, delta)
            trade.movements.append((order.owner, asset, delta))
        if received != shares:
            trade.movements.append((OPERATOR, order.asset_id, shares - received))

    @staticmethod
    def _touch(account: Account, condition_id: str) -> None:
        """Remember the account has a stake in the market: it is paid and told at resolution."""
        if condition_id not in account.markets:
            account.markets.append(condition_id)

    def _move(self, api_key: str, asset: str, delta: Decimal) -> None:
        balances = self.accounts[api_key].balances
        balances[asset] = balances.get(asset, ZERO) + delta

    def _notify_fills(self, trade: Trade, taker: Order | None, note_type: int = NOTE_FILL) -> None:
        """One notification per order of an account in the trade: type 2 at the match; under v2
        type 8 (order fill failed) too when the trade ends FAILED, in the same shape."""
        legs = [(taker, trade.size)] if taker else []
        legs += [(self.orders[leg.order_id], leg.matched_amount) for leg in trade.makers if leg.owner is not None]
        for order, size in legs:
            self._notify(
                order.owner,
                note_type,
                {
                    "order_id": order.id,
                    "trade_id": trade.id,
                    "asset_id": order.asset_id,
                    "market": order.market,
                    "side": order.side,
                    "price": fmt(trade.price),
                    "size": fmt(size),
                    "status": trade.status,
                },
                order,
            )

    def advance_trade(self, trade_id: str, status: str) -> Trade:
        """Move a trade along its settlement path; FAILED voids the fill's balance movements."""
        trade = self.trades[trade_id]
        if status not in TRADE_MOVES[trade.status]:
            raise ValueError(f"trade {trade_id}: {trade.status} -> {status} is not a move")
        trade.status = status
        trade.last_update = self._clock()
        self._record(VenueEvent.TRADE_STATUS, trade_id=trade_id, status=status)
        if status == FAILED:
            for owner, asset, delta in trade.movements:
                if owner != OPERATOR:
                    self._move(owner, asset, -delta)
            self._record(
                VenueEvent.TRADE_VOIDED, trade_id=trade_id, movements=[[o, a, fmt(-d)] for o, a, d in trade.movements]
            )
            for owner, asset, delta in trade.movements:
                # under v1 only shares taken back end orders (as before V2's status existed)
                if delta > ZERO and owner != OPERATOR and (asset != COLLATERAL or self.protocol == V2):
                    self._cancel_uncovered(self.accounts[owner], asset)
            if self.protocol == V2:
                self._notify_fills(trade, self._taker_order(trade), NOTE_FILL_FAILED)
        return trade

    def _taker_order(self, trade: Trade) -> Order | None:
        return self.orders.get(trade.taker_order_id) if trade.taker_owner else None

    def _cancel_uncovered(self, account: Account, asset: str) -> None:
        """What a FAILED trade took back can no longer back a resting order: as the real operator
        does with orders whose balance vanished, cancel the account's orders that lock `asset`
        (SELLs of the token; under v2 also BUYs, when the collateral went), newest first, until
        the rest are covered. Without this a resting exit sized on the void fill matches in full
        and the account goes short (repro ghost-exit-after-failed). V2 names the status
        CANCELED_NOT_ENOUGH_BALANCE; v1 says CANCELED."""
        side = BUY if asset == COLLATERAL else SELL
        locking = [o for o in account.open_orders.values() if o.side == side and (side == BUY or o.asset_id == asset)]
        status = CANCELED_NOT_ENOUGH_BALANCE if self.protocol == V2 else CANCELED
        for order in reversed(locking):
            if self.locked(account, asset) <= account.balance(asset):
                break
            self._cancel(order, status, "insufficient balance after a FAILED trade")

    # ---- the rest of the market --------------------------------------------------------

    def set_crowd_depth(self, token_id: str, side: str, price: Decimal | str, size: Decimal | str) -> list[Trade]:
        """Set the crowd's resting size at one level. Growth that crosses the book trades first
        (as an incoming crowd order would), so the book never stays crossed."""
        return self.set_crowd_levels(token_id, side, (price,), size)

    def set_crowd_levels(self, token_id: str, side: str, prices, size: Decimal | str) -> list[Trade]:
        """set_crowd_depth at each of `prices` in turn, to the same size: the market re-quoting
        one side of a book every step (a few thousand levels a window, most of them unchanged).

        A level re-quoted at the size it already has changes nothing and records no event (trace
        format 2, sim.trace.TRACE_FORMAT): three quarters of a window's re-quotes, once its
        busiest events and trace records."""
        book, market = self._books[token_id], self._market_of_token[token_id]
        tick = market.tick_size
        on_tick_cache = self._on_tick.get(tick)
        if on_tick_cache is None:
            on_tick_cache = self._on_tick[tick] = {}
        # Decimal(str(d)) is d itself (same digits, same exponent): skip the round trip
        wanted = size if type(size) is Decimal else Decimal(str(size))
        trades: list[Trade] = []
        for price in prices:
            price = price if type(price) is Decimal else Decimal(str(price))
            on_tick = on_tick_cache.get(price)
            if on_tick is None:
                on_tick = on_tick_cache[price] = price % tick == 0
            if not on_tick:
                raise ValueError(f"price {price} is off the {tick} tick")
            extra = wanted - book.crowd_at(side, price)
            if not extra:
                continue
            size = wanted
            if extra > 0 and book.crosses(side, price):
                before = book.liquidity(side, price)
                trades += self.take(token_id, side, extra, price)
                size -= min(extra, before)
            book.set_crowd(side, price, size)  # the crowd there now holds `size`
            fields = {"asset_id": token_id, "side": side, "price": fmt(price), "size": fmt(size)}
            self._emit(VenueEvent.CROWD_DEPTH, fields)
        return trades

    def take(
        self, token_id: str, taker_side: str, size: Decimal | str, limit_price: Decimal | str | None = None
    ) -> list[Trade]:
        """Taker flow from the rest of the market: consumes the queue ahead, then bot orders."""
        book, market = self._books[token_id], self._market_of_token[token_id]
        limit = None if limit_price is None else Decimal(str(limit_price))
        fills = book.match(taker_side, Decimal(str(size)), limit)
        taker_ref = "0x" + _hash_hex(f"{self.name}:crowd-taker:{self._next('crowd-taker')}")
        trades = self._book_trades(market, token_id, taker_side, fills, None, taker_ref)
        self._record(
            VenueEvent.CROWD_TAKE,
            asset_id=token_id,
            side=taker_side,
            size=fmt(Decimal(str(size))),
            limit_price=None if limit is None else fmt(limit),
            filled=fmt(sum((f.size for f in fills), ZERO)),
            trades=[t.id for t in trades],
        )
        return trades

    def fill_resting(self, order_id: str, size: Decimal | str) -> list[Trade]:
        """The market takes `size` of one resting order directly (a fault's scripted fill)."""
        order = self.orders[order_id]
        if not order.is_open:
            return []
        book, market = self._books[order.asset_id], self._market_of_token[order.asset_id]
        fill = book.take_from(order_id, min(Decimal(str(size)), order.remaining))
        if fill is None or fill.size <= 0:
            return []
        taker_side = SELL if order.side == BUY else BUY
        taker_ref = "0x" + _hash_hex(f"{self.name}:crowd-taker:{self._next('crowd-taker')}")
        trades = self._book_trades(market, order.asset_id, taker_side, [fill], None, taker_ref)
        self._record(VenueEvent.DIRECT_FILL, order_id=order_id, size=fmt(fill.size), trades=[t.id for t in trades])
        return trades

    # ---- delayed matching --------------------------------------------------------------

    def set_match_delay(self, token_id: str, mode: str | None) -> None:
        """mode "delay": marketable orders answer `delayed` until release_delayed/fail_delayed;
        "unmatched": they answer `unmatched` (delaying failed); None: match on arrival."""
        if mode not in (None, "delay", "unmatched"):
            raise ValueError(f"unknown delay mode {mode!r}")
        if mode is None:
            self._match_delay.pop(token_id, None)
        else:
            self._match_delay[token_id] = mode
        self._record(VenueEvent.MATCH_DELAY, asset_id=token_id, mode=mode)

    def release_delayed(self, order_id: str) -> list[Trade]:
        order = self.orders[order_id]
        if order.status != DELAYED:
            raise ValueError(f"order {order_id} is {order.status}, not DELAYED")
        market, book = self._market_of_token[order.asset_id], self._books[order.asset_id]
        liquidity = book.liquidity(order.side, order.price)
        if (order.order_type == "FOK" and liquidity < order.remaining) or (
            order.order_type == "FAK" and liquidity == 0
        ):
            self._set_status(order, UNMATCHED, reason="released unfillable")
            return []
        return self._execute(order, market, book)

    def fail_delayed(self, order_id: str, *, timed_out: bool = False) -> None:
        """The engine gives up matching an order it answered `delayed`: UNMATCHED, or with
        `timed_out` V2's ORDER_TIMED_OUT (the engine's time limit ran out; a v1 venue has no such
        status and says UNMATCHED)."""
        order = self.orders[order_id]
        if order.status != DELAYED:
            raise ValueError(f"order {order_id} is {order.status}, not DELAYED")
        status = ORDER_TIMED_OUT if timed_out and self.protocol == V2 else UNMATCHED
        self._set_status(order, status, reason="timed out" if status == ORDER_TIMED_OUT else "delay failed")

    # ---- cancelling --------------------------------------------------------------------

    def cancel(self, owner: str, order_ids: list[str]) -> tuple[list[str], dict[str, str]]:
        account = self._require_account(owner)
        canceled: list[str] = []
        not_canceled: dict[str, str] = {}
        for order_id in order_ids:
            order = account.open_orders.get(order_id)
            if order is None:
                not_canceled[order_id] = ALREADY_GONE
            else:
                self._cancel(order, CANCELED, "user")
                canceled.append(order_id)
        return canceled, not_canceled

    def cancel_all(self, owner: str) -> list[str]:
        account = self._require_account(owner)
        return self.cancel(owner, list(account.open_orders))[0]

    def cancel_market(self, owner: str, market: str = "", asset_id: str = "") -> list[str]:
        account = self._require_account(owner)
        ids = [
            o.id
            for o in account.open_orders.values()
            if (not market or o.market == market) and (not asset_id or o.asset_id == asset_id)
        ]
        return self.cancel(owner, ids)[0]

    def _cancel(self, order: Order, status: str, reason: str) -> None:
        self._books[order.asset_id].remove(order.id)
        self._set_status(order, status, reason=reason)
        self._notify(
            order.owner,
            NOTE_CANCEL,
            {
                "order_id": order.id,
                "asset_id": order.asset_id,
                "market": order.market,
                "side": order.side,
                "price": fmt(order.price),
                "original_size": fmt(order.original_size),
                "size_matched": fmt(order.size_matched),
            },
            order,
        )

    def operator_cancel(self, order_id: str, reason: str) -> bool:
        """The operator cancels one open order (as Polymarket does, e.g. an order left invalid by
        a changed market parameter); False if it is no longer open."""
        order = self.orders.get(order_id)
        if order is None or not order.is_open:
            return False
        self._cancel(order, CANCELED, reason)
        return True

    def expire_orders(self) -> list[str]:
        """Cancel GTD orders whose time has come (the harness calls this every 5 s, with the
        heartbeat sweep)."""
        now = self.now()
        due = [
            o for o in self._all_open_orders() if o.order_type == "GTD" and now >= o.expiration - GTD_SECURITY_MARGIN
        ]
        for order in due:
            self._cancel(order, EXPIRED_ORDER if self.protocol == V2 else CANCELED, "expired")
        return [o.id for o in due]

    # ---- heartbeats --------------------------------------------------------------------

    def heartbeat(self, owner: str, heartbeat_id: str | None) -> str:
        """Start or keep alive the owner's heartbeat session; returns its id.

        An empty or unknown id starts a new session (the real venue may reject a stale id; the
        adapter must cope with either by sending the id it was last given)."""
        account = self._require_account(owner)
        if not heartbeat_id or heartbeat_id != account.heartbeat_id:
            account.heartbeat_id = self._uuid("heartbeat")
        account.heartbeat_at = self.now()
        self._record(VenueEvent.HEARTBEAT, owner=owner, heartbeat_id=account.heartbeat_id)
        return account.heartbeat_id

    def heartbeat_sweep(self) -> list[str]:
        """Cancel every open order of owners whose heartbeat lapsed (> 10 s without one)."""
        now = self.now()
        canceled: list[str] = []
        for account in self.accounts.values():
            if account.heartbeat_at is None or now - account.heartbeat_at <= HEARTBEAT_TIMEOUT:
                continue
            self._record(VenueEvent.HEARTBEAT_EXPIRED, owner=account.api_key, heartbeat_id=account.heartbeat_id)
            account.heartbeat_id = account.heartbeat_at = None
            for order in list(account.open_orders.values()):
                self._cancel(order, CANCELED, "heartbeat")
                canceled.append(order.id)
        return canceled

    # ---- resolution --------------------------------------------------------------------

    def resolve_market(self, condition_id: str, winning_outcome: str) -> None:
        market = self.markets[condition_id]
        winner = market.token(winning_outcome).token_id
        market.accepting_orders, market.closed, market.winner_token_id = False, True, winner
        self._record(VenueEvent.MARKET_RESOLVED, market=condition_id, winning_asset_id=winner, outcome=winning_outcome)
        for order in [o for o in self._all_open_orders() if o.market == condition_id]:
            self._cancel(order, CANCELED_MARKET_RESOLVED, "market resolved")
        for account in self.accounts.values():
            if condition_id not in account.markets:
                continue
            self._pay_out(account, market, winner)
            self._notify(account.api_key, NOTE_RESOLVED, {"market": condition_id, "winning_asset_id": winner})

    def _pay_out(self, account: Account, market: Market, winner: str) -> None:
        payout = account.balance(winner)
        for token_id in market.token_ids:
            held = account.balance(token_id)
            if held:
                self._move(account.api_key, token_id, -held)
        if payout:
            self._move(account.api_key, COLLATERAL, payout)
        self._record(VenueEvent.PAYOUT, owner=account.api_key, market=market.condition_id, amount=fmt(payout))

    # ---- notifications -----------------------------------------------------------------

    def _notify(self, owner: str, type_: int, payload: dict, order: Order | None = None) -> Notification:
        note = Notification(str(self._next("notification")), type_, owner, payload, time=int(self.now()))
        if order is not None:
            market = self.markets[order.market]
            note.order_view = {
                "outcome": order.outcome,
                "outcome_index": market.token_ids.index(order.asset_id),
                "original_size": fmt(order.original_size),
                "matched_size": fmt(order.size_matched),
                "remaining_size": fmt(order.remaining),
                "type": order.order_type,
            }
        self.notifications[owner].append(note)
        self._record(VenueEvent.NOTIFICATION, id=note.id, owner=owner, type=type_, payload=payload)
        return note

    def pending_notifications(self, owner: str) -> list[Notification]:
        self._require_account(owner)
        return [n for n in self.notifications[owner] if not n.dropped]

    def drop_notifications(self, owner: str, ids: list[str]) -> list[str]:
        """Mark as read; unknown ids are ignored (docs/venue-shapes.md)."""
        self._require_account(owner)
        wanted = dict.fromkeys(ids)
        dropped = [n.id for n in self.notifications[owner] if n.id in wanted and not n.dropped]
        for note in self.notifications[owner]:
            if note.id in wanted:
                note.dropped = True
        if dropped:
            self._record(VenueEvent.NOTIFICATIONS_DROPPED, owner=owner, ids=dropped)
        return dropped

    # ---- reads for the gateway ---------------------------------------------------------

    def open_orders(self, owner: str) -> list[Order]:
        return list(self._require_account(owner).open_orders.values())

    def trades_of(self, owner: str) -> list[Trade]:
        return [self.trades[t] for t in self._require_account(owner).trade_ids]

    def _all_open_orders(self) -> list[Order]:
        return [o for a in self.accounts.values() for o in a.open_orders.values()]

    def _require_account(self, owner: str | None) -> Account:
        account = self.account(owner)
        if account is None:
            raise VenueError(401, UNAUTHORIZED)
        return account


def _fill_cost(shares: Decimal, price: Decimal) -> Decimal:
    return (shares * price).quantize(USDC_QUANTUM, rounding=ROUND_HALF_EVEN)


def _by_price(fills: list[Fill]) -> list[list[Fill]]:
    groups: list[list[Fill]] = []
    for fill in fills:
        if groups and groups[-1][0].price == fill.price:
            groups[-1].append(fill)
        else:
            groups.append([fill])
    return groups
