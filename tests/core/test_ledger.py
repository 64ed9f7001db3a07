"""The ledger: crash-surviving state in SQLite, the idempotent fill key, the lifecycle table."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from clobsim.core.ledger import FillOutcome, Ledger
from clobsim.core.model import FillSeen, OrderState, PlaceOrder, Role, Side, TradeState

D = Decimal
NOW = 1_764_029_000.0


def open_trade(ledger: Ledger, *, entry_size="10", entry_price="0.70") -> int:
    return ledger.open_trade(
        symbol="BTC",
        side="UP",
        market="cond-btc",
        token_id="btc-up",
        window_slug="btc-updown-15m-1764028800",
        window_end=NOW + 600,
        entry_price=D(entry_price),
        entry_size=D(entry_size),
        confidence=D("0.85"),
        now=NOW,
    )


def record(
    ledger: Ledger,
    order_id: str,
    trade_id: int,
    role: Role = Role.SCALE_IN,
    side: Side = Side.BUY,
    size="10",
    price="0.75",
) -> None:
    command = PlaceOrder(token_id="btc-up", side=side, price=D(price), size=D(size))
    ledger.record_order(order_id, trade_id, role, command, NOW)


def fill(order_id: str, trade_key: str, size="10", price="0.75", status="MATCHED") -> FillSeen:
    return FillSeen(trade_key, order_id, D(size), D(price), status)


@pytest.fixture
def ledger():
    led = Ledger(":memory:")
    yield led
    led.close()


def test_reopening_a_file_database_restores_trades_orders_fills_tracker_and_seen_notifications(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    first = Ledger(path)
    trade_id = open_trade(first)
    record(first, "0xscale", trade_id)
    first.set_order_state("0xscale", OrderState.LIVE, NOW, "LIVE")
    record(first, "0xexit", trade_id, Role.EXIT, Side.SELL, "10", "0.99")
    assert first.apply_fill(fill("0xscale", "t-1", "4"), "trades", NOW) is FillOutcome.APPLIED
    first.track_recent_fill("0xscale", D("4"), D("0.75"), NOW)
    first.note_venue_matched("0xscale", D("4"))
    assert first.mark_notification_seen("n-0001", NOW)
    first.close()

    second = Ledger(path)
    try:
        trade = second.trade(trade_id)
        assert (trade.symbol, trade.entry_size, trade.state, trade.scale_in_attempted) == (
            "BTC",
            D("10"),
            TradeState.OPEN,
            True,
        )
        assert [o.order_id for o in second.orders()] == ["0xscale", "0xexit"]
        scale = second.order("0xscale")
        assert (scale.state, scale.venue_status, scale.venue_matched) == (OrderState.LIVE, "LIVE", D("4"))
        assert second.order("0xexit").state is OrderState.PREPARED
        assert [(f["trade_key"], f["order_id"], f["size"]) for f in second.fills()] == [("t-1", "0xscale", "4")]
        assert second.position(trade_id) == D("14")
        recent = second.recent_fill("0xscale")
        assert (recent.size, recent.price, recent.at) == (D("4"), D("0.75"), NOW)
        assert second.mark_notification_seen("n-0001", NOW + 1) is False
        # the restored fill key still makes the fill path idempotent
        assert second.apply_fill(fill("0xscale", "t-1", "4"), "notification", NOW) is FillOutcome.DUPLICATE
    finally:
        second.close()


def test_a_file_database_runs_in_wal_mode(tmp_path):
    path = tmp_path / "ledger.sqlite"
    led = Ledger(str(path))
    open_trade(led)
    try:
        probe = sqlite3.connect(path)
        assert probe.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        probe.close()
    finally:
        led.close()


def test_apply_fill_is_idempotent_by_trade_id_and_order_id(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xa", trade_id, size="10")
    record(ledger, "0xb", trade_id, size="10")
    assert ledger.apply_fill(fill("0xa", "t-1", "3"), "placement", NOW) is FillOutcome.APPLIED
    assert ledger.apply_fill(fill("0xa", "t-1", "3"), "notification", NOW) is FillOutcome.DUPLICATE
    assert ledger.apply_fill(fill("0xa", "t-1", "3"), "reconciliation", NOW) is FillOutcome.DUPLICATE
    # the same trade filling a second order of ours is a different fill
    assert ledger.apply_fill(fill("0xb", "t-1", "2"), "trades", NOW) is FillOutcome.APPLIED
    assert ledger.filled("0xa") == D("3")
    assert ledger.filled("0xb") == D("2")
    assert ledger.position(trade_id) == D("15")
    assert [f["source"] for f in ledger.fills("0xa")] == ["placement"]


def test_a_fill_of_an_order_that_is_not_ours_is_refused(ledger):
    open_trade(ledger)
    assert ledger.apply_fill(fill("0xstranger", "t-1"), "trades", NOW) is FillOutcome.UNKNOWN_ORDER
    assert ledger.fills() == []


def test_a_failed_trade_voids_its_fill_once_and_the_position_reverts(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xa", trade_id)
    assert ledger.apply_fill(fill("0xa", "t-1", "10"), "trades", NOW) is FillOutcome.APPLIED
    assert ledger.position(trade_id) == D("20")
    assert ledger.apply_fill(fill("0xa", "t-1", "10", status="FAILED"), "trades", NOW) is FillOutcome.VOIDED
    assert ledger.position(trade_id) == D("10")
    assert ledger.apply_fill(fill("0xa", "t-1", "10", status="FAILED"), "notification", NOW) is FillOutcome.DUPLICATE
    # a stale MATCHED report of the same trade does not bring the void fill back
    assert ledger.apply_fill(fill("0xa", "t-1", "10"), "notification", NOW) is FillOutcome.DUPLICATE
    assert ledger.position(trade_id) == D("10")
    assert ledger.filled("0xa") == D("0")
    (row,) = ledger.fills("0xa")
    assert (row["void"], row["status"]) == (1, "FAILED")


def test_a_fill_first_seen_void_is_recorded_and_never_applied_later(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xa", trade_id)
    assert ledger.apply_fill(fill("0xa", "t-1", "10", status="FAILED"), "trades", NOW) is FillOutcome.VOID_RECORDED
    assert ledger.position(trade_id) == D("10")
    assert ledger.apply_fill(fill("0xa", "t-1", "10"), "notification", NOW) is FillOutcome.DUPLICATE
    assert ledger.position(trade_id) == D("10")
    assert ledger.cost_and_proceeds(trade_id) == (D("7.00"), D("0"))


@pytest.mark.parametrize(
    "path",
    [
        (OrderState.LIVE, OrderState.FILLED, OrderState.LIVE),
        (OrderState.LIVE, OrderState.CANCELLED, OrderState.LIVE),
        (OrderState.REJECTED, OrderState.LIVE),
        (OrderState.LIVE, OrderState.NOT_PLACED),
        (OrderState.LIVE, OrderState.PREPARED),
        (OrderState.UNKNOWN, OrderState.REJECTED),
        (OrderState.LIVE, OrderState.FILLED, OrderState.CANCELLED),
    ],
    ids=lambda p: "->".join(s.value for s in p),
)
def test_the_transition_table_refuses_an_illegal_edge_and_leaves_the_state_alone(ledger, path):
    trade_id = open_trade(ledger)
    record(ledger, "0xa", trade_id)
    *legal, illegal = path
    for state in legal:
        assert ledger.set_order_state("0xa", state, NOW) is True
    assert ledger.set_order_state("0xa", illegal, NOW + 1, "SHOULD-NOT-STICK") is False
    order = ledger.order("0xa")
    assert order.state is legal[-1]
    assert order.venue_status != "SHOULD-NOT-STICK"


@pytest.mark.parametrize(
    "path",
    [
        (OrderState.LIVE, OrderState.CANCEL_PENDING, OrderState.FILLED),
        (OrderState.LIVE, OrderState.CANCELLED, OrderState.FILLED),
        (OrderState.UNKNOWN, OrderState.NOT_PLACED, OrderState.LIVE),
        (OrderState.LIVE, OrderState.CANCEL_PENDING, OrderState.LIVE),
        (OrderState.UNKNOWN, OrderState.CANCEL_PENDING, OrderState.CANCELLED),
    ],
    ids=lambda p: "->".join(s.value for s in p),
)
def test_the_transition_table_allows_the_commented_race_edges(ledger, path):
    trade_id = open_trade(ledger)
    record(ledger, "0xa", trade_id)
    for state in path:
        assert ledger.set_order_state("0xa", state, NOW, state.value) is True
    assert ledger.order("0xa").state is path[-1]


def test_setting_the_same_state_again_is_accepted_but_reports_no_change(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xa", trade_id)
    assert ledger.set_order_state("0xa", OrderState.LIVE, NOW, "LIVE") is True
    assert ledger.set_order_state("0xa", OrderState.LIVE, NOW, "DELAYED") is False
    assert ledger.order("0xa").venue_status == "DELAYED"
    assert ledger.set_order_state("0xmissing", OrderState.LIVE, NOW) is False


def test_recording_a_scale_in_consumes_the_trades_one_scale_in_and_an_exit_does_not(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xexit", trade_id, Role.EXIT, Side.SELL, price="0.99")
    assert ledger.trade(trade_id).scale_in_attempted is False
    record(ledger, "0xscale", trade_id)
    assert ledger.trade(trade_id).scale_in_attempted is True
    assert ledger.order("0xscale").state is OrderState.PREPARED


def test_recording_a_scale_in_is_one_transaction_so_a_failed_insert_consumes_nothing(ledger):
    first = open_trade(ledger)
    second = open_trade(ledger)
    record(ledger, "0xsame", first)
    with pytest.raises(sqlite3.IntegrityError):
        record(ledger, "0xsame", second)  # the order row cannot be written...
    assert ledger.trade(second).scale_in_attempted is False  # ...so the flag did not move either
    assert [o.trade_id for o in ledger.orders()] == [first]


def test_recording_a_scale_in_is_one_transaction_so_a_failed_flag_update_leaves_no_order(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    led = Ledger(path)
    try:
        trade_id = open_trade(led)
        other = sqlite3.connect(path)
        other.execute(
            "CREATE TRIGGER refuse_flag BEFORE UPDATE OF scale_in_attempted ON trades"
            " BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
        )
        other.commit()
        other.close()
        with pytest.raises(sqlite3.DatabaseError, match="simulated failure"):
            record(led, "0xscale", trade_id)
        assert led.order("0xscale") is None  # the order row was rolled back with the flag
        assert led.trade(trade_id).scale_in_attempted is False
    finally:
        led.close()


def test_position_cost_and_proceeds_follow_buy_and_sell_fills_net_of_void_ones(ledger):
    trade_id = open_trade(ledger, entry_size="10", entry_price="0.70")
    record(ledger, "0xscale", trade_id, size="8", price="0.75")
    record(ledger, "0xexit", trade_id, Role.EXIT, Side.SELL, size="18", price="0.99")
    ledger.apply_fill(fill("0xscale", "t-1", "5", "0.75"), "trades", NOW)
    ledger.apply_fill(fill("0xscale", "t-2", "3", "0.74"), "trades", NOW)
    ledger.apply_fill(fill("0xexit", "t-3", "12", "0.99"), "trades", NOW)
    ledger.apply_fill(fill("0xexit", "t-4", "6", "0.99", status="FAILED"), "trades", NOW)
    assert ledger.position(trade_id) == D("6")  # 10 + 5 + 3 - 12
    cost, proceeds = ledger.cost_and_proceeds(trade_id)
    assert cost == D("7.00") + D("3.75") + D("2.22")
    assert proceeds == D("11.88")
    assert ledger.filled("0xexit") == D("12")


def test_venue_matched_only_ever_grows(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xa", trade_id)
    ledger.note_venue_matched("0xa", D("4"))
    ledger.note_venue_matched("0xa", D("2"))  # a stale read
    assert ledger.order("0xa").venue_matched == D("4")


def test_the_terminal_line_flag_is_granted_exactly_once(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xa", trade_id)
    assert ledger.mark_terminal_logged("0xa") is True
    assert ledger.mark_terminal_logged("0xa") is False
    assert ledger.order("0xa").terminal_logged is True


def test_the_recent_fill_tracker_keeps_the_latest_record_and_cleans_up_strictly_older_ones(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xa", trade_id)
    record(ledger, "0xb", trade_id)
    ledger.track_recent_fill("0xa", D("4"), D("0.75"), NOW)
    ledger.track_recent_fill("0xa", D("10"), D("0.75"), NOW + 50)
    ledger.track_recent_fill("0xb", D("1"), D("0.75"), NOW)
    assert ledger.recent_fill("0xa").size == D("10")
    assert ledger.cleanup_recent_fills(NOW) == 0
    assert ledger.cleanup_recent_fills(NOW + 1) == 1
    assert ledger.recent_fill("0xb") is None
    assert ledger.recent_fill("0xa").at == NOW + 50


def test_settling_a_trade_records_the_winner_and_pnl(ledger):
    trade_id = open_trade(ledger)
    ledger.settle(trade_id, "btc-up", D("3.00"))
    trade = ledger.trade(trade_id)
    assert (trade.state, trade.winner, trade.pnl) == (TradeState.SETTLED, "btc-up", D("3.00"))
    assert ledger.trades(active_only=True) == []
    assert ledger.count_exit_failure(trade_id) == 1
    assert ledger.count_exit_failure(trade_id) == 2


def _statements(led: Ledger) -> list[str]:
    """Every SQL statement the ledger's connection runs from now on (SQLite's own trace hook)."""
    seen: list[str] = []
    led._db.set_trace_callback(seen.append)
    return seen


def test_a_write_that_changes_nothing_opens_no_transaction(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xscale", trade_id)
    ledger.set_order_state("0xscale", OrderState.LIVE, NOW, venue_status="LIVE")
    ledger.apply_fill(fill("0xscale", "t1", size="4"), "immediate", NOW)
    ledger.mark_terminal_logged("0xscale")
    ledger.mark_notification_seen("n1", NOW)
    ledger.track_recent_fill("0xscale", D("4"), D("0.75"), NOW)
    ledger.note_venue_matched("0xscale", D("4"))
    statements = _statements(ledger)
    ledger.set_order_state("0xscale", OrderState.LIVE, NOW + 1, venue_status="LIVE")
    ledger.set_order_state("0xscale", OrderState.LIVE, NOW + 2)
    ledger.note_venue_matched("0xscale", D("3"))
    ledger.mark_terminal_logged("0xscale")
    ledger.apply_fill(fill("0xscale", "t1", size="4"), "notification", NOW + 3)
    ledger.mark_notification_seen("n1", NOW + 3)
    ledger.track_recent_fill("0xscale", D("4"), D("0.75"), NOW)
    ledger.cleanup_recent_fills(NOW - 600)
    ledger.reset_exit_failures(trade_id)
    ledger.mark_scale_in_attempted(trade_id)
    ledger.set_trade_state(trade_id, TradeState.OPEN)
    assert statements == []


def test_a_one_statement_change_is_that_statement_alone_and_a_scale_in_one_transaction(ledger):
    trade_id = open_trade(ledger)
    statements = _statements(ledger)
    record(ledger, "0xexit", trade_id, role=Role.EXIT, side=Side.SELL)
    ledger.set_order_state("0xexit", OrderState.LIVE, NOW, venue_status="LIVE")
    assert [s.split()[0] for s in statements] == ["INSERT", "UPDATE"]
    statements.clear()
    record(ledger, "0xscale", trade_id)
    assert [s.split()[0] for s in statements] == ["BEGIN", "INSERT", "UPDATE", "COMMIT"]


def test_a_new_file_gets_its_schema_in_one_transaction_and_a_reopened_one_creates_nothing(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    seen: list[str] = []

    def connect(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        db.set_trace_callback(seen.append)
        return db

    real_connect = sqlite3.connect
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite3, "connect", connect)
        first = Ledger(path)
        said = [s.strip().rstrip(";").split(" IF NOT EXISTS")[0] for s in seen]
        script = said[said.index("BEGIN IMMEDIATE") : said.index("COMMIT") + 1]
        assert script == ["BEGIN IMMEDIATE"] + ["CREATE TABLE"] * 5 + ["CREATE INDEX"] * 2 + ["COMMIT"]
        assert not [s for s in said if s.startswith("SELECT *")]  # tables made a moment ago are empty
        trade_id = open_trade(first)
        first.close()
        seen.clear()
        again = Ledger(path)
    assert not [s for s in seen if s.lstrip().startswith(("CREATE", "BEGIN"))]
    assert "SELECT * FROM trades ORDER BY trade_id" in seen
    assert again.trade(trade_id).symbol == "BTC"
    again.close()


def test_a_trades_orders_and_an_orders_filled_size_read_again_follow_every_change(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xscale", trade_id)
    assert [(o.order_id, o.state) for o in ledger.orders(trade_id)] == [("0xscale", OrderState.PREPARED)]
    assert ledger.filled("0xscale") == D("0")
    record(ledger, "0xexit", trade_id, role=Role.EXIT, side=Side.SELL)
    ledger.set_order_state("0xscale", OrderState.LIVE, NOW, venue_status="LIVE")
    assert [(o.order_id, o.state) for o in ledger.orders(trade_id)] == [
        ("0xscale", OrderState.LIVE),
        ("0xexit", OrderState.PREPARED),
    ]
    ledger.apply_fill(fill("0xscale", "t1", size="4"), "immediate", NOW)
    assert ledger.filled("0xscale") == D("4")
    ledger.apply_fill(fill("0xscale", "t2", size="6"), "immediate", NOW)
    ledger.note_venue_matched("0xscale", D("10"))
    assert ledger.filled("0xscale") == D("10") and ledger.orders(trade_id)[0].venue_matched == D("10")
    ledger.apply_fill(fill("0xscale", "t1", size="4", status="FAILED"), "notification", NOW)
    ledger.set_order_state("0xscale", OrderState.FILLED, NOW)
    assert ledger.filled("0xscale") == D("6")
    assert [o.order_id for o in ledger.orders(trade_id, open_only=True)] == ["0xexit"]
    ledger.orders(trade_id).clear()  # a caller's list is its own
    assert len(ledger.orders(trade_id)) == 2


def test_positions_unsettled_fills_and_the_active_trades_read_again_follow_every_change(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xscale", trade_id)
    record(ledger, "0xexit", trade_id, role=Role.EXIT, side=Side.SELL, price="0.99")
    assert (ledger.position(trade_id), ledger.delivered(trade_id)) == (D("10"), D("10"))
    assert not ledger.has_unsettled_fills("0xscale")
    ledger.apply_fill(fill("0xscale", "t1", size="4"), "notification", NOW)
    assert (ledger.position(trade_id), ledger.delivered(trade_id)) == (D("14"), D("14"))
    assert ledger.has_unsettled_fills("0xscale")
    fee = FillSeen("t1", "0xscale", D("4"), D("0.75"), "MATCHED", withheld=D("0.1"))
    ledger.apply_fill(fee, "trades", NOW)  # the same fill learns its fee
    assert (ledger.position(trade_id), ledger.delivered(trade_id)) == (D("14"), D("13.9"))
    ledger.apply_fill(fill("0xscale", "t1", size="4", status="CONFIRMED"), "trades", NOW)
    assert not ledger.has_unsettled_fills("0xscale")
    ledger.apply_fill(fill("0xexit", "t2", size="3", price="0.99"), "immediate", NOW)
    assert ledger.delivered_history(trade_id) == [D("10"), D("13.9"), D("10.9")]
    assert (ledger.position(trade_id), ledger.delivered(trade_id)) == (D("11"), D("10.9"))
    assert (ledger.filled("0xexit"), ledger.voided("0xexit")) == (D("3"), D("0"))
    ledger.apply_fill(fill("0xexit", "t2", size="3", price="0.99", status="FAILED"), "notification", NOW)
    assert (ledger.position(trade_id), ledger.delivered(trade_id)) == (D("14"), D("13.9"))
    assert (ledger.filled("0xexit"), ledger.voided("0xexit")) == (D("0"), D("3"))
    assert [t.trade_id for t in ledger.trades(active_only=True)] == [trade_id]
    ledger.settle(trade_id, "UP", D("1"))
    assert ledger.trades(active_only=True) == [] and ledger.trade(trade_id).state is TradeState.SETTLED
    assert [t.state for t in ledger.trades()] == [TradeState.SETTLED]
    later = open_trade(ledger)
    assert [t.trade_id for t in ledger.trades(active_only=True)] == [later]
    ledger.trades().clear()  # a caller's list is its own
    assert len(ledger.trades()) == 2


def test_reads_are_answered_from_memory_without_a_statement(ledger):
    trade_id = open_trade(ledger)
    record(ledger, "0xscale", trade_id)
    ledger.apply_fill(fill("0xscale", "t1", size="4"), "immediate", NOW)
    ledger.track_recent_fill("0xscale", D("4"), D("0.75"), NOW)
    statements = _statements(ledger)
    assert ledger.position(trade_id) == D("14")
    assert ledger.cost_and_proceeds(trade_id) == (D("7.00") + D("3.00"), D("0"))  # entry 10 x 0.70, the fill 4 x 0.75
    assert [o.order_id for o in ledger.orders(trade_id, Role.SCALE_IN, open_only=True)] == ["0xscale"]
    assert ledger.filled("0xscale") == D("4") and ledger.has_unsettled_fills("0xscale")
    assert ledger.recent_fill("0xscale") is not None and ledger.trades(active_only=True)
    assert statements == []


def test_a_change_reaches_the_file_before_the_memory_and_a_reopened_ledger_reads_the_same(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    first = Ledger(path)
    trade_id = open_trade(first)
    record(first, "0xscale", trade_id)
    record(first, "0xexit", trade_id, role=Role.EXIT, side=Side.SELL, price="0.99")
    first.set_order_state("0xscale", OrderState.LIVE, NOW, venue_status="LIVE")
    first.apply_fill(fill("0xscale", "t1", size="4"), "immediate", NOW)
    first.apply_fill(fill("0xexit", "t2", size="3", price="0.99"), "notification", NOW)
    first.apply_fill(fill("0xscale", "t1", size="4", status="FAILED"), "notification", NOW)
    first.count_exit_failure(trade_id)
    first.mark_notification_seen("n1", NOW)
    second = Ledger(path)  # the first is still open: a crash leaves it so
    assert second.trades() == first.trades()
    assert second.orders() == first.orders()
    assert second.fills() == first.fills()
    assert second.position(trade_id) == first.position(trade_id) == D("7")
    assert second.mark_notification_seen("n1", NOW) is False
    first.close()
    second.close()


def test_a_refused_write_leaves_memory_as_the_file(ledger):
    with pytest.raises(sqlite3.IntegrityError):
        record(ledger, "0xorphan", 99)  # no trade #99: the foreign key refuses it
    assert ledger.order("0xorphan") is None and ledger.orders() == []


def test_the_delivered_position_is_the_matched_position_less_the_fees_the_trades_state(ledger):
    trade_id = open_trade(ledger, entry_size="10.5")
    record(ledger, "0xscale", trade_id, size="10.5", price="0.79")
    taker = FillSeen("tk-1", "0xscale", D("10.5"), D("0.79"), "MATCHED", withheld=D("0.154349"))
    assert ledger.apply_fill(taker, "placement", NOW) is FillOutcome.APPLIED
    assert ledger.position(trade_id) == D("21.0")  # what the venue matched: ledger-matches-exchange
    assert ledger.delivered(trade_id) == D("20.845651")  # what the bot holds and resolution pays


def test_a_fill_first_seen_without_its_fee_learns_it_once_from_the_trades_listing(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    ledger = Ledger(path)
    trade_id = open_trade(ledger, entry_size="10.5")
    record(ledger, "0xscale", trade_id, size="10.5", price="0.79")
    ledger.apply_fill(fill("0xscale", "tk-1", size="10.5", price="0.79"), "notification", NOW)
    assert ledger.fills("0xscale")[0]["withheld"] is None  # a notification states no fee
    assert ledger.delivered(trade_id) == D("21.0")
    listed = FillSeen("tk-1", "0xscale", D("10.5"), D("0.79"), "MATCHED", withheld=D("0.154349"))
    assert ledger.apply_fill(listed, "trades", NOW) is FillOutcome.DUPLICATE
    assert ledger.delivered(trade_id) == D("20.845651")
    assert ledger.position(trade_id) == D("21.0")  # the same fill, counted once
    ledger.close()
    reopened = Ledger(path)
    assert reopened.delivered(trade_id) == D("20.845651")
    reopened.close()


def test_a_database_written_before_fees_were_derived_gains_the_column_and_keeps_its_fills(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    ledger = Ledger(path)
    trade_id = open_trade(ledger)
    record(ledger, "0xscale", trade_id)
    ledger.apply_fill(fill("0xscale", "tk-1"), "trades", NOW)
    ledger.close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE fills DROP COLUMN withheld")
    db.close()
    reopened = Ledger(path)
    assert reopened.fills("0xscale")[0]["withheld"] is None
    assert reopened.delivered(trade_id) == reopened.position(trade_id) == D("20")
    reopened.close()


def test_a_held_back_terminal_line_and_undelivered_shares_survive_a_reopen_and_a_repeat_writes_nothing(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    ledger = Ledger(path)
    trade_id = open_trade(ledger)
    record(ledger, "0xscale", trade_id)
    assert ledger.order("0xscale").held_line is None and ledger.trade(trade_id).undelivered == D("0")
    ledger.hold_terminal_line("0xscale", "scale_in.cancelled", "window ending")
    ledger.set_undelivered(trade_id, D("0.05"))
    statements = _statements(ledger)
    ledger.hold_terminal_line("0xscale", "scale_in.cancelled", "window ending")
    ledger.set_undelivered(trade_id, D("0.050"))
    assert statements == []
    ledger.close()
    reopened = Ledger(path)
    assert reopened.order("0xscale").held_line == ("scale_in.cancelled", "window ending")
    assert reopened.trade(trade_id).undelivered == D("0.05")
    reopened.set_undelivered(trade_id, D("0"))
    reopened.close()
    again = Ledger(path)
    assert again.trade(trade_id).undelivered == D("0")
    again.close()


def test_a_database_written_before_held_lines_and_shortfalls_were_kept_gains_the_columns_and_keeps_its_rows(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    ledger = Ledger(path)
    trade_id = open_trade(ledger)
    record(ledger, "0xscale", trade_id)
    ledger.close()
    db = sqlite3.connect(path)
    for table, column in (("orders", "held_kind"), ("orders", "held_reason"), ("trades", "undelivered")):
        db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.close()
    reopened = Ledger(path)
    assert reopened.order("0xscale").held_line is None
    assert reopened.trade(trade_id).undelivered == D("0")
    reopened.hold_terminal_line("0xscale", "scale_in.venue_cancelled", "status CANCELED")
    reopened.set_undelivered(trade_id, D("0.05"))
    again = Ledger(path)  # the file as the mirror: the same rows read back
    assert (again.orders(), again.trades()) == (reopened.orders(), reopened.trades())
    assert again.order("0xscale").held_line == ("scale_in.venue_cancelled", "status CANCELED")
    again.close()
    reopened.close()
