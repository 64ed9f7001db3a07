"""The trades-listing sweep: the backstop that counts a fill when both quick paths, status reads
and pushes, say nothing for long."""

from __future__ import annotations

from clobsim.core.errors import Transient
from clobsim.core.model import OrderState

from .conftest import Rig


def exit_resting_behind_stale_reads(rig: Rig) -> tuple[int, str]:
    """An exit placed at T0 that fills at 40 s with its push lost, while every status read of it
    answers the LIVE snapshot it had before."""
    trade_id = rig.open_trade()
    rig.bot.start()
    rig.bot.monitor.cycle()
    exit_id = rig.exit(trade_id).order_id
    live = rig.fake.orders[exit_id].snapshot()
    rig.at(40)
    rig.fake.fill(exit_id, "10.50", notify=False)
    rig.fake.before("get_order", lambda: rig.fake.stale(exit_id, live))
    return trade_id, exit_id


def test_a_fill_hidden_by_stale_status_reads_and_lost_pushes_is_counted_from_the_trades_listing(rig):
    trade_id, exit_id = exit_resting_behind_stale_reads(rig)
    rig.clear()
    rig.bot.monitor.cycle()  # the status read answers LIVE: nothing to learn
    assert rig.lines() == [] and rig.ledger.filled(exit_id) == 0
    rig.bot.reconciler.sweep_listings()  # 40 s since the exit was placed: the listing is due
    assert rig.call_names() == ["get_order", "trades"]
    assert rig.lines() == [
        f"✅ [BTC] #{trade_id} EXIT AUDIT: Exit order filled: +10.50 shares @ $0.9900 | sold=10.50/10.50"
        f" | OrderID: {exit_id}"
    ]
    assert rig.ledger.order(exit_id).state is OrderState.FILLED
    rig.bot.reconciler.sweep_listings()  # nothing rests any more: nothing to read
    assert rig.calls("trades") == 1


def test_the_sweep_reads_a_listing_at_most_once_per_interval_whoever_read_it_last(rig):
    trade_id = rig.open_trade()
    rig.bot.start()
    rig.bot.monitor.cycle()  # the exit, placed at T0
    rig.clear()
    sweeps = {}
    for at in (10, 29, 30, 45, 59, 60):
        rig.at(at)
        rig.bot.reconciler.sweep_listings()
        sweeps[at] = rig.calls("trades")
    assert sweeps == {10: 0, 29: 0, 30: 1, 45: 1, 59: 1, 60: 2}
    # a listing read on another path (here the monitor's, after a failed status read) counts too
    rig.at(80)
    rig.fake.fail_next("get_order", Transient("upstream timeout", status=503))
    rig.bot.monitor.track_exits(rig.trade(trade_id))
    assert rig.calls("trades") == 3
    rig.at(100)
    rig.bot.reconciler.sweep_listings()
    assert rig.calls("trades") == 3  # 20 s after the monitor's read
    rig.at(110)
    rig.bot.reconciler.sweep_listings()
    assert rig.calls("trades") == 4


def test_a_failed_sweep_is_an_audit_line_and_waits_its_interval(rig):
    trade_id = rig.open_trade()
    rig.bot.start()
    rig.bot.monitor.cycle()
    rig.at(30)
    rig.clear()
    rig.fake.fail_next("trades", Transient("matching engine is restarting", status=425))
    rig.bot.reconciler.sweep_listings()
    assert rig.lines() == [
        f"⚠️  RECONCILIATION AUDIT: Reconciliation step failed: trades of trade #{trade_id}:"
        " transient (HTTP 425): matching engine is restarting"
    ]
    rig.at(35)
    rig.bot.reconciler.sweep_listings()
    assert rig.calls("trades") == 1
