"""The one fill path: every source feeds it, the (trade id, order id) key keeps it idempotent."""

from __future__ import annotations

from decimal import Decimal

from clobsim.core.ledger import FillOutcome
from clobsim.core.model import FillSeen, OrderState

from .conftest import Rig, lose_answer_once

D = Decimal


def seen(rig: Rig, trade_key: str, order_id: str) -> FillSeen:
    (trade,) = [t for t in rig.fake.trades_list if t.trade_id == trade_key]
    return trade.fill_of(order_id)


def test_an_immediate_fill_renders_the_immediate_sample_line(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    tk = rig.fake.fill(oid, "10.50", notify=False)
    outcome = rig.bot.fills.apply(seen(rig, tk, oid), source="placement", detection="Immediate")
    assert outcome is FillOutcome.APPLIED
    assert rig.lines("scale_in.filled_immediate") == [
        f"📈 [BTC] Trade #{trade_id} UP | ✅ SCALE-IN FILLED (Immediate): 10.50 shares @ $0.7500 | OrderID: {oid}"
    ]
    assert rig.of("scale_in.filled_delayed") == []
    assert rig.ledger.order(oid).state is OrderState.FILLED
    assert rig.ledger.position(trade_id) == D("21.00")


def test_a_delayed_fill_renders_the_delayed_sample_line(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    tk = rig.fake.fill(oid, "10.50", notify=False)
    rig.bot.fills.apply(seen(rig, tk, oid), source="trades")
    assert rig.lines("scale_in.filled_delayed") == [
        f"📈 [BTC] Trade #{trade_id} UP | 🎯 SCALE-IN FILLED (Delayed): +10.50 shares @ $0.7500 | OrderID: {oid}"
    ]
    assert rig.of("scale_in.filled_immediate") == []


def test_a_fill_is_tracked_as_recent_before_its_filled_line(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    tk = rig.fake.fill(oid, "10.50", notify=False)
    rig.bot.fills.apply(seen(rig, tk, oid), source="trades")
    kinds = rig.kinds()
    assert kinds.index("recon.track_fill") < kinds.index("scale_in.filled_delayed")
    assert rig.lines("recon.track_fill") == [
        f"🔍 RECONCILIATION AUDIT: Tracking recent fill for order {oid} | size=10.50, price=$0.75,"
        f" timestamp={int(rig.clock.now())}"
    ]
    assert rig.ledger.recent_fill(oid).size == D("10.50")


def test_partial_fills_then_completion_count_every_share_once(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    t1 = rig.fake.fill(oid, "4.00", notify=False)
    rig.bot.fills.apply(seen(rig, t1, oid), source="trades")
    assert rig.ledger.order(oid).state is OrderState.LIVE
    t2 = rig.fake.fill(oid, "6.50", notify=False)
    rig.bot.fills.apply(seen(rig, t2, oid), source="trades")
    rig.bot.fills.apply(seen(rig, t1, oid), source="notification")  # late duplicate of the first
    assert rig.lines("scale_in.partial") == [
        f"📈 [BTC] Trade #{trade_id} UP | ⏰ SCALE-IN PARTIAL FILL (Delayed): +4.00 shares @ $0.7500"
        f" | filled=4.00/10.50 | OrderID: {oid}"
    ]
    assert rig.lines("scale_in.filled_delayed") == [
        f"📈 [BTC] Trade #{trade_id} UP | 🎯 SCALE-IN FILLED (Delayed): +6.50 shares @ $0.7500 | OrderID: {oid}"
    ]
    assert rig.ledger.filled(oid) == D("10.50")
    assert rig.ledger.order(oid).state is OrderState.FILLED
    assert rig.ledger.order(oid).terminal_logged is True
    assert rig.ledger.position(trade_id) == D("21.00")


def test_an_immediate_completion_after_a_partial_is_reported_as_delayed(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    t1 = rig.fake.fill(oid, "4.00", notify=False)
    rig.bot.fills.apply(seen(rig, t1, oid), source="trades", detection="Immediate")
    t2 = rig.fake.fill(oid, "6.50", notify=False)
    rig.bot.fills.apply(seen(rig, t2, oid), source="trades", detection="Immediate")
    assert [e.fields["detection"] for e in rig.of("scale_in.partial")] == ["Immediate"]
    assert rig.of("scale_in.filled_immediate") == []
    assert [e.fields["size"] for e in rig.of("scale_in.filled_delayed")] == [D("6.50")]


def test_the_same_fill_from_a_notification_and_from_polling_is_counted_once(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.fake.fill(oid, "10.50")  # a trade in the listing AND a fill notification
    rig.bot.notifications.poll()
    rig.bot.scale.track(rig.trade(trade_id))  # polling sees MATCHED and reads the trades
    rig.bot.reconciler.reconcile("check")  # and reconciliation reads them once more
    assert len(rig.ledger.fills(oid)) == 1
    assert rig.ledger.fills(oid)[0]["source"] == "notification"
    assert rig.ledger.position(trade_id) == D("21.00")
    assert len(rig.of("scale_in.filled_delayed")) == 1


def test_polling_first_then_the_notification_also_counts_once(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.fake.fill(oid, "10.50")
    rig.bot.scale.track(rig.trade(trade_id))
    rig.bot.notifications.poll()
    assert [f["source"] for f in rig.ledger.fills(oid)] == ["trades"]
    assert rig.ledger.position(trade_id) == D("21.00")
    assert len(rig.of("scale_in.filled_delayed")) == 1


def test_a_fill_of_a_cancelled_order_still_counts(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    result = rig.bot.reconciler.safe_cancel(rig.ledger.order(oid), "scale-in")
    assert result.cancelled and rig.ledger.order(oid).state is OrderState.CANCELLED
    # the venue reports a fill of the order after all (clob-reference failure mode 3)
    tk = rig.fake.fill(oid, "3.00", notify=False)
    assert rig.bot.fills.apply(seen(rig, tk, oid), source="trades") is FillOutcome.APPLIED
    assert rig.ledger.position(trade_id) == D("13.50")
    assert rig.ledger.order(oid).state is OrderState.CANCELLED  # still cancelled: only 3 of 10.50
    tk2 = rig.fake.fill(oid, "7.50", notify=False)
    rig.bot.fills.apply(seen(rig, tk2, oid), source="trades")
    assert rig.ledger.order(oid).state is OrderState.FILLED  # the race edge CANCELLED -> FILLED
    assert rig.ledger.position(trade_id) == D("21.00")


def test_exit_fills_reduce_the_position_and_render_the_exit_line(rig):
    trade_id = rig.open_trade()
    rig.bot.monitor.ensure_exit(rig.trade(trade_id))
    exit_id = rig.exit(trade_id).order_id
    t1 = rig.fake.fill(exit_id, "4.00", notify=False)
    rig.bot.fills.apply(seen(rig, t1, exit_id), source="trades")
    t2 = rig.fake.fill(exit_id, "6.50", notify=False)
    rig.bot.fills.apply(seen(rig, t2, exit_id), source="trades")
    assert rig.lines("exit.filled") == [
        f"✅ [BTC] #{trade_id} EXIT AUDIT: Exit order filled: +4.00 shares @ $0.9900 | sold=4.00/10.50"
        f" | OrderID: {exit_id}",
        f"✅ [BTC] #{trade_id} EXIT AUDIT: Exit order filled: +6.50 shares @ $0.9900 | sold=10.50/10.50"
        f" | OrderID: {exit_id}",
    ]
    assert rig.ledger.position(trade_id) == D("0")
    assert rig.ledger.order(exit_id).state is OrderState.FILLED
    assert rig.ledger.recent_fill(exit_id) is None  # the tracker is for scale-ins
    assert rig.of("scale_in.partial") == [] and rig.of("scale_in.filled_delayed") == []


def test_a_scale_in_fill_whose_trade_fails_is_voided_with_a_line_and_the_position_reverts(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    tk = rig.fake.fill(oid, "10.50", notify=False)
    rig.bot.fills.apply(seen(rig, tk, oid), source="trades")
    rig.fake.fail_trade(tk)
    assert rig.bot.fills.apply(seen(rig, tk, oid), source="trades") is FillOutcome.VOIDED
    assert rig.bot.fills.apply(seen(rig, tk, oid), source="notification") is FillOutcome.DUPLICATE
    assert rig.ledger.position(trade_id) == D("10.50")
    assert rig.lines("scale_in.void") == [
        f"📈 [BTC] Trade #{trade_id} UP | ⚠️  SCALE-IN FILL VOID: -10.50 shares @ $0.7500 (trade {tk} failed)"
        f" | OrderID: {oid}"
    ]
    assert len(rig.of("recon.fill_void")) == 1


def test_an_exit_fill_whose_trade_fails_gives_the_shares_back(rig):
    trade_id = rig.open_trade()
    rig.bot.monitor.ensure_exit(rig.trade(trade_id))
    exit_id = rig.exit(trade_id).order_id
    tk = rig.fake.fill(exit_id, "10.50", notify=False)
    rig.bot.fills.apply(seen(rig, tk, exit_id), source="trades")
    assert rig.ledger.position(trade_id) == D("0")
    rig.fake.fail_trade(tk)
    rig.bot.fills.apply(seen(rig, tk, exit_id), source="trades")
    assert rig.ledger.position(trade_id) == D("10.50")
    assert rig.lines("exit.void") == [
        f"⚠️  [BTC] #{trade_id} EXIT AUDIT: Exit fill void: -10.50 shares (trade {tk} failed) | OrderID: {exit_id}"
    ]


def test_a_fill_first_seen_failed_is_recorded_but_never_counted(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    tk = rig.fake.fill(oid, "10.50", notify=False)
    rig.fake.fail_trade(tk)
    assert rig.bot.fills.apply(seen(rig, tk, oid), source="trades") is FillOutcome.VOID_RECORDED
    assert rig.ledger.position(trade_id) == D("10.50")
    assert rig.of("scale_in.filled_delayed") == [] and rig.of("scale_in.void") == []
    assert len(rig.of("recon.fill_void")) == 1


def test_apply_trades_counts_only_new_fills_of_the_given_order(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.fake.fill(oid, "4.00", notify=False)
    rig.fake.fill(oid, "2.00", notify=False)
    trades = rig.fake.trades("btc-up")
    assert rig.bot.fills.apply_trades(oid, trades, source="trades") == 2
    assert rig.bot.fills.apply_trades(oid, trades, source="trades") == 0
    assert rig.bot.fills.apply_trades("0xnot-ours", trades, source="trades") == 0
    assert rig.ledger.filled(oid) == D("6.00")


def test_a_partial_fill_of_an_order_declared_not_placed_puts_it_back_under_watch(rig):
    trade_id = rig.open_trade()
    lose_answer_once(rig.fake, "post_order")
    oid = rig.bot.scale.place(rig.trade(trade_id), D("10.50"), D("0.75"), 420)
    rig.fake.hide(oid, 100)
    rig.fake.orders[oid].status = "DELAYED"  # invisible to every lookup for a while
    rig.clock.advance(40)
    rig.bot.scale.track(rig.trade(trade_id))
    assert rig.ledger.order(oid).state is OrderState.NOT_PLACED
    # it was on the book after all: a fill notification proves it
    rig.fake.orders[oid].status = "LIVE"
    tk = rig.fake.fill(oid, "4.00", notify=False)
    rig.bot.fills.apply(seen(rig, tk, oid), source="notification")
    assert rig.ledger.position(trade_id) == D("14.50")
    order = rig.ledger.order(oid)
    assert order.state is OrderState.LIVE  # the race edge NOT_PLACED -> LIVE: no longer terminal
    assert oid in [o.order_id for o in rig.ledger.orders(trade_id, open_only=True)]
