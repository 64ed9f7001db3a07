"""The ONE fill path. Immediate detection, delayed detection (polling), notifications and
reconciliation all hand fills here; the ledger's (trade id, order id) key makes it idempotent,
so a fill is never lost and never counted twice, whichever sources report it and in which order.
Fills are applied whatever the order's local state: venues fill orders the bot already believes
cancelled (clob-reference failure mode 3).
"""

from __future__ import annotations

from decimal import Decimal

from .context import BotContext
from .ledger import FillOutcome, OrderRecord, TradeRecord
from .model import FillSeen, OrderState, Role, TradeSnapshot


class FillPath:
    def __init__(self, ctx: BotContext):
        self.ctx = ctx

    def apply(self, fill: FillSeen, *, source: str, detection: str = "Delayed") -> FillOutcome:
        ctx = self.ctx
        outcome = ctx.ledger.apply_fill(fill, source, ctx.now())
        if outcome in (FillOutcome.DUPLICATE, FillOutcome.UNKNOWN_ORDER):
            return outcome
        order = ctx.ledger.known_order(fill.order_id)  # the ledger just matched the fill to it
        trade = ctx.ledger.trade(order.trade_id)
        if outcome is FillOutcome.VOID_RECORDED:
            ctx.audit.emit("recon.fill_void", order_id=fill.order_id, trade_id=fill.trade_id, size=fill.size)
            return outcome
        if outcome is FillOutcome.VOIDED:
            ctx.audit.emit("recon.fill_void", order_id=fill.order_id, trade_id=fill.trade_id, size=fill.size)
            kind = "scale_in.void" if order.role is Role.SCALE_IN else "exit.void"
            ctx.emit_for(trade, kind, size=fill.size, price=fill.price, trade_id=fill.trade_id, order_id=fill.order_id)
            return outcome

        filled = ctx.ledger.filled(fill.order_id)
        complete = filled >= order.size
        if complete:
            ctx.ledger.set_order_state(fill.order_id, OrderState.FILLED, ctx.now())
        elif order.state in (OrderState.NOT_PLACED, OrderState.UNKNOWN, OrderState.PREPARED):
            # A fill proves the order reached the book (stale reads may have hid it, even past
            # unknown_grace: race edge NOT_PLACED -> LIVE): it is tracked and cancelled like any
            # other resting order.
            ctx.ledger.set_order_state(fill.order_id, OrderState.LIVE, ctx.now())
        if order.role is Role.SCALE_IN:
            self._scale_in_filled(trade, order, fill, filled, complete, detection)
        else:
            ctx.emit_for(
                trade,
                "exit.filled",
                size=fill.size,
                price=fill.price,
                sold=filled,
                original=order.size,
                order_id=fill.order_id,
            )
        return outcome

    def _scale_in_filled(
        self, trade: TradeRecord, order: OrderRecord, fill: FillSeen, filled: Decimal, complete: bool, detection: str
    ) -> None:
        ctx = self.ctx
        now = ctx.now()
        # Tracked before the FILLED line: the exit monitor may be about to cancel this order
        # on a stale LIVE status, and this record is what tells it not to.
        ctx.ledger.track_recent_fill(order.order_id, filled, fill.price, now)
        ctx.audit.emit("recon.track_fill", order_id=order.order_id, size=filled, price=fill.price, timestamp=int(now))
        if not complete:
            ctx.emit_for(
                trade,
                "scale_in.partial",
                detection=detection,
                size=fill.size,
                price=fill.price,
                filled=filled,
                original=order.size,
                order_id=order.order_id,
            )
            return
        ctx.ledger.mark_terminal_logged(order.order_id)
        if detection == "Immediate" and filled == fill.size:
            ctx.emit_for(trade, "scale_in.filled_immediate", size=fill.size, price=fill.price, order_id=order.order_id)
        else:
            ctx.emit_for(trade, "scale_in.filled_delayed", size=fill.size, price=fill.price, order_id=order.order_id)

    def apply_trades(
        self, order_id: str, trades: list[TradeSnapshot], *, source: str, detection: str = "Delayed"
    ) -> int:
        """Apply every fill of one order found in a trades listing; returns how many were new."""
        applied = 0
        for trade in trades:
            fill = trade.fill_of(order_id)
            if fill is None:
                continue
            outcome = self.apply(fill, source=source, detection=detection)
            if outcome in (FillOutcome.APPLIED, FillOutcome.VOIDED):
                applied += 1
        return applied
