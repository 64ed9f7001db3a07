"""The bot: its tasks, restart from the database, and how its loops treat errors."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import pytest

from clobsim.core.audit import render
from clobsim.core.bot import Bot
from clobsim.core.errors import Transient
from clobsim.core.ledger import Ledger
from clobsim.core.model import OrderState, PlaceOrder, Role, Side, TradeState
from clobsim.core.monitor import Monitor
from clobsim.core.ports import CodePoint, NoProbe
from clobsim.sim.testing.fake import ManualClock

from .conftest import MARKET, TOKEN, WINDOW, Rig, lose_answer_once
from .test_monitor import late_scale_in_fill_after_closing

D = Decimal


class StopAfter(ManualClock):
    """A manual clock that stops the bot after a number of sleeps (one per loop iteration)."""

    def __init__(self, start: float, sleeps: int):
        super().__init__(start)
        self.left = sleeps
        self.bot: Bot | None = None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        self.left -= 1
        if self.left <= 0:
            self.bot.stop()


def test_the_bot_runs_a_monitor_task_a_notification_task_and_a_listing_sweep(rig):
    tasks = rig.bot.tasks()
    assert [name for name, _ in tasks] == ["monitor", "notifications", "listing"]
    assert [fn.__name__ for _, fn in tasks] == ["monitor_loop", "notification_loop", "listing_loop"]
    assert all(fn.__self__ is rig.bot for _, fn in tasks)


def test_start_with_an_empty_ledger_does_not_touch_the_exchange(rig):
    rig.bot.start()
    assert rig.fake.calls == []
    assert rig.events == []


def test_a_restart_on_the_same_database_reconciles_and_loses_nothing(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    first = Rig(ledger=path)
    trade_id = first.open_trade()
    first.fake.set_book(TOKEN, "0.75", "0.77")
    first.at(WINDOW - 420)
    first.bot.monitor.cycle()
    exit_id = first.exit(trade_id).order_id
    scale_id = first.ledger.orders(trade_id, Role.SCALE_IN)[0].order_id
    first.fake.fill(exit_id, "4.00")
    first.bot.notifications.poll()
    assert first.ledger.position(trade_id) == D("6.50")
    # the bot dies; meanwhile the scale-in fills and its notification waits unread
    first.fake.fill(scale_id, "10.50")
    first.clock.advance(30)

    second = Rig(ledger=Ledger(path), clock=first.clock, fake=first.fake)
    try:
        second.bot.start()
        trade = second.trade(trade_id)
        assert (trade.state, trade.scale_in_attempted) == (TradeState.OPEN, True)
        assert [o.order_id for o in second.ledger.orders()] == [o.order_id for o in first.ledger.orders()]
        assert second.ledger.order(scale_id).state is OrderState.FILLED
        assert second.ledger.position(trade_id) == D("17.00")  # 10.50 - 4.00 + 10.50
        assert second.lines("recon.pass_start") == [
            "🔍 RECONCILIATION AUDIT: Starting reconciliation pass (start-up) | orders to check=2"
        ]
        assert second.lines("recon.pass_done") == [
            "✅ RECONCILIATION AUDIT: Reconciliation pass complete | orders=2, fills recovered=1, voided=0"
        ]
        # the unread notification arrives after the restart: nothing is counted twice
        second.bot.notifications.poll()
        second.clock.advance(5)
        second.bot.monitor.cycle()
        assert len(second.ledger.fills(scale_id)) == 1
        assert second.ledger.position(trade_id) == D("17.00")
        assert second.exit(trade_id).size == D("17.00")  # resized to the recovered position
        assert len(second.ledger.orders(trade_id, Role.SCALE_IN)) == 1  # and no second scale-in
    finally:
        first.ledger.close()
        second.ledger.close()


def test_a_restart_after_a_timed_out_placement_finds_the_order_and_never_reposts_it(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    first = Rig(ledger=path)
    trade_id = first.open_trade()
    lose_answer_once(first.fake, "post_order")
    scale_id = first.bot.scale.place(first.trade(trade_id), D("10.50"), D("0.75"), 420)
    assert first.ledger.order(scale_id).state is OrderState.UNKNOWN
    first.ledger.close()  # crash before any reconciliation

    second = Rig(ledger=path, clock=first.clock, fake=first.fake)
    try:
        second.bot.start()
        assert second.ledger.order(scale_id).state is OrderState.LIVE
        posts = second.calls("post_order")
        second.at(WINDOW - 400)
        second.fake.set_book(TOKEN, "0.75", "0.77")
        for _ in range(5):
            second.clock.advance(5)
            second.bot.monitor.cycle()
        assert len(second.ledger.orders(trade_id, Role.SCALE_IN)) == 1
        assert posts == 1  # the fake is shared: that is the timed-out placement itself
        assert second.calls("post_order") == 2  # plus the exit; the scale-in never again
        assert [o.side.value for o in second.fake.orders.values()] == ["BUY", "SELL"]
    finally:
        second.ledger.close()


def test_a_scale_in_recorded_but_never_posted_before_a_crash_is_declared_not_placed_after_the_grace(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    first = Rig(ledger=path)
    trade_id = first.open_trade()
    command = PlaceOrder(token_id=TOKEN, side=Side.BUY, price=D("0.75"), size=D("10.50"))
    prepared = first.fake.prepare_order(command)
    first.ledger.record_order(prepared.order_id, trade_id, Role.SCALE_IN, command, first.clock.now())
    first.ledger.close()  # the crash: recorded (write-ahead), never posted

    second = Rig(ledger=path, clock=first.clock, fake=first.fake)
    try:
        assert second.ledger.order(prepared.order_id).state is OrderState.PREPARED
        second.bot.start()
        assert second.ledger.order(prepared.order_id).state is OrderState.PREPARED  # too early to tell
        second.clock.advance(second.bot.ctx.config.unknown_grace)
        second.fake.set_book(TOKEN, "0.75", "0.77")
        second.at(WINDOW - 420)
        second.bot.monitor.cycle()
        assert second.ledger.order(prepared.order_id).state is OrderState.NOT_PLACED
        assert len(second.of("scale_in.not_placed")) == 1
        assert second.trade(trade_id).scale_in_attempted is True
        assert second.ledger.orders(trade_id, Role.SCALE_IN)[-1].order_id == prepared.order_id
        assert [o.side for o in second.fake.orders.values()] == [Side.SELL]  # the exit only
    finally:
        second.ledger.close()


class FlakyMonitor(Monitor):
    """A monitor whose first cycle meets an exchange error that nothing below caught."""

    failures = 1

    def cycle(self) -> None:
        if self.failures:
            self.failures -= 1
            raise Transient("service unavailable", status=503)
        super().cycle()


class FlakyBot(Bot):
    monitor_class = FlakyMonitor


def test_an_exchange_error_escaping_a_cycle_becomes_a_task_error_line_and_the_loop_goes_on():
    clock = StopAfter(1_764_028_800.0, sleeps=3)
    rig = Rig(clock=clock, bot_class=FlakyBot)
    clock.bot = rig.bot
    trade_id = rig.open_trade()
    rig.bot.monitor_loop()  # returns once stopped: three iterations
    assert rig.lines("bot.task_error") == [
        "❌ RECONCILIATION AUDIT: Task monitor error: transient (HTTP 503): service unavailable"
    ]
    assert rig.of("bot.task_error")[0].fields["task"] == "monitor"
    assert len(rig.exits(trade_id)) == 1  # the later iterations did their work
    assert rig.calls("post_order") == 1


def test_an_exchange_error_in_the_notification_loop_also_becomes_a_line():
    clock = StopAfter(1_764_028_800.0, sleeps=2)
    rig = Rig(clock=clock)
    clock.bot = rig.bot
    original = rig.bot.notifications.poll
    calls = []

    def poll():
        calls.append(1)
        if len(calls) == 1:
            raise Transient("bad gateway", status=502)
        return original()

    rig.bot.notifications.poll = poll
    rig.bot.notification_loop()
    assert len(calls) == 2
    assert [e.fields["task"] for e in rig.of("bot.task_error")] == ["notifications"]


def test_a_programming_error_escapes_the_loop():
    clock = StopAfter(1_764_028_800.0, sleeps=10)
    rig = Rig(clock=clock)
    clock.bot = rig.bot
    rig.open_trade()
    rig.bot.monitor.cycle()

    def bug():
        raise ZeroDivisionError("division by zero")

    rig.fake.before("get_order", bug)
    with pytest.raises(ZeroDivisionError):
        rig.bot.monitor_loop()
    assert rig.of("bot.task_error") == []


def test_audit_lines_reach_the_logger_through_standard_logging(rig, caplog):
    caplog.set_level(logging.INFO, logger="clobsim.test.core")
    trade_id = rig.open_trade()
    rig.bot.monitor.cycle()
    messages = [r.getMessage() for r in caplog.records if r.name == "clobsim.test.core"]
    assert messages == [render(e) for e in rig.events if e.level >= logging.INFO]
    placed = [r for r in caplog.records if "Exit order placed" in r.getMessage()]
    assert len(placed) == 1 and placed[0].levelno == logging.INFO
    assert placed[0].audit_event.kind == "exit.placed"
    assert placed[0].audit_event.fields["trade"] == trade_id


def test_run_live_starts_one_named_thread_per_task_and_they_stop():
    class TinySleepClock(ManualClock):
        def sleep(self, seconds):
            super().sleep(seconds)
            time.sleep(0.001)

    live = Rig(clock=TinySleepClock(1_764_028_800.0))
    threads = live.bot.run_live()
    try:
        assert [t.name for t in threads] == ["bot-monitor", "bot-notifications", "bot-listing"]
        assert all(t.daemon and t.is_alive() for t in threads)
    finally:
        live.bot.stop()
        for t in threads:
            t.join(timeout=5)
    assert not any(t.is_alive() for t in threads)


def test_the_bot_is_idle_once_every_trade_is_settled(rig):
    trade_id = rig.open_trade()
    assert not rig.bot.idle
    rig.ledger.settle(trade_id, TOKEN, D("0"))
    assert rig.bot.idle


class Crash(Exception):
    """What a simulator's probe does at a code point: the task stops there."""


class CrashAt:
    """A Probe that records the code points reached and stops the task at one of them."""

    def __init__(self, point: CodePoint):
        self.point = point
        self.reached_points: list[CodePoint] = []

    def reached(self, point: CodePoint) -> None:
        self.reached_points.append(point)
        if point is self.point:
            raise Crash(point.value)


def test_a_crash_between_a_post_s_answer_and_its_ledger_write_leaves_the_write_ahead_record_for_reconciliation(
    tmp_path,
):
    path = str(tmp_path / "ledger.sqlite")
    first = Rig(ledger=path)
    first.open_trade()
    probe = CrashAt(CodePoint.POST_ANSWERED)
    first.bot.ctx.probe = probe
    with pytest.raises(Crash):
        first.place_scale_in()
    assert probe.reached_points == [CodePoint.POST_ANSWERED]
    (order,) = first.ledger.orders(role=Role.SCALE_IN)
    assert order.state is OrderState.PREPARED  # the answer (live) was never written
    assert first.fake.orders[order.order_id].status == "LIVE"  # yet the venue has it
    first.ledger.close()
    again = Rig(ledger=Ledger(path), clock=first.clock, fake=first.fake)
    again.bot.start()
    assert again.ledger.known_order(order.order_id).state is OrderState.LIVE  # found by its id
    assert len(again.ledger.orders(role=Role.SCALE_IN)) == 1


def test_the_live_bot_s_probe_lets_every_code_point_pass(rig):
    rig.open_trade()
    rig.place_scale_in()
    assert isinstance(rig.bot.ctx.probe, NoProbe)
    assert rig.scale_in().state is OrderState.LIVE


def crash_holding_back_a_cancellation_line(path: str) -> tuple[Rig, int, str]:
    """The window closes; 4.00 of the scale-in match as its cancel is sent, and the trades listing
    fails as both cancels are verified: its SCALE-IN CANCELLED line waits for that fill. Then the
    bot dies."""
    first = Rig(ledger=path)
    trade_id = first.open_trade()
    first.fake.set_book(TOKEN, "0.75", "0.77")
    first.at(WINDOW - 420)
    first.bot.monitor.cycle()
    scale_id = first.ledger.orders(trade_id, Role.SCALE_IN)[-1].order_id
    first.at(WINDOW - 30)
    first.fake.before("cancel_order", lambda: None)  # the exit's cancel
    first.fake.before("cancel_order", lambda: first.fake.fill(scale_id, "4.00", notify=False))
    for _ in range(2):  # the trades listing fails as both cancels are verified
        first.fake.fail_next("trades", Transient("matching engine is restarting", status=425))
    first.bot.monitor.cycle()
    assert first.of("scale_in.cancelled") == []  # held back: 4.00 matched, not counted yet
    assert first.ledger.order(scale_id).held_line == ("scale_in.cancelled", "window ending")
    first.ledger.close()  # the crash
    return first, trade_id, scale_id


def partial_and_cancelled(trade_id: int, scale_id: str) -> list[str]:
    return [
        f"📈 [BTC] Trade #{trade_id} UP | ⏰ SCALE-IN PARTIAL FILL (Delayed): +4.00 shares @ $0.7500"
        f" | filled=4.00/10.50 | OrderID: {scale_id}",
        f"📈 [BTC] Trade #{trade_id} UP | 🧹 SCALE-IN CANCELLED: window ending | filled=4.00/10.50 | OrderID: {scale_id}",
    ]


def test_a_cancellation_line_held_back_for_its_fills_is_written_by_the_bot_restarted_after_a_crash(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    first, trade_id, scale_id = crash_holding_back_a_cancellation_line(path)

    second = Rig(ledger=path, clock=first.clock, fake=first.fake)
    try:
        second.clock.advance(5)
        second.bot.start()
        assert second.lines("scale_in.partial") + second.lines("scale_in.cancelled") == [
            f"📈 [BTC] Trade #{trade_id} UP | ⏰ SCALE-IN PARTIAL FILL (Delayed): +4.00 shares @ $0.7500"
            f" | filled=4.00/10.50 | OrderID: {scale_id}",
            f"📈 [BTC] Trade #{trade_id} UP | 🧹 SCALE-IN CANCELLED: window ending | filled=4.00/10.50"
            f" | OrderID: {scale_id}",
        ]
        assert second.kinds().index("scale_in.partial") < second.kinds().index("scale_in.cancelled")
        assert second.ledger.order(scale_id).terminal_logged
    finally:
        second.ledger.close()


def test_a_held_back_line_whose_fills_the_start_up_pass_cannot_fetch_is_written_once_by_the_cycle_that_counts_them(
    tmp_path,
):
    path = str(tmp_path / "ledger.sqlite")
    first, trade_id, scale_id = crash_holding_back_a_cancellation_line(path)

    second = Rig(ledger=path, clock=first.clock, fake=first.fake)
    try:
        second.clock.advance(5)
        second.fake.fail_next("trades", Transient("matching engine is restarting", status=425))
        second.bot.start()
        assert [e.kind for e in second.events if e.kind.startswith("scale_in.")] == []  # the fill is not in yet
        second.clock.advance(5)
        second.bot.monitor.cycle()  # the closing trade's catch-up fetches it
        assert second.lines("scale_in.partial") + second.lines("scale_in.cancelled") == partial_and_cancelled(
            trade_id, scale_id
        )
        second.fake.resolve(MARKET, TOKEN)
        for _ in range(3):
            second.clock.advance(15)
            second.bot.monitor.cycle()
        assert [e.kind for e in second.events if e.kind.startswith(("scale_in.", "trade.settled"))] == [
            "scale_in.partial",
            "scale_in.cancelled",
            "trade.settled",
        ]
        assert second.trade(trade_id).state is TradeState.SETTLED
    finally:
        second.ledger.close()


def test_a_bot_restarted_in_a_closing_trade_books_the_payout_on_the_shares_delivered(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    first = Rig(ledger=path)
    trade_id = first.open_trade(credit=False)
    first.fake.credit(TOKEN, "10.45")  # 10.50 matched, 10.45 delivered (a fee taken in shares)
    first.bot.monitor.cycle()  # the exit plan
    first.at(WINDOW - 30)
    first.bot.monitor.cycle()  # the window closes
    assert first.trade(trade_id).state is TradeState.CLOSING
    first.ledger.close()  # the crash

    second = Rig(ledger=path, clock=first.clock, fake=first.fake)
    try:
        second.bot.start()
        second.fake.resolve(MARKET, TOKEN)
        second.clock.advance(15)
        second.bot.monitor.cycle()
        assert second.lines("trade.settled") == [
            f"📈 [BTC] Trade #{trade_id} UP | 🏁 SETTLED: winner=WIN, position=10.50, payout=$10.45, pnl=$+3.10"
        ]
    finally:
        second.ledger.close()


def test_the_listing_sweep_waits_for_the_start_up_reconcile_pass():
    clock = StopAfter(1_764_028_800.0, sleeps=8)
    rig = Rig(clock=clock)
    clock.bot = rig.bot
    rig.open_trade()
    rig.bot.monitor.cycle()  # the exit, placed at the window's start
    rig.clear()
    rig.bot.listing_loop()  # 8 iterations, 5 s apart: 35 s, past the 30 s interval, and no start-up
    assert rig.fake.calls == []
    rig.bot.stopped = False
    clock.left = 1
    rig.bot.start()
    rig.bot.listing_loop()
    # start-up's pass read the listing itself at 40 s: the sweep has nothing to read yet
    assert rig.call_names() == ["trades", "open_orders", "get_order"]
    clock.left = 6
    rig.bot.stopped = False
    rig.bot.listing_loop()  # 45 s ... 70 s: due again at 70 s
    assert rig.call_names() == ["trades", "open_orders", "get_order", "trades"]


def test_undelivered_shares_learnt_before_a_crash_are_not_booked_as_paid_when_the_market_resolves_meanwhile(
    tmp_path,
):
    path = str(tmp_path / "ledger.sqlite")
    first = Rig(ledger=path)
    trade_id, _ = late_scale_in_fill_after_closing(first, "2.95")
    first.clock.advance(5)
    first.bot.monitor.cycle()  # the balance, read before resolution: 13.45 of the 13.50 matched
    assert first.lines("trade.undelivered") == [
        f"📈 [BTC] Trade #{trade_id} UP | ⚠️  UNDELIVERED SHARES: the venue holds 13.45 shares, the ledger 13.50"
        " | undelivered=0.05"
    ]
    assert first.trade(trade_id).undelivered == D("0.05")
    first.ledger.close()  # the crash
    first.fake.resolve(MARKET, TOKEN)  # while the bot is down
    first.fake.tokens[TOKEN] = D("0")  # the payout emptied the balance
    first.fake.calls.clear()

    second = Rig(ledger=path, clock=first.clock, fake=first.fake)
    try:
        second.clock.advance(20)
        second.bot.start()
        second.bot.monitor.cycle()
        assert second.calls("balance") == 1  # read again, after the payout: it teaches nothing
        assert second.of("trade.undelivered") == []
        assert second.lines("trade.settled") == [
            f"📈 [BTC] Trade #{trade_id} UP | 🏁 SETTLED: winner=WIN, position=13.50, payout=$13.45, pnl=$+3.85"
        ]
    finally:
        second.ledger.close()
