"""Scale-in: add to a winning position with one maker order, and follow that order to its end.

Rules (StrategyConfig holds the numbers):
- at most one scale-in per trade, ever: the attempt is consumed when the order is recorded,
  before it is posted, so a timeout, a rejection or a crash can never lead to a second order;
- the bot's side must be winning (its token bid above 0.50) and inside the price range;
- the time-left threshold widens with confidence and price (ScaleInTier), and the window must
  still have scale_in_min_time_left seconds;
- size = position x multiplier, bumped to the venue minimum when the balance affords it;
- balance pre-check against collateral; maker price = the token's best bid, GTC, not post-only
  (a bid that became marketable in flight may match on arrival: the immediate fill).
"""

from __future__ import annotations

from decimal import Decimal

from .context import BotContext
from .errors import ExchangeError, OutcomeUnknown
from .ledger import OrderRecord, TradeRecord
from .model import OrderState, PlaceOrder, Role, Side, price_q, size_q
from .orders import submit
from .reconciliation import Reconciler

HALF = Decimal("0.5")


class ScaleIn:
    def __init__(self, ctx: BotContext, reconciler: Reconciler):
        self.ctx = ctx
        self.recon = reconciler
        self._skips: set[tuple[int, str]] = set()  # (trade, reason) already logged

    # ---- eligibility -------------------------------------------------------------------------

    def threshold(self, confidence: Decimal, price: Decimal) -> int | None:
        """The largest time_left at which this trade may scale in, or None if no tier admits it."""
        for tier in self.ctx.config.scale_in_tiers:
            if confidence >= tier.min_confidence and price >= tier.min_price:
                return tier.max_time_left
        return None

    def maybe_scale_in(self, trade: TradeRecord) -> None:
        ctx, cfg = self.ctx, self.ctx.config
        if trade.scale_in_attempted:
            return
        time_left = int(trade.window_end - ctx.now())
        if time_left < cfg.scale_in_min_time_left:
            return
        threshold = self.threshold(trade.confidence, cfg.scale_in_price_max)
        if threshold is None or time_left > threshold:
            return  # not yet (cheap check before asking the venue for the book)
        try:
            book = ctx.exchange.book(trade.token_id)
        except ExchangeError:
            return  # no book this cycle; the next cycle asks again
        if book.best_bid is None:
            return
        price = price_q(book.best_bid, cfg.tick)
        if price <= HALF:
            return  # not the winning side right now
        if not (cfg.scale_in_price_min <= price <= cfg.scale_in_price_max):
            return
        threshold = self.threshold(trade.confidence, price)
        if threshold is None or time_left > threshold:
            return
        size = size_q(ctx.ledger.position(trade.trade_id) * cfg.scale_in_multiplier)
        if size <= 0:
            return
        try:
            collateral = ctx.exchange.balance(None)
        except ExchangeError:
            return
        available = collateral - cfg.balance_buffer
        if size < cfg.min_order_size:
            if cfg.min_order_size * price <= available:
                size = cfg.min_order_size  # bumped to the venue minimum: affordable
            else:
                self._skip(
                    trade, f"size {size:.2f} below minimum {cfg.min_order_size:.2f} and the minimum is not affordable"
                )
                return
        if size * price > available:
            self._skip(trade, f"insufficient balance: need ${size * price:.2f}, have ${available:.2f}")
            return
        self.place(trade, size, price, time_left)

    def _skip(self, trade: TradeRecord, reason: str) -> None:
        if (trade.trade_id, reason) not in self._skips:
            self._skips.add((trade.trade_id, reason))
            self.ctx.emit_for(trade, "scale_in.skipped", reason=reason)

    # ---- placement ---------------------------------------------------------------------------

    def place(self, trade: TradeRecord, size: Decimal, price: Decimal, time_left: int) -> str | None:
        ctx = self.ctx
        lifetime = ctx.config.order_lifetime(trade.window_end, ctx.now())
        if lifetime is None:  # only when order_expiry_before_end exceeds scale_in_min_time_left
            ctx.ledger.mark_scale_in_attempted(trade.trade_id)
            ctx.emit_for(trade, "scale_in.skipped", reason="the window's orders have expired")
            return None
        order_type, expiration = lifetime
        ctx.emit_for(
            trade, "scale_in.placement", size=size, price=price, time_left=time_left, confidence=trade.confidence
        )
        command = PlaceOrder(
            token_id=trade.token_id,
            side=Side.BUY,
            price=price,
            size=size,
            order_type=order_type,
            tick_size=ctx.config.tick_size,
            expiration=expiration,
        )
        submitted = submit(ctx, trade, Role.SCALE_IN, command)
        order_id, error, placement = submitted.order_id, submitted.error, submitted.placement
        if order_id is None:  # signing failed: nothing was sent, but the one attempt is used
            assert error is not None  # submit returns no order id only with the signing error
            ctx.ledger.mark_scale_in_attempted(trade.trade_id)
            ctx.emit_for(trade, "scale_in.failed", error=error.message, error_kind=error.kind)
            return None
        if isinstance(error, OutcomeUnknown):
            # Never "not placed": the order may rest or have matched. Reconciliation looks it up
            # by the id we already know; re-posting would risk a second order.
            ctx.emit_for(trade, "scale_in.outcome_unknown", error=error.message, order_id=order_id)
            return order_id
        if error is not None:
            ctx.ledger.mark_terminal_logged(order_id)
            ctx.emit_for(trade, "scale_in.failed", error=error.message, error_kind=error.kind, order_id=order_id)
            return order_id

        assert placement is not None  # submit returns the venue's answer whenever there is no error
        status = placement.status.lower()
        if status == "unmatched":
            ctx.ledger.set_order_state(order_id, OrderState.REJECTED, ctx.now(), "UNMATCHED")
            ctx.ledger.mark_terminal_logged(order_id)
            ctx.emit_for(
                trade,
                "scale_in.failed",
                error="order unmatched (delaying failed)",
                error_kind="rejected",
                order_id=order_id,
            )
            return order_id
        ctx.ledger.set_order_state(order_id, OrderState.LIVE, ctx.now(), status.upper())
        if status == "matched":
            # Matched on arrival. The trades listing is the source of truth for fills: get_order
            # may even answer null for such an order (failure mode 2).
            try:
                self.recon.sync_fills(ctx.ledger.known_order(order_id), detection="Immediate", source="placement")
            except ExchangeError as exc:
                ctx.emit_for(trade, "scale_in.status_error", error=exc.describe(), order_id=order_id)
        order = ctx.ledger.known_order(order_id)
        if order.state is OrderState.LIVE:
            ctx.emit_for(trade, "scale_in.resting", status=status, order_id=order_id)
        return order_id

    # ---- following the order -----------------------------------------------------------------

    def track(self, trade: TradeRecord) -> None:
        """Delayed-fill and cancellation detection for the trade's open scale-in order."""
        for order in self.ctx.ledger.orders(trade.trade_id, Role.SCALE_IN, open_only=True):
            self.check(trade, order)

    def check(self, trade: TradeRecord, order: OrderRecord) -> None:
        ctx = self.ctx
        if order.state in (OrderState.UNKNOWN, OrderState.PREPARED):
            self.recon.reconcile("outcome unknown", [order])
            return
        try:
            error = self.recon.follow(order)
        except ExchangeError as exc:
            error = exc
        if error is not None:
            ctx.emit_for(trade, "scale_in.status_error", error=error.describe(), order_id=order.order_id)
