"""Notifications: retrieve, process, drop; idempotent under duplicate delivery."""

from __future__ import annotations

from decimal import Decimal

from clobsim.core.errors import Transient
from clobsim.core.model import NotificationKind, OrderState, TradeState

from .conftest import MARKET, TOKEN, WINDOW, Rig

D = Decimal


def state_of(rig: Rig, trade_id: int = 1) -> tuple:
    """Everything a notification could change."""
    return (
        rig.ledger.position(trade_id),
        rig.ledger.cost_and_proceeds(trade_id),
        [(o.order_id, o.state, o.venue_matched) for o in rig.ledger.orders()],
        [(f["trade_key"], f["order_id"], f["size"], f["void"]) for f in rig.ledger.fills()],
        rig.trade(trade_id).state,
        dict(rig.bot.monitor.resolutions),
    )


def test_five_fill_notifications_render_the_sample_lines(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    for _ in range(5):
        rig.fake.fill(oid, "2.10")
    rig.clear()
    assert rig.bot.notifications.poll() == 5
    notif_lines = [line for line in rig.lines() if "NOTIFICATION AUDIT" in line]
    assert notif_lines == [
        "🔍 NOTIFICATION AUDIT: Starting notification retrieval process",
        "🔍 NOTIFICATION AUDIT: Retrieved 5 notifications",
        *[f"🔍 NOTIFICATION AUDIT: Processed notification {i}/5 - Type: fill, OrderID: {oid}" for i in range(1, 6)],
        "✅ NOTIFICATION AUDIT: Successfully processed 5 notifications",
        "🧹 NOTIFICATION AUDIT: Dropped 5 notifications (marked as read)",
    ]
    assert rig.ledger.filled(oid) == D("10.50")
    assert rig.ledger.order(oid).state is OrderState.FILLED
    assert rig.fake.notes == []  # dropped only after processing
    assert rig.call_names() == ["notifications", "drop_notifications"]


def test_an_empty_retrieval_says_only_that_it_started(rig):
    assert rig.bot.notifications.poll() == 0
    assert rig.kinds() == ["notif.retrieve_start"]
    assert rig.calls("drop_notifications") == 0


def test_processing_lines_follow_each_notification_in_delivery_order(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.fake.fill(oid, "4.00")
    rig.fake.notify(NotificationKind.OTHER)
    rig.bot.notifications.poll()
    assert rig.lines("notif.processed") == [
        f"🔍 NOTIFICATION AUDIT: Processed notification 1/2 - Type: fill, OrderID: {oid}",
        "🔍 NOTIFICATION AUDIT: Processed notification 2/2 - Type: other, OrderID: -",
    ]
    kinds = rig.kinds()
    assert kinds.index("scale_in.partial") < kinds.index("notif.processed")


def test_delivering_every_notification_twice_changes_nothing(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.fake.fill(oid, "4.00")
    t2 = rig.fake.fill(oid, "6.50")
    rig.fake.fail_trade(t2)
    rig.fake.notify(
        NotificationKind.FILL,
        order_id=oid,
        trade_id=t2,
        asset_id=TOKEN,
        size=D("6.50"),
        price=D("0.75"),
        status="FAILED",
    )
    rig.fake.notify(NotificationKind.CANCEL, order_id=oid, size_matched=D("4.00"))
    rig.fake.notify(NotificationKind.RESOLVED, market=MARKET, winning_asset_id=TOKEN)
    delivered = list(rig.fake.notes)
    rig.bot.notifications.poll()
    once = state_of(rig, trade_id)
    lines_once = len([k for k in rig.kinds() if not k.startswith("notif.")])
    assert once[0] == D("14.50")  # 10.50 + 4.00; the 6.50 was voided
    rig.fake.notes = delivered  # the venue delivers the very same notifications again
    rig.bot.notifications.poll()
    assert state_of(rig, trade_id) == once
    assert len([k for k in rig.kinds() if not k.startswith("notif.")]) == lines_once  # no new trade lines


def test_a_fill_seen_by_polling_then_by_notification_is_not_counted_again(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.fake.fill(oid, "10.50")
    rig.bot.scale.track(rig.trade(trade_id))
    before = state_of(rig, trade_id)
    rig.bot.notifications.poll()
    assert state_of(rig, trade_id) == before
    assert len(rig.of("scale_in.filled_delayed")) == 1


def test_a_cancellation_with_size_matched_makes_the_bot_fetch_the_fills(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.fake.fill(oid, "4.00", notify=False)  # the fill itself was never notified
    rig.fake.orders[oid].status = "CANCELED"
    rig.fake.notify(NotificationKind.CANCEL, order_id=oid, size_matched=D("4.00"))
    rig.clear()
    rig.bot.notifications.poll()
    assert rig.calls("trades") == 1
    assert rig.ledger.filled(oid) == D("4.00")
    assert rig.ledger.position(trade_id) == D("14.50")
    assert rig.ledger.order(oid).state is OrderState.CANCELLED
    assert rig.lines("scale_in.venue_cancelled") == [
        f"📈 [BTC] Trade #{trade_id} UP | 🧹 SCALE-IN CANCELLED BY VENUE: cancel notification"
        f" | filled=4.00/10.50 | OrderID: {oid}"
    ]


def test_a_cancellation_with_nothing_matched_reads_no_trades(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.fake.orders[oid].status = "CANCELED"
    rig.fake.notify(NotificationKind.CANCEL, order_id=oid, size_matched=D("0"))
    rig.clear()
    rig.bot.notifications.poll()
    assert rig.calls("trades") == 0
    assert rig.ledger.order(oid).state is OrderState.CANCELLED
    assert len(rig.of("scale_in.venue_cancelled")) == 1


def test_a_cancellation_of_our_own_pending_cancel_is_left_to_the_safe_cancel_flow(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.ledger.set_order_state(oid, OrderState.CANCEL_PENDING, rig.clock.now())
    rig.fake.notify(NotificationKind.CANCEL, order_id=oid, size_matched=D("0"))
    rig.bot.notifications.poll()
    assert rig.ledger.order(oid).state is OrderState.CANCEL_PENDING
    assert rig.of("scale_in.venue_cancelled") == []


def test_notifications_about_orders_that_are_not_ours_are_ignored(rig):
    rig.open_trade()
    rig.fake.notify(NotificationKind.FILL, order_id="0xstranger", trade_id="t-x", size=D("5"), price=D("0.5"))
    rig.fake.notify(NotificationKind.CANCEL, order_id="0xstranger", size_matched=D("5"))
    assert rig.bot.notifications.poll() == 2
    assert rig.ledger.fills() == []
    assert rig.calls("trades") == 0
    assert rig.ledger.position(1) == D("10.50")


def test_a_resolved_notification_feeds_settlement_without_a_resolution_poll(rig):
    trade_id = rig.open_trade()
    rig.at(WINDOW - 10)
    rig.bot.monitor.cycle()
    assert rig.trade(trade_id).state is TradeState.CLOSING
    rig.fake.resolve(MARKET, TOKEN)
    rig.bot.notifications.poll()
    assert rig.bot.monitor.resolutions == {MARKET: TOKEN}
    rig.clock.advance(5)
    rig.bot.monitor.cycle()
    assert rig.calls("resolution") == 0
    trade = rig.trade(trade_id)
    assert (trade.state, trade.winner) == (TradeState.SETTLED, TOKEN)
    assert rig.lines("trade.settled") == [
        f"📈 [BTC] Trade #{trade_id} UP | 🏁 SETTLED: winner=WIN, position=10.50, payout=$10.50, pnl=$+3.15"
    ]


def test_a_failed_drop_is_an_audit_line_and_the_redelivery_changes_nothing(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.fake.fill(oid, "10.50")
    rig.fake.fail_next("drop_notifications", Transient("service unavailable", status=503))
    assert rig.bot.notifications.poll() == 1  # no exception
    assert rig.lines("notif.error") == [
        "⚠️  NOTIFICATION AUDIT: Notification drop failed: transient (HTTP 503): service unavailable"
    ]
    assert rig.of("notif.dropped") == []
    assert len(rig.fake.notes) == 1  # still unread on the venue
    before = state_of(rig, trade_id)
    rig.bot.notifications.poll()
    assert state_of(rig, trade_id) == before
    assert rig.fake.notes == []
    assert len(rig.of("scale_in.filled_delayed")) == 1


def test_a_failed_retrieval_is_an_audit_line(rig):
    rig.fake.fail_next("notifications", Transient("bad gateway", status=502))
    assert rig.bot.notifications.poll() == 0
    assert rig.lines("notif.error") == [
        "⚠️  NOTIFICATION AUDIT: Notification retrieval failed: transient (HTTP 502): bad gateway"
    ]


def test_a_processing_error_is_a_line_and_the_other_notifications_are_still_processed(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    rig.fake.fill(oid, "2.00", notify=False)
    rig.fake.notify(NotificationKind.CANCEL, order_id=oid, size_matched=D("2.00"))
    rig.fake.fill(oid, "3.00")
    rig.fake.fail_next("trades", Transient("bad gateway", status=502))
    assert rig.bot.notifications.poll() == 2
    first_id = "n-0001"
    assert rig.lines("notif.error") == [
        f"⚠️  NOTIFICATION AUDIT: Notification processing {first_id} failed: transient (HTTP 502): bad gateway"
    ]
    assert len(rig.of("notif.processed")) == 2
    assert rig.ledger.filled(oid) == D("3.00")  # the second note's fill
    assert rig.ledger.order(oid).venue_matched == D("2.00")  # remembered for reconciliation
    rig.bot.reconciler.reconcile("periodic")
    assert rig.ledger.filled(oid) == D("5.00")  # the 2.00 behind the cancellation is recovered


def test_seen_notifications_are_remembered_in_the_ledger(rig):
    rig.open_trade()
    rig.fake.notify(NotificationKind.OTHER)
    rig.bot.notifications.poll()
    assert rig.ledger.mark_notification_seen("n-0001", rig.clock.now()) is False


def test_an_order_fill_failed_notice_voids_the_fill_from_the_trades_listing_once(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    t1 = rig.fake.fill(oid, "10.50", notify=False)
    rig.bot.scale.track(rig.trade(trade_id))
    assert rig.ledger.position(trade_id) == D("21.00")
    rig.fake.fail_trade(t1)
    # V2's type 8: production's payload carries the order's sizes, not the failed fill's
    notice = {"order_id": oid, "trade_id": t1, "asset_id": TOKEN, "size": D("10.50"), "status": ""}
    rig.fake.notify(NotificationKind.FILL_FAILED, **notice)
    rig.clear()
    rig.bot.notifications.poll()
    assert rig.calls("trades") == 1
    assert rig.ledger.position(trade_id) == D("10.50")
    assert rig.lines("notif.processed") == [
        f"🔍 NOTIFICATION AUDIT: Processed notification 1/1 - Type: fill_failed, OrderID: {oid}"
    ]
    assert len(rig.of("scale_in.void")) == 1
    rig.fake.notify(NotificationKind.FILL_FAILED, **notice)  # delivered again: nothing changes
    before = state_of(rig, trade_id)
    rig.bot.notifications.poll()
    assert state_of(rig, trade_id) == before
    assert len(rig.of("scale_in.void")) == 1


def test_an_order_fill_failed_notice_for_an_order_not_ours_reads_nothing(rig):
    rig.fake.notify(NotificationKind.FILL_FAILED, order_id="0xnot-ours", trade_id="t-x")
    rig.bot.notifications.poll()
    assert rig.calls("trades") == 0
    assert rig.lines("notif.processed") == [
        "🔍 NOTIFICATION AUDIT: Processed notification 1/1 - Type: fill_failed, OrderID: 0xnot-ours"
    ]


def test_an_order_fill_failed_notice_voids_the_named_fill_before_the_lagging_listing_shows_it(rig):
    trade_id = rig.open_trade()
    oid = rig.place_scale_in(trade_id)
    t1 = rig.fake.fill(oid, "10.50", notify=False)
    rig.bot.scale.track(rig.trade(trade_id))
    assert rig.ledger.position(trade_id) == D("21.00")
    # the trade FAILED; the listing still shows it MATCHED (it lags), the notice names it
    rig.fake.notify(NotificationKind.FILL_FAILED, order_id=oid, trade_id=t1, asset_id=TOKEN, size=D("10.50"))
    rig.clear()
    rig.bot.notifications.poll()
    assert rig.ledger.position(trade_id) == D("10.50")
    assert rig.lines("scale_in.void") == [
        f"📈 [BTC] Trade #{trade_id} UP | ⚠️  SCALE-IN FILL VOID: -10.50 shares @ $0.7500 (trade {t1} failed)"
        f" | OrderID: {oid}"
    ]
    rig.fake.fail_trade(t1)  # the listing catches up: the fill path has it void already
    before = state_of(rig, trade_id)
    rig.bot.scale.track(rig.trade(trade_id))
    assert state_of(rig, trade_id) == before
    assert len(rig.of("scale_in.void")) == 1
