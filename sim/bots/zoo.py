"""The zoo: known-buggy variants of the position manager, selectable with `--bot NAME`.

Each is a small, documented override of one method of one part of core (never a copy), and
carries one real-world bug class. The harness proves its worth by failing every one of them
(tests/test_zoo.py names the scenario that catches each). SUMMARIES (the end of this module) says
in one line what each gets wrong; `clobsim list bots` prints it.
"""

from __future__ import annotations

from dataclasses import replace

from clobsim.core.bot import Bot
from clobsim.core.errors import ExchangeError, OutcomeUnknown, Transient
from clobsim.core.fills import FillPath
from clobsim.core.ledger import FillOutcome
from clobsim.core.model import FillSeen, OrderState, PlaceOrder, Role, Side, size_q
from clobsim.core.monitor import Monitor
from clobsim.core.reconciliation import CancelResult, PendingCancel, Reconciler
from clobsim.core.scale import ScaleIn

# ---- check-then-cancel ---------------------------------------------------------------------


class CheckThenCancelReconciler(Reconciler):
    # core's safe_cancel is begin_cancel (send) + finish_cancel (read the final size_matched);
    # the variant does its whole check-then-cancel when "sending" and never reads afterwards.
    def begin_cancel(self, order, label):
        return PendingCancel(order, label, False, self._check_then_cancel(order, label))

    def finish_cancel(self, pending):
        return pending.outcome

    def _check_then_cancel(self, order, label):
        ctx = self.ctx
        ctx.audit.emit("recon.safe_cancel_start", label=label, order_id=order.order_id)
        snapshot = ctx.exchange.get_order(order.order_id)
        if snapshot is not None and snapshot.status == "LIVE":
            ack = ctx.exchange.cancel_order(order.order_id)  # BUG: a fill can land right here
            ctx.ledger.set_order_state(order.order_id, OrderState.CANCELLED, ctx.now(), "CANCELED")
            return CancelResult(order.order_id, ack.canceled, True, ctx.ledger.filled(order.order_id), "CANCELED")
        return CancelResult(
            order.order_id, False, True, ctx.ledger.filled(order.order_id), snapshot.status if snapshot else "UNKNOWN"
        )

    def catch_up(self, trade_id):
        return None  # BUG (same class): a cancelled order is done; nobody looks at it again

    def orders_to_check(self):
        return [o for o in self.ctx.ledger.orders() if not o.is_terminal]

    def reconcile(self, reason, orders=None):
        if orders is not None:
            orders = [o for o in orders if not self.ctx.ledger.order(o.order_id).is_terminal]
        return super().reconcile(reason, orders)


class CheckThenCancelBot(Bot):
    reconciler_class = CheckThenCancelReconciler


# ---- drop-cancelled-partial ----------------------------------------------------------------


class DropCancelledPartialFills(FillPath):
    def apply(self, fill: FillSeen, *, source: str, detection: str = "Delayed") -> FillOutcome:
        order = self.ctx.ledger.order(fill.order_id)
        if order is not None and order.state in (OrderState.CANCELLED, OrderState.CANCEL_PENDING):
            return FillOutcome.DUPLICATE  # BUG: "it's cancelled, nothing can fill any more"
        return super().apply(fill, source=source, detection=detection)


class DropCancelledPartialBot(Bot):
    fill_path_class = DropCancelledPartialFills


# ---- double-count --------------------------------------------------------------------------


class DoubleCountingFills(FillPath):
    def apply(self, fill: FillSeen, *, source: str, detection: str = "Delayed") -> FillOutcome:
        if source == "notification":
            # BUG: the notification path keeps its own key space
            fill = FillSeen(f"{fill.trade_id}#notification", fill.order_id, fill.size, fill.price, fill.status)
        return super().apply(fill, source=source, detection=detection)


class DoubleCountBot(Bot):
    fill_path_class = DoubleCountingFills


# ---- blind-repost --------------------------------------------------------------------------


class BlindRepostScaleIn(ScaleIn):
    def place(self, trade, size, price, time_left):
        order_id = super().place(trade, size, price, time_left)
        order = self.ctx.ledger.order(order_id) if order_id else None
        if order is not None and order.state is OrderState.UNKNOWN:
            # BUG: "the request failed, so the order was not placed": post it again
            ctx = self.ctx
            command = PlaceOrder(
                token_id=trade.token_id,
                side=Side.BUY,
                price=price,
                size=size,
                order_type="GTC",
                tick_size=ctx.config.tick_size,
            )
            try:
                prepared = ctx.exchange.prepare_order(command)
                ctx.ledger.record_order(prepared.order_id, trade.trade_id, Role.SCALE_IN, command, ctx.now())
                ctx.ledger.set_order_state(order_id, OrderState.NOT_PLACED, ctx.now())
                ctx.ledger.mark_terminal_logged(order_id)
                ctx.exchange.post_order(prepared)
                ctx.ledger.set_order_state(prepared.order_id, OrderState.LIVE, ctx.now())
                ctx.emit_for(trade, "scale_in.resting", status="live", order_id=prepared.order_id)
            except ExchangeError:
                pass
        return order_id


class BlindRepostBot(Bot):
    scale_class = BlindRepostScaleIn


# ---- untracked-after-status ----------------------------------------------------------------


class UntrackedAfterStatusScaleIn(ScaleIn):
    def place(self, trade, size, price, time_left):
        order_id = super().place(trade, size, price, time_left)
        order = self.ctx.ledger.order(order_id) if order_id else None
        if order is None or order.state is not OrderState.LIVE:
            return order_id
        try:
            snapshot = self.ctx.exchange.get_order(order_id)  # "confirm it is on the book"
        except ExchangeError:
            snapshot = None
        if snapshot is None:
            # BUG: no confirmation, so the bot stops tracking it (yet it rests on the book)
            self.ctx.ledger.set_order_state(order_id, OrderState.CANCELLED, self.ctx.now(), "FORGOTTEN")
            self.ctx.ledger.mark_terminal_logged(order_id)
        return order_id


class UntrackedAfterStatusBot(Bot):
    scale_class = UntrackedAfterStatusScaleIn


# ---- exit-from-balance ---------------------------------------------------------------------


class ExitFromBalanceMonitor(Monitor):
    def exit_size(self, trade, position):
        try:
            held = self.ctx.exchange.balance(trade.token_id)  # BUG: the balance lags fills
        except ExchangeError:
            return size_q(position)
        return size_q(held)

    def ensure_exit(self, trade):
        # BUG (same class): sized once from the balance, never resized
        if self.ctx.ledger.orders(trade.trade_id, Role.EXIT, open_only=True):
            return
        if any(o.state is OrderState.FILLED for o in self.ctx.ledger.orders(trade.trade_id, Role.EXIT)):
            return
        size = self.exit_size(trade, self.ctx.ledger.position(trade.trade_id))
        if size >= self.ctx.config.min_order_size and trade.exit_failures < self.ctx.config.exit_retry_limit:
            self.place_exit(trade, size)


class ExitFromBalanceBot(Bot):
    monitor_class = ExitFromBalanceMonitor


# ---- reconcile-only-fills -------------------------------------------------------------------


class ReconcileOnlyFills(FillPath):
    def apply(self, fill: FillSeen, *, source: str, detection: str = "Delayed") -> FillOutcome:
        if source != "reconciliation":
            return FillOutcome.DUPLICATE  # BUG: "a hint; the reconcile job books fills"
        return super().apply(fill, source=source, detection=detection)


class ReconcileOnlyFillsBot(Bot):
    fill_path_class = ReconcileOnlyFills


# ---- server-error-not-placed ----------------------------------------------------------------


class ServerErrorIsRefusal:
    """The Exchange port around core's adapter, with the old 5xx mapping on placements."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def post_order(self, prepared):
        try:
            return self._inner.post_order(prepared)
        except OutcomeUnknown as exc:
            if exc.status is None:
                raise
            # BUG: "a 5xx is the venue saying no; retry later" - but the engine applied it
            raise Transient(exc.message, status=exc.status, order_id=exc.order_id) from exc


class ServerErrorNotPlacedBot(Bot):
    def __init__(self, clock, exchange, ledger, **options):
        super().__init__(clock, ServerErrorIsRefusal(exchange), ledger, **options)


# ---- fill-keyed-by-order --------------------------------------------------------------------


class OrderKeyedFills(FillPath):
    def apply(self, fill: FillSeen, *, source: str, detection: str = "Delayed") -> FillOutcome:
        if any(row["trade_key"] != fill.trade_id for row in self.ctx.ledger.fills(fill.order_id)):
            # BUG: the idempotency key is too coarse: "this order's fill is booked already"
            return FillOutcome.DUPLICATE
        return super().apply(fill, source=source, detection=detection)


class FillKeyedByOrderBot(Bot):
    fill_path_class = OrderKeyedFills


# ---- ghost-fill-trusted ---------------------------------------------------------------------


class GhostTrustingFills(FillPath):
    def apply(self, fill: FillSeen, *, source: str, detection: str = "Delayed") -> FillOutcome:
        if fill.is_void:
            # BUG: "a matched trade is done": a FAILED trade reads as the fill it was
            fill = replace(fill, status="MATCHED")
        return super().apply(fill, source=source, detection=detection)


class GhostFillTrustedBot(Bot):
    fill_path_class = GhostTrustingFills


# ---- post-then-record -----------------------------------------------------------------------


class _RecordLater:
    """The ledger, with record_order held back until the post has answered."""

    def __init__(self, inner):
        self.inner = inner
        self.held: dict[str, tuple] = {}

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def record_order(self, order_id, *args):
        self.held[order_id] = args  # BUG: written once the venue answers (see _PostThenRecord)


class _PostThenRecord:
    """The Exchange port, writing the held order record only after the post's answer (or error)."""

    def __init__(self, inner, ledger: _RecordLater):
        self._inner = inner
        self._ledger = ledger

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def post_order(self, prepared):
        try:
            placement = self._inner.post_order(prepared)
        except ExchangeError:
            self._record(prepared.order_id)
            raise
        # a crash while the post is in flight never gets here: the order rests, unrecorded
        self._record(prepared.order_id)
        return placement

    def _record(self, order_id):
        args = self._ledger.held.pop(order_id, None)
        if args is not None:
            self._ledger.inner.record_order(order_id, *args)


class PostThenRecordBot(Bot):
    def __init__(self, clock, exchange, ledger, **options):
        held = _RecordLater(ledger)
        super().__init__(clock, _PostThenRecord(exchange, held), held, **options)


# ---- stop-following-on-error ----------------------------------------------------------------


class StopFollowingOnErrorReconciler(Reconciler):
    def __init__(self, ctx, fills):
        super().__init__(ctx, fills)
        self.given_up: set[str] = set()

    def resting(self, trade_id):
        # the breaker covers every path that polls the order, the trades-listing sweep included
        return [o for o in super().resting(trade_id) if o.order_id not in self.given_up]


class StopFollowingOnErrorScaleIn(ScaleIn):
    def check(self, trade, order):
        given_up = self.recon.given_up
        if order.order_id in given_up:
            return  # BUG: a breaker that never closes: "the venue is flaky for this order; pushes will do"
        if order.state in (OrderState.UNKNOWN, OrderState.PREPARED):
            super().check(trade, order)
            return
        try:
            error = self.recon.follow(order)
        except ExchangeError as exc:
            error = exc
        if error is not None:
            given_up.add(order.order_id)
            self.ctx.emit_for(trade, "scale_in.status_error", error=error.describe(), order_id=order.order_id)


class StopFollowingOnErrorBot(Bot):
    reconciler_class = StopFollowingOnErrorReconciler
    scale_class = StopFollowingOnErrorScaleIn


# ---- retry-refused-exit ---------------------------------------------------------------------


class RetryRefusedExitMonitor(Monitor):
    def _learn_sellable(self, trade):
        return None  # BUG: "not enough balance" is retried as it is; what the bot holds is never read


class RetryRefusedExitBot(Bot):
    monitor_class = RetryRefusedExitMonitor


# ---- unverified-cancel-trusted --------------------------------------------------------------


class UnverifiedCancelTrustedReconciler(Reconciler):
    def _conclude(self, order, label, acked, snapshot, placement_unknown):
        if snapshot is None and not placement_unknown:
            acked = True  # BUG: "we sent the cancel; no news is good news"
        return super()._conclude(order, label, acked, snapshot, placement_unknown)


class UnverifiedCancelTrustedBot(Bot):
    reconciler_class = UnverifiedCancelTrustedReconciler


VARIANTS: dict[str, type[Bot]] = {
    "check-then-cancel": CheckThenCancelBot,
    "drop-cancelled-partial": DropCancelledPartialBot,
    "double-count": DoubleCountBot,
    "blind-repost": BlindRepostBot,
    "untracked-after-status": UntrackedAfterStatusBot,
    "exit-from-balance": ExitFromBalanceBot,
    "reconcile-only-fills": ReconcileOnlyFillsBot,
    "server-error-not-placed": ServerErrorNotPlacedBot,
    "fill-keyed-by-order": FillKeyedByOrderBot,
    "ghost-fill-trusted": GhostFillTrustedBot,
    "post-then-record": PostThenRecordBot,
    "stop-following-on-error": StopFollowingOnErrorBot,
    "retry-refused-exit": RetryRefusedExitBot,
    "unverified-cancel-trusted": UnverifiedCancelTrustedBot,
}

SUMMARIES: dict[str, str] = {
    "check-then-cancel": "reads the status, cancels if LIVE, and trusts that: a fill landing between the read and "
    "the cancel is never counted",
    "drop-cancelled-partial": "ignores fills reported for an order it already considers cancelled",
    "double-count": "keys fills by (trade, source): a fill seen by both the notification and the polling path is "
    "counted twice",
    "blind-repost": "after a placement timeout, posts the order again",
    "untracked-after-status": "forgets an order when the status check right after placing fails",
    "exit-from-balance": "sizes the exit plan from the token balance (which lags fills)",
    "reconcile-only-fills": "counts fills only in the periodic reconcile: the ledger is right at the end, but "
    "minutes late meanwhile (only fill-reaches-ledger sees it)",
    "server-error-not-placed": "reads a 500 'order timed out' on a placement as 'not placed': an exit the venue "
    "applied rests while the bot re-posts it every cycle (no-repair-loop)",
    "fill-keyed-by-order": "deduplicates fills by order id: the second partial fill of an order looks like a replay "
    "of the first and is never counted",
    "ghost-fill-trusted": "treats MATCHED as final: a trade that later ends FAILED is never taken out of the position",
    "post-then-record": "records an order only once the post has answered: a crash while the post is in flight "
    "leaves an order resting at the venue that the restarted bot knows nothing of",
    "stop-following-on-error": "a circuit breaker that never closes: after one failed status read it stops polling "
    "the order; with the fill's push lost, the fill is counted minutes late (only fill-reaches-ledger sees it)",
    "retry-refused-exit": "re-posts an exit refused for balance unchanged: after a size shortfall every copy is "
    "refused, all window long (only no-repair-loop sees it)",
    "unverified-cancel-trusted": "takes a cancel it could not verify for done: the order it meant to cancel rests "
    "on past the window",
}
