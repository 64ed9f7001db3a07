"""The position monitor: one cycle per interval over every active trade.

Exit plan: a limit SELL at exit_price (0.99) for the whole position, sized from the LEDGER, not
from the token balance (the balance lags fills by seconds: failure mode 6), and resized after a
scale-in fill. When the exit plan fills, the pending scale-in order is cancelled race-safely and
whatever filled meanwhile is accounted for (a late scale-in fill reopens a position, which gets
an exit of its own). Before the window ends, leftovers are cancelled; at resolution the trade
is settled.
"""

from __future__ import annotations

from decimal import Decimal

from .context import BotContext
from .errors import ExchangeError, OutcomeUnknown, Transient
from .ledger import OrderRecord, TradeRecord
from .model import SIZE_QUANTUM, ZERO, OrderState, PlaceOrder, Role, Side, TradeState, size_q
from .orders import submit
from .reconciliation import PendingCancel, Reconciler
from .scale import ScaleIn

BALANCE_ERROR = "not enough balance"
POST_ONLY_MODE = "post_only"


class Monitor:
    def __init__(self, ctx: BotContext, reconciler: Reconciler, scale: ScaleIn):
        self.ctx = ctx
        self.recon = reconciler
        self.scale = scale
        self.resolutions: dict[str, str] = {}  # market -> winning token id (from notifications)
        self._next_resolution_poll: dict[int, float] = {}
        self._last_exit_failure: dict[int, float] = {}  # trade -> when its last exit was refused
        # trades whose token balance, read before resolution, agreed with what the ledger holds
        self._holding_confirmed: set[int] = set()

    def cycle(self) -> None:
        ctx = self.ctx
        self.recon.cleanup()
        trades = ctx.ledger.trades(active_only=True)
        closing = [
            t.trade_id
            for t in trades
            if t.state in (TradeState.OPEN, TradeState.EXITED)
            and t.window_end - ctx.now() <= ctx.config.cancel_before_end
        ]
        # Cancel first for every closing trade, read after: a slow venue answering one trade's
        # verification reads must not keep another trade's orders on the book past the end.
        pending: dict[str, PendingCancel] = {}
        for trade in trades:
            if trade.trade_id in closing:
                ctx.emit_for(trade, "exit.window_end", time_left=max(0, int(trade.window_end - ctx.now())))
                for order in ctx.ledger.orders(trade.trade_id, open_only=True):
                    if order.state is OrderState.LIVE:
                        label = "scale-in" if order.role is Role.SCALE_IN else "exit"
                        pending[order.order_id] = self.recon.begin_cancel(order, label)
        for trade in trades:
            if trade.trade_id in closing:
                self.cancel_leftovers(ctx.ledger.trade(trade.trade_id), pending)
                ctx.ledger.set_trade_state(trade.trade_id, TradeState.CLOSING)
            else:
                self.step(trade)

    def step(self, trade: TradeRecord) -> None:
        ledger = self.ctx.ledger
        if trade.state is TradeState.CLOSING:
            self.try_settle(trade)
            return
        self.scale.track(trade)
        self.track_exits(trade)
        self.recon.catch_up(trade.trade_id)
        trade = ledger.trade(trade.trade_id)
        if trade.state is TradeState.OPEN and self.exit_plan_filled(trade):
            self.on_exit_filled(trade)
        elif trade.state is TradeState.EXITED:
            for order in ledger.orders(trade.trade_id, Role.SCALE_IN, open_only=True):
                if order.state is OrderState.LIVE:
                    self.cancel_scale_in(trade, order)  # an earlier attempt failed: try again
        trade = ledger.trade(trade.trade_id)
        self.ensure_exit(trade)
        if trade.state is TradeState.OPEN:
            self.scale.maybe_scale_in(trade)

    # ---- the exit order ----------------------------------------------------------------------

    def track_exits(self, trade: TradeRecord) -> None:
        ctx = self.ctx
        for order in ctx.ledger.orders(trade.trade_id, Role.EXIT, open_only=True):
            try:
                if order.state in (OrderState.UNKNOWN, OrderState.PREPARED):
                    self.recon.reconcile("exit outcome unknown", [order])
                    continue
                error = self.recon.follow(order)
            except ExchangeError as exc:
                error = exc
            if error is not None:
                ctx.audit.emit("recon.error", error=f"exit {order.order_id}: {error.describe()}")

    def exit_plan_filled(self, trade: TradeRecord) -> bool:
        exits = self.ctx.ledger.orders(trade.trade_id, Role.EXIT)
        return bool(exits) and exits[-1].state is OrderState.FILLED

    def exit_size(self, trade: TradeRecord, position: Decimal) -> Decimal:
        # The shortfall, not an absolute cap: the exit still grows with later scale-in fills.
        shortfall = self.ctx.ledger.trade(trade.trade_id).undelivered
        return size_q(max(ZERO, position - shortfall))

    def exit_position(self, trade: TradeRecord) -> Decimal:
        """The shares the exit plan must cover: the ledger's position as delivered (a BUY taker's
        fee, which the trade states, is taken in shares and never arrives), plus what the venue's
        order status says a scale-in matched beyond every fill the ledger has seen of it (void ones
        included). The trades listing can lag order status by tens of seconds; a fill is counted
        only once its trade is listed (by trade id: exactly once), but the exit covers the
        shares from the moment the status shows them."""
        ctx = self.ctx
        unnamed = sum((self.recon.unlisted(o) for o in ctx.ledger.orders(trade.trade_id, Role.SCALE_IN)), ZERO)
        return ctx.ledger.delivered(trade.trade_id) + unnamed

    def ensure_exit(self, trade: TradeRecord) -> None:
        ctx, cfg = self.ctx, self.ctx.config
        position = self.exit_position(trade)
        open_exits = ctx.ledger.orders(trade.trade_id, Role.EXIT, open_only=True)
        if any(o.state is not OrderState.LIVE for o in open_exits):
            return  # an exit in an unknown or cancelling state: reconciliation decides first
        if ctx.ledger.trade(trade.trade_id).undelivered and position >= cfg.min_order_size:
            self._learn_sellable(trade)  # a cap read from a lagging balance must not stick
        target = self.exit_size(trade, position)
        if open_exits:
            current = open_exits[-1]
            remaining = current.size - ctx.ledger.filled(current.order_id)
            if remaining == target:
                return
            ctx.emit_for(trade, "exit.resize", order_id=current.order_id, old_size=remaining, new_size=target)
            result = self.recon.safe_cancel(current, "exit")
            if not result.cancelled and ctx.ledger.known_order(current.order_id).state is OrderState.LIVE:
                return  # still resting: never stack a second exit on top of it
            position = self.exit_position(trade)
            target = self.exit_size(trade, position)
        if target < cfg.min_order_size or self._backing_off(trade):
            return  # dust below the venue minimum is held to resolution
        self.place_exit(trade, target)

    def _backing_off(self, trade: TradeRecord) -> bool:
        cfg = self.ctx.config
        extra = trade.exit_failures - cfg.exit_retry_limit
        if extra < 0:
            return False
        delay: float = min(cfg.exit_backoff_max, cfg.exit_backoff * 2**extra)
        return self.ctx.now() < self._last_exit_failure.get(trade.trade_id, 0.0) + delay

    def place_exit(self, trade: TradeRecord, size: Decimal, post_only: bool = False) -> None:
        ctx, cfg = self.ctx, self.ctx.config
        lifetime = cfg.order_lifetime(trade.window_end, ctx.now())
        if lifetime is None:
            return  # past the orders' expiry: the window is over for new orders
        order_type, expiration = lifetime
        command = PlaceOrder(
            token_id=trade.token_id,
            side=Side.SELL,
            price=cfg.exit_price,
            size=size,
            order_type=order_type,
            tick_size=cfg.tick_size,
            post_only=post_only,
            expiration=expiration,
        )
        submitted = submit(ctx, trade, Role.EXIT, command)
        order_id, error, placement = submitted.order_id, submitted.error, submitted.placement
        if order_id is None:  # signing failed
            assert error is not None  # submit returns no order id only with the signing error
            ctx.ledger.count_exit_failure(trade.trade_id)
            self._last_exit_failure[trade.trade_id] = ctx.now()
            ctx.emit_for(trade, "exit.failed", error=error.message, error_kind=error.kind)
            return
        if isinstance(error, OutcomeUnknown):
            ctx.emit_for(trade, "exit.outcome_unknown", error=error.message, order_id=order_id)
            return
        if error is not None:
            if not isinstance(error, Transient):  # 425/429/5xx, post-only mode: retried next cycle
                ctx.ledger.count_exit_failure(trade.trade_id)
                self._last_exit_failure[trade.trade_id] = ctx.now()
            ctx.emit_for(trade, "exit.failed", error=error.message, error_kind=error.kind)
            if BALANCE_ERROR in error.message:
                self._learn_sellable(trade)
            elif POST_ONLY_MODE in error.message and not post_only:
                # After an engine restart the venue takes only post-only orders for minutes; an
                # exit at 0.99 rests anyway, so it goes again at once as post-only.
                self.place_exit(trade, size, post_only=True)
            return
        assert placement is not None  # submit returns the venue's answer whenever there is no error
        status = placement.status
        ctx.ledger.set_order_state(order_id, OrderState.LIVE, ctx.now(), status.upper())
        ctx.ledger.reset_exit_failures(trade.trade_id)
        ctx.emit_for(trade, "exit.placed", size=size, price=cfg.exit_price, order_id=order_id)
        if status.lower() == "matched":
            try:
                self.recon.sync_fills(ctx.ledger.known_order(order_id), source="placement")
            except ExchangeError as exc:
                ctx.audit.emit("recon.error", error=f"exit {order_id}: {exc.describe()}")

    def _learn_sellable(self, trade: TradeRecord) -> None:
        """After a balance rejection, cap the exit at the shares actually held.

        size_matched can exceed the shares received (failure mode 7: a fee the trade states is
        already off the delivered position; this is a shortfall it does not state); a balance
        still at zero is a lagging balance (mode 6), not a cap: the next cycle simply retries.
        The cap is kept as the shortfall (delivered position - shares held), so that the exit is
        still resized to the whole position after a later scale-in fill. A balance that lags a
        scale-in fill shows the earlier shares, not zero: so while a cap is set, ensure_exit
        reads the balance again each cycle and the cap shrinks (or goes) as the shares arrive.
        """
        try:
            held = self.ctx.exchange.balance(trade.token_id)
        except ExchangeError:
            return
        position = self.ctx.ledger.delivered(trade.trade_id)
        if ZERO < held < position:
            # exact: exit_size rounds, a payout must not
            self.ctx.ledger.set_undelivered(trade.trade_id, position - held)
        elif held >= position:
            self.ctx.ledger.set_undelivered(trade.trade_id, ZERO)  # every share arrived: no cap

    # ---- exit filled: cancel the pending scale-in, race-safely -------------------------------

    def on_exit_filled(self, trade: TradeRecord) -> None:
        ctx = self.ctx
        ctx.emit_for(trade, "exit.complete", price=ctx.config.exit_price)
        for order in ctx.ledger.orders(trade.trade_id, Role.SCALE_IN, open_only=True):
            self.cancel_scale_in(trade, order)
        ctx.ledger.set_trade_state(trade.trade_id, TradeState.EXITED)

    def cancel_scale_in(self, trade: TradeRecord, order: OrderRecord, reason: str = "exit plan filled") -> None:
        ctx = self.ctx
        oid = order.order_id
        ctx.emit_for(trade, "exit.cancel_start", order_id=oid)
        try:
            snapshot = ctx.exchange.get_order(oid)
            ctx.emit_for(
                trade,
                "exit.status",
                order_id=oid,
                status=snapshot.status if snapshot is not None else "UNKNOWN (no record)",
            )
            if snapshot is not None:
                self.recon.observe(order, snapshot)
        except ExchangeError as exc:
            ctx.emit_for(trade, "exit.status", order_id=oid, status=f"UNKNOWN ({exc.describe()})")
        order = ctx.ledger.known_order(oid)
        filled = ctx.ledger.filled(oid)
        # The tracker is consulted before the status: a LIVE answer can be stale while a fill
        # seen through another path (a notification) says the order is done.
        recent = self.recon.recently_filled(oid)
        if recent is not None:
            if filled >= order.size:
                ctx.emit_for(trade, "exit.race_recent_fill", order_id=oid, size=filled)
                return
            ctx.emit_for(trade, "exit.race_partial", order_id=oid, size=filled, original=order.size)
        if order.is_terminal:
            ctx.emit_for(trade, "exit.nothing_to_cancel", order_id=oid, state=order.state.value.lower())
            return
        result = self.recon.safe_cancel(order, "scale-in")
        late = ctx.ledger.filled(oid) - filled
        if late > ZERO:
            ctx.emit_for(trade, "exit.race_during_cancel", order_id=oid, size=late)
        if result.cancelled:
            ctx.emit_for(trade, "exit.cancelled", order_id=oid)
            self.recon.announce_terminal(oid, "scale_in.cancelled", reason)
        elif ctx.ledger.known_order(oid).state is not OrderState.FILLED:
            ctx.emit_for(trade, "exit.cancel_failed", order_id=oid, error=f"venue status {result.venue_status}")

    # ---- end of window and settlement --------------------------------------------------------

    def cancel_leftovers(self, trade: TradeRecord, pending: dict[str, PendingCancel] | None = None) -> None:
        ctx = self.ctx
        for order in ctx.ledger.orders(trade.trade_id, open_only=True):
            if order.state in (OrderState.UNKNOWN, OrderState.PREPARED):
                self.recon.reconcile("window ending", [order])
                order = ctx.ledger.known_order(order.order_id)
            if order.is_terminal:
                continue
            sent = (pending or {}).get(order.order_id)
            if sent is not None:
                result = self.recon.finish_cancel(sent)
            else:
                label = "scale-in" if order.role is Role.SCALE_IN else "exit"
                result = self.recon.safe_cancel(order, label)
            if result.cancelled:
                self.recon.announce_terminal(order.order_id, "scale_in.cancelled", "window ending")

    def _confirm_holding(self, trade: TradeRecord) -> None:
        """Before resolution, check what the venue will pay against what the ledger holds.

        A fill can deliver fewer shares than it matched without any trade saying so (failure
        mode 7 beyond a stated fee); when no exit was refused for balance, nothing else tells.
        So once the trade's orders are all final (nothing of ours can match any more) and it has
        bought shares (the entry is delivered in full), the token balance is read: the shares
        resolution will pay. It must be read BEFORE resolution, whose payout empties it: a read
        answered before the window's end is (the market resolves after it); a later one counts
        only if the market is still unresolved after it. A read that agrees with the ledger
        ends the check. One that disagrees is read again every cycle until resolution, the last
        word winning, since the balance can lag fills (failure mode 6): a read that equals what
        the ledger held after an earlier fill is what a lag shows, and teaches nothing; any other
        sets the shares the venue did not deliver.
        """
        ctx = self.ctx
        tid = trade.trade_id
        if tid in self._holding_confirmed:
            return
        orders = ctx.ledger.orders(tid)
        if any(not o.is_terminal for o in orders):
            return  # an order of ours may still match: what we hold is not final yet
        bought = any(o.side is Side.BUY and any(not f["void"] for f in ctx.ledger.fills(o.order_id)) for o in orders)
        delivered = ctx.ledger.delivered(tid)
        if not bought or delivered <= ZERO:
            return  # nothing bought (the entry is delivered in full), or nothing left to pay
        try:
            held = ctx.exchange.balance(trade.token_id)
        except ExchangeError:
            return
        if held == delivered:
            self._holding_confirmed.add(tid)
            ctx.ledger.set_undelivered(tid, ZERO)
            return
        if ctx.now() >= trade.window_end and not self._still_unresolved(trade):
            return  # the read may have come after the payout emptied the balance
        if held in ctx.ledger.delivered_history(tid)[:-1]:
            return  # what a lagging balance shows: read again next cycle
        undelivered = max(ZERO, delivered - held)
        if ctx.ledger.trade(tid).undelivered == undelivered:
            return
        ctx.ledger.set_undelivered(tid, undelivered)
        ctx.emit_for(
            trade,
            "trade.undelivered",
            held=_shares(held),
            delivered=_shares(delivered),
            undelivered=_shares(undelivered),
        )

    def _still_unresolved(self, trade: TradeRecord) -> bool:
        """True when the venue says the trade's market has not resolved (so it has not paid yet)."""
        try:
            resolution = self.ctx.exchange.resolution(trade.market)
        except ExchangeError:
            return False
        if resolution.closed and resolution.winning_token_id is not None:
            self.resolutions[trade.market] = resolution.winning_token_id
        return not resolution.closed

    def try_settle(self, trade: TradeRecord) -> None:
        ctx = self.ctx
        if any(o.state is OrderState.LIVE for o in ctx.ledger.orders(trade.trade_id, open_only=True)):
            self.cancel_leftovers(trade)  # a cancel failed before (e.g. engine restart): retry
        # fills a cancel's final read reported whose trades could not be fetched then: the wait
        # for the resolution is no reason to count them late
        self.recon.catch_up(trade.trade_id)
        if trade.market not in self.resolutions:
            self._confirm_holding(trade)
        winner = self.resolutions.get(trade.market)
        if winner is None:
            if ctx.now() < self._next_resolution_poll.get(trade.trade_id, 0.0):
                return
            self._next_resolution_poll[trade.trade_id] = ctx.now() + ctx.config.resolution_poll_interval
            try:
                resolution = ctx.exchange.resolution(trade.market)
            except ExchangeError:
                return
            if not resolution.closed or resolution.winning_token_id is None:
                return
            winner = resolution.winning_token_id
        # Last look before the books close: fills of cancelled orders still count.
        self.recon.reconcile("settlement", ctx.ledger.orders(trade.trade_id))
        orders = ctx.ledger.orders(trade.trade_id)
        if any(o.state in (OrderState.UNKNOWN, OrderState.PREPARED) for o in orders):
            return  # a placement outcome still unknown: settle once reconciliation has decided
        if any(self.recon.fills_missing(o) for o in orders):
            # the venue reported more matched than the trades listing has given us (the listing
            # failed, or lags): P&L booked now would be on a wrong position, so read again
            return
        self.recon.announce_deferred(trade.trade_id, whatever_came=True)
        position = ctx.ledger.position(trade.trade_id)
        cost, proceeds = ctx.ledger.cost_and_proceeds(trade.trade_id)
        # The venue pays the shares it delivered: a fill can deliver fewer than it matched
        # (failure mode 7). A fee taken in shares the trade states (Ledger.delivered); a shortfall
        # it does not state only the balance told (a refused exit's read). Booking the matched
        # dust as paid is a payout the venue never makes.
        held = max(ZERO, ctx.ledger.delivered(trade.trade_id) - ctx.ledger.trade(trade.trade_id).undelivered)
        payout = held if winner == trade.token_id else ZERO
        pnl = proceeds + payout - cost
        ctx.ledger.settle(trade.trade_id, winner, pnl)
        ctx.emit_for(
            trade,
            "trade.settled",
            winner="WIN" if winner == trade.token_id else "LOSS",
            position=position,
            payout=payout,
            pnl=pnl,
        )


def _shares(value: Decimal) -> Decimal:
    """Shares as audit lines print them: to the cent, or every decimal a base unit can carry."""
    cents = value.quantize(SIZE_QUANTUM)
    return cents if cents == value else value.normalize()
