"""Reconciliation: the recent-fill tracker, race-free cancellation, verification with retries,
and the pass that converges local state to the exchange's.

Safe cancellation is "cancel first, then read": the cancel answer never says how much matched,
and checking the status before cancelling leaves a window in which a fill lands unseen (the
classic check-then-cancel race). So the order is cancelled, then its final size_matched is read
and every fill behind it is fetched by trade id and fed to the one fill path.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .context import BotContext
from .errors import ExchangeError, Transient
from .fills import FillPath
from .ledger import OrderRecord, RecentFill
from .model import ZERO, OrderSnapshot, OrderState, Role, TradeSnapshot, dec
from .ports import CodePoint

# statuses of orders the venue accepted but never rested or matched
NEVER_RESTED = frozenset({"UNMATCHED", "INVALID"})
# venue statuses after which nothing more can match. CLOB V2 added three ways the operator ends an
# order: CANCELED_NOT_ENOUGH_BALANCE (the balance behind a resting order is gone, e.g. a FAILED
# trade took back the shares an exit sells), EXPIRED_ORDER (a GTD past its expiration) and
# ORDER_TIMED_OUT (an order answered `delayed` whose time in the engine ran out). Each may come
# after partial fills, so they are cancellations (fills kept), not NEVER_RESTED; left out, a
# verify loop would poll a dead order until its attempts ran out. polymarket-client 0.14.0's
# user-channel vocabulary spells two of them CANCELED_EXPIRED_ORDER and CANCELED_ORDER_TIMED_OUT,
# and adds CANCELED_MARKET_NOT_FOUND: the same endings, so the same handling.
TIMED_OUT = frozenset({"ORDER_TIMED_OUT", "CANCELED_ORDER_TIMED_OUT"})
V2_ENDED = (
    frozenset({"CANCELED_NOT_ENOUGH_BALANCE", "EXPIRED_ORDER", "CANCELED_EXPIRED_ORDER", "CANCELED_MARKET_NOT_FOUND"})
    | TIMED_OUT
)
FINAL_STATUSES = frozenset({"MATCHED", "CANCELED", "CANCELED_MARKET_RESOLVED", "UNMATCHED", "INVALID"}) | V2_ENDED


@dataclass(frozen=True)
class PendingCancel:
    """A cancel that was sent and whose final read is still to come."""

    order: OrderRecord
    label: str
    placement_unknown: bool
    outcome: object  # _cancel_once's answer: True/False, None (unknown or refused) or "retry"


@dataclass(frozen=True)
class CancelResult:
    order_id: str
    cancelled: bool  # the venue confirmed the cancel (or a final read shows it no longer rests)
    verified: bool  # the final size_matched was read
    size_matched: Decimal  # as counted in the ledger after the fills were fetched
    venue_status: str


class Reconciler:
    def __init__(self, ctx: BotContext, fills: FillPath):
        self.ctx = ctx
        self.fills = fills
        self._listing_read_at: dict[str, float] = {}  # token -> when its trades listing was last read

    # ---- recent-fill tracker ---------------------------------------------------------------

    def recently_filled(self, order_id: str) -> RecentFill | None:
        """The tracker's record when the order filled within the window, else None."""
        ctx = self.ctx
        record = ctx.ledger.recent_fill(order_id)
        if record is None:
            return None
        age = ctx.now() - record.at
        if age > ctx.config.recent_fill_window:
            return None
        ctx.audit.emit("recon.recent_fill", order_id=order_id, age=int(age), threshold=ctx.config.recent_fill_window)
        return record

    def cleanup(self) -> int:
        ctx = self.ctx
        count = ctx.ledger.cleanup_recent_fills(ctx.now() - ctx.config.recent_fill_cleanup)
        if count:
            ctx.audit.emit("recon.cleanup", count=count, age=ctx.config.recent_fill_cleanup)
        return count

    # ---- reading the venue -----------------------------------------------------------------

    def sync_fills(
        self,
        order: OrderRecord,
        *,
        detection: str = "Delayed",
        source: str = "trades",
        trades: list[TradeSnapshot] | None = None,
    ) -> int:
        """Fetch the trades of the order's token and apply this order's fills."""
        if trades is None:
            trades = self._listing(order.token_id)
        return self.fills.apply_trades(order.order_id, trades, source=source, detection=detection)

    def _listing(self, token_id: str) -> list[TradeSnapshot]:
        trades = self.ctx.exchange.trades(token_id)
        self._listing_read_at[token_id] = self.ctx.now()
        return trades

    def sweep_listings(self) -> None:
        """Check the trades listing of every active trade (check_listing)."""
        for trade in self.ctx.ledger.trades(active_only=True):
            self.check_listing(trade.trade_id)

    def resting(self, trade_id: int) -> list[OrderRecord]:
        """The trade's orders the listing sweep follows: those resting at the venue."""
        return [o for o in self.ctx.ledger.orders(trade_id, open_only=True) if o.state is OrderState.LIVE]

    def check_listing(self, trade_id: int) -> None:
        """Read the trades listing of a trade with resting orders when it has not been read for
        trades_check_interval (counted from the oldest resting order's placement at first).

        Status reads and pushes are the quick paths, and both can fail together for minutes: the
        user channel drops its pushes while get_order answers a stale snapshot (a cached LIVE)
        of an order that matched. Nothing the bot sees then changes, so nothing else would send
        it to the listing; a fill the listing shows is counted within the interval (by trade id:
        a fill already counted is not counted again).
        """
        ctx = self.ctx
        resting = self.resting(trade_id)
        if not resting:
            return
        token = resting[0].token_id
        last = self._listing_read_at.get(token, min(o.created_at for o in resting))
        if ctx.now() < last + ctx.config.trades_check_interval:
            return
        try:
            trades = self._listing(token)
        except ExchangeError as exc:
            self._listing_read_at[token] = ctx.now()  # tried: the next try waits its interval too
            ctx.audit.emit("recon.error", error=f"trades of trade #{trade_id}: {exc.describe()}")
            return
        for order in resting:
            self.sync_fills(order, trades=trades)

    def observe(self, order: OrderRecord, snapshot: OrderSnapshot) -> None:
        """Take in a venue snapshot of one of our orders: fills first, then the state label."""
        ctx = self.ctx
        ctx.ledger.note_venue_matched(order.order_id, snapshot.size_matched)
        filled = ctx.ledger.filled(order.order_id)
        # MATCHED short of the ledger's count: a venue may take a FAILED trade out of size_matched
        if snapshot.size_matched > filled or (snapshot.status == "MATCHED" and filled < order.size):
            self.sync_fills(order)
        current = ctx.ledger.known_order(order.order_id)
        status = snapshot.status
        if status in FINAL_STATUSES and status != "MATCHED":
            if ctx.ledger.set_order_state(order.order_id, OrderState.CANCELLED, ctx.now(), status):
                # race edge DELAYED -> ORDER_TIMED_OUT: with nothing matched the order never
                # reached the book (a failed placement, as UNMATCHED); with fills it is a
                # cancellation, fills kept
                if status in NEVER_RESTED or (status in TIMED_OUT and snapshot.size_matched == ZERO):
                    # answered `delayed`, then the venue gave up matching it: a failed placement
                    self.announce_terminal(
                        order.order_id,
                        "scale_in.failed",
                        f"order never matched after a delayed placement (status {status})",
                    )
                else:
                    self.announce_terminal(order.order_id, "scale_in.venue_cancelled", f"status {status}")
        elif current.state in (OrderState.UNKNOWN, OrderState.PREPARED, OrderState.NOT_PLACED):
            # LIVE, DELAYED, or MATCHED with fills not yet visible in trades: it reached the book
            ctx.ledger.set_order_state(order.order_id, OrderState.LIVE, ctx.now(), status)
        self.close_failed_match(order, status)

    def close_failed_match(self, order: OrderRecord, status: str) -> None:
        """End an order the venue reports MATCHED whose trades, all known and settled, FAILED in
        part or in full (a scale-in is filled as far as its fills stand; an exit is over, and
        its shares are to be covered again).

        The fill path closes a scale-in when its counted fills reach its size; a void fill never
        counts, so such an order would stay open in the ledger (and without a terminal line) for
        good, though the venue will never match it again. Seen when the fill was first read
        already FAILED and its notifications were lost. It waits for every trade behind the
        venue's size_matched to show, and for every counted fill to settle (one may still FAIL).
        """
        ctx = self.ctx
        current = ctx.ledger.known_order(order.order_id)
        if current.is_terminal or ctx.ledger.has_unsettled_fills(order.order_id):
            return
        void = ctx.ledger.voided(order.order_id)
        if void == ZERO:
            return
        seen = ctx.ledger.filled(order.order_id) + void
        if status == "MATCHED":
            if seen < current.venue_matched:
                return
        elif seen < order.size:
            # No MATCHED status to go by (the order's reads answer null/404 after a match:
            # failure mode 2): trades that account for the whole order say it too, since an order
            # never matches beyond its size. Should a venue put a FAILED trade's shares back on
            # the book, a later fill still counts (fills are applied whatever the order's state)
            # and the order's GTD expiry ends it with the window.
            return
        if order.role is Role.EXIT:
            # The sale FAILED: the shares are back, and this order will never rest again. Left
            # LIVE in the ledger it would pass for an exit covering them, so none would be placed.
            ctx.ledger.set_order_state(order.order_id, OrderState.CANCELLED, ctx.now(), status)
            return
        ctx.ledger.set_order_state(order.order_id, OrderState.FILLED, ctx.now(), status)
        if ctx.ledger.mark_terminal_logged(order.order_id):
            ctx.emit_for(
                ctx.ledger.trade(order.trade_id),
                "scale_in.trade_failed",
                matched=seen,
                void=void,
                filled=ctx.ledger.filled(order.order_id),
                original=order.size,
                order_id=order.order_id,
            )

    def follow(self, order: OrderRecord) -> ExchangeError | None:
        """One look at an open order: its status and the fills behind it. Returns the error of
        the status read, if any (the caller logs it in its own words).

        get_order can answer null for a matched order (failure mode 2) or fail outright; the
        trades listing is another endpoint and still shows fills, so it is read instead.
        """
        try:
            snapshot = self.ctx.exchange.get_order(order.order_id)
        except ExchangeError as exc:
            self._sync_quietly(order)
            return exc
        if snapshot is None:
            self.sync_fills(order)
            self.close_failed_match(order, "")
        else:
            self.observe(order, snapshot)
        return None

    def announce_terminal(self, order_id: str, kind: str, reason: str = "") -> None:
        """Write a scale-in's terminal audit line, once (lifecycle-complete)."""
        ctx = self.ctx
        order = ctx.ledger.known_order(order_id)
        if order.role is not Role.SCALE_IN or not order.is_terminal or order.terminal_logged:
            return
        if kind not in ("scale_in.not_placed", "scale_in.failed") and self.fills_missing(order):
            # The line states what filled, and the venue's size_matched says more matched than
            # the trades listing has shown (it lags order status): the line waits for those
            # fills (catch_up fetches them; settlement writes it whatever came). The ledger keeps
            # it, so that a bot restarted after a crash still writes it (lifecycle-complete).
            ctx.ledger.hold_terminal_line(order_id, kind, reason)
            return
        if not ctx.ledger.mark_terminal_logged(order_id):
            return
        trade = ctx.ledger.trade(order.trade_id)
        if kind == "scale_in.not_placed":
            ctx.emit_for(trade, kind, waited=int(ctx.now() - order.created_at), order_id=order_id)
        elif kind == "scale_in.failed":
            ctx.emit_for(trade, kind, error=reason, error_kind="venue", order_id=order_id)
        else:
            ctx.emit_for(
                trade, kind, reason=reason, filled=ctx.ledger.filled(order_id), original=order.size, order_id=order_id
            )

    def unlisted(self, order: OrderRecord) -> Decimal:
        """What the venue's last size_matched says matched beyond every fill the ledger has of the
        order, void ones included (a FAILED trade stays in size_matched: a ghost fill is no
        missing fill): fills whose trades the listing has not given yet."""
        seen = sum((dec(f["size"]) for f in self.ctx.ledger.fills(order.order_id)), ZERO)
        return max(ZERO, order.venue_matched - seen)

    def fills_missing(self, order: OrderRecord) -> bool:
        return self.unlisted(order) > ZERO

    def announce_deferred(self, trade_id: int, *, whatever_came: bool = False) -> None:
        """Write the terminal lines that waited for fills, once those fills are in (or, at
        settlement, with whatever came)."""
        ledger = self.ctx.ledger
        for order in ledger.orders(trade_id, Role.SCALE_IN):
            if order.held_line is None or order.terminal_logged:
                continue
            if whatever_came or not self.fills_missing(order):
                if ledger.mark_terminal_logged(order.order_id):
                    kind, reason = order.held_line
                    trade = ledger.trade(trade_id)
                    filled = ledger.filled(order.order_id)
                    self.ctx.emit_for(
                        trade, kind, reason=reason, filled=filled, original=order.size, order_id=order.order_id
                    )

    def verify(self, order: OrderRecord) -> OrderSnapshot | None:
        """Read the order until a final status shows, at most verify_attempts times.

        `self.last_open_read` keeps the last read that showed the order still resting: proof
        that a cancel did not land (as opposed to reads that failed, which prove nothing)."""
        ctx = self.ctx
        attempts = ctx.config.verify_attempts
        self.last_open_read = None
        for attempt in range(1, attempts + 1):
            try:
                snapshot = ctx.exchange.get_order(order.order_id)
            except ExchangeError as exc:
                ctx.audit.emit(
                    "recon.verify_miss",
                    attempt=attempt,
                    attempts=attempts,
                    order_id=order.order_id,
                    error=exc.describe(),
                )
                snapshot = None
            else:
                if snapshot is None:
                    ctx.audit.emit(
                        "recon.verify_miss",
                        attempt=attempt,
                        attempts=attempts,
                        order_id=order.order_id,
                        error="no record (null/404)",
                    )
                else:
                    ctx.audit.emit(
                        "recon.verify",
                        attempt=attempt,
                        attempts=attempts,
                        order_id=order.order_id,
                        status=snapshot.status,
                        size_matched=snapshot.size_matched,
                    )
                    if snapshot.status in FINAL_STATUSES:
                        return snapshot
                    self.last_open_read = snapshot
            if attempt < attempts:
                ctx.clock.sleep(ctx.config.verify_delay)
        return None

    # ---- safe cancellation -----------------------------------------------------------------

    def safe_cancel(self, order: OrderRecord, label: str) -> CancelResult:
        return self.finish_cancel(self.begin_cancel(order, label))

    def begin_cancel(self, order: OrderRecord, label: str) -> PendingCancel:
        """Send the cancel; finish_cancel then reads the final size_matched. Split so that a
        caller with several orders to cancel sends every cancel before it waits on any read."""
        ctx = self.ctx
        ctx.audit.emit("recon.safe_cancel_start", label=label, order_id=order.order_id)
        # An order whose placement outcome is still unknown keeps that state: if nothing proves
        # it reached the book, reconciliation declares it not placed after unknown_grace; moving
        # it to CANCEL_PENDING (and back to LIVE below) would make a maybe-order "live" forever.
        placement_unknown = ctx.ledger.known_order(order.order_id).state in (OrderState.UNKNOWN, OrderState.PREPARED)
        if not placement_unknown:
            ctx.ledger.set_order_state(order.order_id, OrderState.CANCEL_PENDING, ctx.now())
        outcome = self._cancel_once(order, label, 1, ctx.config.cancel_attempts)
        return PendingCancel(order, label, placement_unknown, outcome)

    def finish_cancel(self, pending: PendingCancel) -> CancelResult:
        order, label, placement_unknown = pending.order, pending.label, pending.placement_unknown
        attempts = self.ctx.config.cancel_attempts
        acked = False
        snapshot = None
        for attempt in range(1, attempts + 1):
            outcome = pending.outcome if attempt == 1 else self._cancel_once(order, label, attempt, attempts)
            acked = acked or outcome is True
            if outcome == "retry":
                continue
            snapshot = self.verify(order)
            # Unless the venue confirmed the cancel (then a LIVE read is stale), a read showing
            # the order still resting proves the cancel did not land (lost on the way, or
            # refused): send it again now rather than a whole cycle later.
            if snapshot is None and self.last_open_read is not None and not acked and attempt < attempts:
                continue
            break
        return self._conclude(order, label, acked, snapshot, placement_unknown)

    def _cancel_once(
        self, order: OrderRecord, label: str, attempt: int, attempts: int
    ) -> bool | Literal["retry"] | None:
        """One cancel request: True/False for the venue's answer, None when the outcome is
        unknown or refused (a read decides), "retry" after a transient error (already waited)."""
        ctx = self.ctx
        try:
            ack = ctx.exchange.cancel_order(order.order_id)
        except Transient as exc:
            ctx.audit.emit(
                "recon.cancel_error",
                label=label,
                attempt=attempt,
                attempts=attempts,
                order_id=order.order_id,
                error=exc.describe(),
            )
            if attempt < attempts:
                ctx.clock.sleep(exc.retry_after or ctx.config.verify_delay)
                return "retry"
            return None
        except ExchangeError as exc:
            # OutcomeUnknown: the cancel may or may not have landed; a refusal: it did not.
            # Either way the read that follows decides.
            ctx.audit.emit(
                "recon.cancel_error",
                label=label,
                attempt=attempt,
                attempts=attempts,
                order_id=order.order_id,
                error=exc.describe(),
            )
            return None
        # The cancel landed (or not) and the final size_matched is unread: a crash here must not
        # lose a fill that beat the cancel (the restarted bot reconciles the order by id).
        ctx.probe.reached(CodePoint.CANCEL_ANSWERED)
        answer = "canceled" if ack.canceled else f"not canceled ({ack.reason})"
        ctx.audit.emit("recon.cancel_ack", label=label, order_id=order.order_id, answer=answer)
        return ack.canceled

    def _conclude(
        self, order: OrderRecord, label: str, acked: bool, snapshot: OrderSnapshot | None, placement_unknown: bool
    ) -> CancelResult:
        ctx = self.ctx
        if snapshot is None:
            # Assume unfilled only for the purpose of moving on: the order stays subject to trade
            # syncing (venue_matched unknown), so a fill that did land is still counted later.
            ctx.audit.emit("recon.inconclusive", order_id=order.order_id, attempts=ctx.config.verify_attempts)
            self._sync_quietly(order)
            self.close_failed_match(order, "")
            if acked:
                ctx.ledger.set_order_state(order.order_id, OrderState.CANCELLED, ctx.now(), "UNVERIFIED")
            elif not placement_unknown:
                ctx.ledger.set_order_state(order.order_id, OrderState.LIVE, ctx.now())
            return CancelResult(order.order_id, acked, False, ctx.ledger.filled(order.order_id), "UNVERIFIED")

        ctx.ledger.note_venue_matched(order.order_id, snapshot.size_matched)
        self._sync_quietly(order)
        matched = ctx.ledger.filled(order.order_id)
        cancelled = snapshot.status != "MATCHED"
        if cancelled:
            ctx.ledger.set_order_state(order.order_id, OrderState.CANCELLED, ctx.now(), snapshot.status)
        else:
            self.close_failed_match(order, snapshot.status)
        ctx.audit.emit(
            "recon.safe_cancel_done", label=label, order_id=order.order_id, size_matched=snapshot.size_matched
        )
        return CancelResult(order.order_id, cancelled, True, matched, snapshot.status)

    def _sync_quietly(self, order: OrderRecord) -> None:
        try:
            self.sync_fills(order)
        except ExchangeError as exc:
            self.ctx.audit.emit("recon.error", error=f"trades for {order.order_id}: {exc.describe()}")

    # ---- the reconcile pass ----------------------------------------------------------------

    def reconcile(self, reason: str, orders: list[OrderRecord] | None = None) -> None:
        """Converge local state to the exchange's: after an unknown outcome, and at start-up."""
        ctx = self.ctx
        if orders is None:
            orders = self.orders_to_check()
        ctx.audit.emit("recon.pass_start", reason=reason, count=len(orders))
        recovered = voided = 0
        trades_by_token: dict[str, list[TradeSnapshot]] = {}
        open_ids_by_token: dict[str, set[str]] = {}
        for order in orders:
            try:
                if order.token_id not in trades_by_token:
                    trades_by_token[order.token_id] = self._listing(order.token_id)
                    open_ids_by_token[order.token_id] = {o.order_id for o in ctx.exchange.open_orders(order.token_id)}
                trades = trades_by_token[order.token_id]
                before = {f["trade_key"]: f["void"] for f in ctx.ledger.fills(order.order_id)}
                self.sync_fills(order, source="reconciliation", trades=trades)
                # a void is not a recovered fill: count new live fills and new voids apart
                for fill in ctx.ledger.fills(order.order_id):
                    if fill["trade_key"] not in before and not fill["void"]:
                        recovered += 1
                        ctx.audit.emit(
                            "recon.fill_recovered",
                            order_id=order.order_id,
                            source="trades",
                            trade_id=fill["trade_key"],
                            size=dec(fill["size"]),
                            price=dec(fill["price"]),
                        )
                    elif fill["void"] and not before.get(fill["trade_key"], 0):
                        voided += 1
                self._settle_state(order, open_ids_by_token[order.token_id], trades)
            except ExchangeError as exc:
                ctx.audit.emit("recon.error", error=f"{order.order_id}: {exc.describe()}")
        ctx.audit.emit("recon.pass_done", orders=len(orders), recovered=recovered, voided=voided)

    def catch_up(self, trade_id: int) -> None:
        """Fetch fills the venue reported (size_matched) but trades had not shown yet, for orders
        that are already terminal locally, and for cancels whose verification was inconclusive.

        Without this, a fill behind a cancelled order whose trade lags the order object would
        only be counted at settlement, and the exit plan would not cover those shares meanwhile.
        Likewise a counted fill is followed until its trade is CONFIRMED: a trade can still end
        FAILED (a ghost fill, failure mode 5), and the void must reach the position (and the exit
        size) when it happens, not at settlement.
        """
        ledger = self.ctx.ledger
        for order in ledger.orders(trade_id):
            if ledger.has_unsettled_fills(order.order_id):
                self._sync_quietly(order)
                continue
            if not order.is_terminal and order.state is not OrderState.CANCEL_PENDING:
                continue  # open orders are followed by the scale-in and exit tracking
            # A cancel whose final read showed fills it could not fetch leaves the order
            # CANCEL_PENDING (MATCHED, nothing to cancel): once the window's cleanup is done no
            # tracking follows it, so this is what counts those fills before settlement.
            if order.venue_matched > ledger.filled(order.order_id) or order.venue_status == "UNVERIFIED":
                self._sync_quietly(order)
        self.announce_deferred(trade_id)

    def orders_to_check(self) -> list[OrderRecord]:
        """Non-terminal orders, and terminal ones whose venue fills are not all counted yet."""
        ledger = self.ctx.ledger
        result = []
        for order in ledger.orders():
            if (
                not order.is_terminal
                or order.venue_matched > ledger.filled(order.order_id)
                or order.venue_status == "UNVERIFIED"
            ):
                result.append(order)
        return result

    def _settle_state(self, order: OrderRecord, open_ids: set[str], trades: list[TradeSnapshot]) -> None:
        ctx = self.ctx
        current = ctx.ledger.known_order(order.order_id)
        if current.is_terminal and current.state is not OrderState.NOT_PLACED:
            return
        snapshot = None
        try:
            snapshot = ctx.exchange.get_order(order.order_id)
        except ExchangeError as exc:
            ctx.audit.emit("recon.error", error=f"{order.order_id}: {exc.describe()}")
        if snapshot is not None:
            ctx.audit.emit(
                "recon.order_found", order_id=order.order_id, status=snapshot.status, size_matched=snapshot.size_matched
            )
            self.observe(current, snapshot)
            return
        if order.order_id in open_ids:
            ctx.audit.emit(
                "recon.order_found",
                order_id=order.order_id,
                status="LIVE",
                size_matched=ctx.ledger.filled(order.order_id),
            )
            ctx.ledger.set_order_state(order.order_id, OrderState.LIVE, ctx.now(), "LIVE")
            return
        if any(t.fill_of(order.order_id) for t in trades):
            # get_order may answer null for an order that matched on arrival (failure mode 2)
            if ctx.ledger.filled(order.order_id) >= order.size:
                ctx.ledger.set_order_state(order.order_id, OrderState.FILLED, ctx.now(), "MATCHED")
            return
        waited = ctx.now() - order.created_at
        ctx.audit.emit("recon.order_missing", order_id=order.order_id, waited=int(waited))
        if current.state in (OrderState.UNKNOWN, OrderState.PREPARED) and waited >= ctx.config.unknown_grace:
            ctx.ledger.set_order_state(order.order_id, OrderState.NOT_PLACED, ctx.now(), "NOT_FOUND")
            self.announce_terminal(order.order_id, "scale_in.not_placed")
