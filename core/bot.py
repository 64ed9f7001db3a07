"""The bot: the position manager's parts wired together, and its concurrent tasks.

A live bot runs `tasks()` on threads (`run_live`); the simulator runs the very same callables
as cooperative tasks on virtual time. Each task catches ExchangeError (it becomes an audit line
and the loop goes on); any other exception is a bug and is allowed to escape the task, so the
harness's no-crash invariant can see it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .audit import AuditLog
from .config import StrategyConfig
from .context import BotContext
from .errors import ExchangeError
from .fills import FillPath
from .ledger import Ledger
from .model import DecimalLike, OrderState, dec
from .monitor import Monitor
from .notifications import NotificationProcessor
from .ports import Clock, Exchange, NoProbe, Probe
from .reconciliation import Reconciler
from .scale import ScaleIn


class Bot:
    # The parts, as classes, so a variant bot (sim's zoo) overrides one method of one part.
    fill_path_class = FillPath
    reconciler_class = Reconciler
    scale_class = ScaleIn
    monitor_class = Monitor
    notifications_class = NotificationProcessor

    def __init__(
        self,
        clock: Clock,
        exchange: Exchange,
        ledger: Ledger,
        *,
        config: StrategyConfig | None = None,
        audit: AuditLog | None = None,
        logger: logging.Logger | None = None,
        probe: Probe | None = None,
    ):
        audit = audit or AuditLog(clock, logger)
        self.ctx = BotContext(clock, exchange, ledger, audit, config or StrategyConfig(), probe or NoProbe())
        self.fills = self.fill_path_class(self.ctx)
        self.reconciler = self.reconciler_class(self.ctx, self.fills)
        self.scale = self.scale_class(self.ctx, self.reconciler)
        self.monitor = self.monitor_class(self.ctx, self.reconciler, self.scale)
        self.notifications = self.notifications_class(self.ctx, self.fills, self.reconciler, self.monitor)
        self.stopped = False
        self.started = False  # start-up's reconcile pass is over

    @property
    def ledger(self) -> Ledger:
        return self.ctx.ledger

    @property
    def audit(self) -> AuditLog:
        return self.ctx.audit

    def open_trade(
        self,
        *,
        symbol: str,
        side: str,
        market: str,
        token_id: str,
        window_slug: str,
        window_end: float,
        entry_price: DecimalLike,
        entry_size: DecimalLike,
        confidence: DecimalLike,
        trade_id: int | None = None,
    ) -> int:
        """Record a position the strategy opened (entry fills are outside this component)."""
        ctx = self.ctx
        trade_id = ctx.ledger.open_trade(
            symbol=symbol,
            side=side,
            market=market,
            token_id=token_id,
            window_slug=window_slug,
            window_end=window_end,
            entry_price=dec(entry_price),
            entry_size=dec(entry_size),
            confidence=dec(confidence),
            now=ctx.now(),
            trade_id=trade_id,
        )
        trade = ctx.ledger.trade(trade_id)
        ctx.emit_for(
            trade,
            "trade.opened",
            size=trade.entry_size,
            price=trade.entry_price,
            confidence=trade.confidence,
            window_end=int(window_end),
        )
        return trade_id

    def start(self) -> None:
        """Start-up: converge with the exchange before trading (a restart after a crash)."""
        ctx = self.ctx
        if ctx.ledger.orders():
            for order in ctx.ledger.orders():
                if order.state is OrderState.CANCEL_PENDING:
                    # The process that sent this cancel died before it read the outcome, and no
                    # one else finishes it: left so, the order would be skipped for good (an exit
                    # never resized). LIVE until the venue's status, read just below, says more.
                    ctx.ledger.set_order_state(order.order_id, OrderState.LIVE, ctx.now())
            self._guard("startup", lambda: self.reconciler.reconcile("start-up"))
            # terminal lines the crashed process held back for fills the venue reported: those
            # whose fills the pass just counted are written now; the rest wait on as before
            for trade in ctx.ledger.trades(active_only=True):
                self.reconciler.announce_deferred(trade.trade_id)
        self.started = True

    def _guard(self, task: str, step: Callable[[], object]) -> None:
        try:
            step()
        except ExchangeError as exc:
            self.ctx.audit.emit("bot.task_error", task=task, error=exc.describe())

    def monitor_loop(self) -> None:
        while not self.stopped:
            self._guard("monitor", self.monitor.cycle)
            self.ctx.clock.sleep(self.ctx.config.monitor_interval)

    def notification_loop(self) -> None:
        while not self.stopped:
            self._guard("notifications", self.notifications.poll)
            self.ctx.clock.sleep(self.ctx.config.notification_interval)

    def listing_loop(self) -> None:
        # A task of its own: the sweep's reads must not delay the monitor's cycles or the polls.
        # It waits for start-up's reconcile pass, which reads every listing itself.
        while not self.stopped:
            if self.started:
                self._guard("listing", self.reconciler.sweep_listings)
            self.ctx.clock.sleep(self.ctx.config.monitor_interval)

    def tasks(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("monitor", self.monitor_loop),
            ("notifications", self.notification_loop),
            ("listing", self.listing_loop),
        ]

    @property
    def idle(self) -> bool:
        return not self.ctx.ledger.trades(active_only=True)

    def stop(self) -> None:
        self.stopped = True

    def run_live(self) -> list[threading.Thread]:
        """Live: one thread per task, as the original bot runs them."""
        self.start()
        threads = [threading.Thread(target=fn, name=f"bot-{name}", daemon=True) for name, fn in self.tasks()]
        for thread in threads:
            thread.start()
        return threads


__all__ = ["Bot"]
