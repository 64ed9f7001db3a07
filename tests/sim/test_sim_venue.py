"""Exchange-side behaviour: settlement, heartbeats, the crowd, expiry, delays, resolution.

Orders go in through the fast client (no signing, same gateway); the assertions read the venue.
"""

import json
from decimal import Decimal as D

import pytest
from py_clob_client.clob_types import OrderArgs
from py_clob_client.exceptions import PolyApiException

from clobsim.sim.exchange.records import COLLATERAL


@pytest.fixture
def me(fast):
    return fast()


@pytest.fixture
def them(fast, kit):
    return fast(kit.OTHER_KEY, kit.OTHER)


def error_of(call) -> tuple:
    with pytest.raises(PolyApiException) as caught:
        call()
    return caught.value.status_code, caught.value.error_msg


def test_failed_trade_voids_both_sides_balances_but_keeps_size_matched(venue, me, them, up, kit):
    venue.deposit(kit.OTHER.api_key, up, 10)
    resting = kit.place(me, up, 0.50, 10)
    kit.place(them, up, 0.50, 10, side="SELL")
    trade_id = venue.orders[resting["orderID"]].associate_trades[0]
    assert venue.balance(kit.BOT.api_key, COLLATERAL) == D("95")
    assert venue.balance(kit.BOT.api_key, up) == D("10")

    venue.advance_trade(trade_id, "RETRYING")
    venue.advance_trade(trade_id, "FAILED")

    assert venue.balance(kit.BOT.api_key, COLLATERAL) == D("100")
    assert venue.balance(kit.BOT.api_key, up) == D("0")
    assert venue.balance(kit.OTHER.api_key, COLLATERAL) == D("100")
    assert venue.balance(kit.OTHER.api_key, up) == D("10")
    order = me.get_order(resting["orderID"])
    assert (order["status"], order["size_matched"]) == ("MATCHED", "10")  # a ghost fill
    assert [t["status"] for t in me.get_trades()] == ["FAILED"]


def test_a_failed_trade_cancels_the_resting_sell_its_shares_backed_and_keeps_the_covered_one(venue, me, them, up, kit):
    venue.deposit(kit.BOT.api_key, up, 5)
    venue.deposit(kit.OTHER.api_key, up, 10)
    bought = kit.place(me, up, 0.50, 10)
    kit.place(them, up, 0.50, 10, side="SELL")
    trade_id = venue.orders[bought["orderID"]].associate_trades[0]
    covered = kit.place(me, up, 0.99, 5, side="SELL")  # the 5 held before the trade
    ghost = kit.place(me, up, 0.99, 10, side="SELL")  # sized on the fill that is about to FAIL

    venue.advance_trade(trade_id, "RETRYING")
    venue.advance_trade(trade_id, "FAILED")

    assert venue.orders[ghost["orderID"]].status == "CANCELED"
    assert venue.orders[covered["orderID"]].status == "LIVE"
    assert venue.available(kit.BOT.api_key, up) == D("0")


def test_trade_status_moves_only_along_the_settlement_path(venue, me, up):
    venue.set_crowd_depth(up, "SELL", "0.55", "20")
    kit_answer = me.post_order(me.create_order(OrderArgs(token_id=up, price=0.55, size=10, side="BUY")))
    trade_id = venue.orders[kit_answer["orderID"]].associate_trades[0]
    with pytest.raises(ValueError):
        venue.advance_trade(trade_id, "CONFIRMED")
    venue.advance_trade(trade_id, "MINED")
    venue.advance_trade(trade_id, "CONFIRMED")
    with pytest.raises(ValueError):
        venue.advance_trade(trade_id, "FAILED")
    assert me.get_trades()[0]["status"] == "CONFIRMED"


def test_heartbeat_lapse_cancels_every_open_order_of_that_owner_only(venue, clock, me, them, up, kit):
    mine = [kit.place(me, up, 0.40, 5)["orderID"], kit.place(me, up, 0.41, 5)["orderID"]]
    theirs = kit.place(them, up, 0.42, 5)["orderID"]
    me.post_heartbeat(None)
    clock.advance(10)
    assert venue.heartbeat_sweep() == []  # exactly 10 s is still within
    clock.advance(0.5)
    assert venue.heartbeat_sweep() == mine
    assert [o["id"] for o in them.get_orders()] == [theirs]
    assert me.get_orders() == []
    assert [(n["type"], n["payload"]["order_id"]) for n in me.get_notifications()] == [(1, mine[0]), (1, mine[1])]
    clock.advance(30)
    kit.place(me, up, 0.40, 5)
    assert venue.heartbeat_sweep() == []  # the session ended with the sweep


def test_heartbeats_sent_in_time_keep_orders_alive(venue, clock, me, up, kit):
    kit.place(me, up, 0.40, 5)
    heartbeat_id = me.post_heartbeat(None)["heartbeat_id"]
    for _ in range(6):
        clock.advance(5)
        assert me.post_heartbeat(heartbeat_id)["heartbeat_id"] == heartbeat_id
        assert venue.heartbeat_sweep() == []
    assert len(me.get_orders()) == 1


def test_taker_flow_fills_the_bot_only_after_the_queue_ahead_partially_then_fully(venue, me, up, kit):
    venue.set_crowd_depth(up, "BUY", "0.50", "20")
    order_id = kit.place(me, up, 0.50, 10)["orderID"]
    first = venue.take(up, "SELL", "25")
    assert [(leg.owner, leg.matched_amount) for leg in first[0].makers] == [(None, D("20")), (kit.BOT.api_key, D("5"))]
    order = me.get_order(order_id)
    assert (order["status"], order["size_matched"]) == ("LIVE", "5")
    second = venue.take(up, "SELL", "10")
    assert me.get_order(order_id)["status"] == "MATCHED"
    fills = [n["payload"] for n in me.get_notifications() if n["type"] == 2]
    assert [(f["size"], f["trade_id"]) for f in fills] == [("5", first[0].id), ("5", second[0].id)]
    assert [t["trader_side"] for t in me.get_trades()] == ["MAKER", "MAKER"]
    assert venue.balance(kit.BOT.api_key, up) == D("10")


def test_crowd_level_crossing_a_bot_order_trades_with_it_before_resting(venue, me, up, kit):
    order_id = kit.place(me, up, 0.50, 10)["orderID"]
    trades = venue.set_crowd_depth(up, "SELL", "0.48", "25")
    assert [(t.price, t.size, t.side) for t in trades] == [(D("0.50"), D("10"), "SELL")]
    assert me.get_order(order_id)["status"] == "MATCHED"
    book = me.get_order_book(up)
    assert [(a.price, a.size) for a in book.asks] == [("0.48", "15")]
    assert book.bids == []


def test_fok_not_fully_filled_is_rejected_and_fak_keeps_what_matched(venue, me, up, kit):
    venue.set_crowd_depth(up, "SELL", "0.55", "6")
    assert error_of(lambda: kit.place(me, up, 0.55, 10, order_type="FOK")) == (
        400,
        {"error": "order couldn't be fully filled. FOK orders are fully filled or killed."},
    )
    answer = kit.place(me, up, 0.55, 10, order_type="FAK")
    assert (answer["status"], answer["takingAmount"], answer["makingAmount"]) == ("matched", "6", "3.3")
    assert me.get_order(answer["orderID"])["size_matched"] == "6"
    assert me.get_orders() == []
    assert error_of(lambda: kit.place(me, up, 0.55, 10, order_type="FAK"))[1] == {
        "error": "no orders found to match with FAK order. FAK orders are partially filled or "
        "killed if no match is found."
    }


def test_gtd_order_expires_a_minute_before_its_expiration(venue, clock, me, up, kit):
    def gtd(expiration):
        signed = me.create_order(OrderArgs(token_id=up, price=0.40, size=5, side="BUY", expiration=expiration))
        return me.post_order(signed, orderType="GTD")

    assert error_of(lambda: gtd(kit.T0 + 60)) == (400, {"error": "invalid expiration"})
    order_id = gtd(kit.T0 + 120)["orderID"]
    clock.advance(59)
    assert venue.expire_orders() == []
    clock.advance(1)
    assert venue.expire_orders() == [order_id]
    assert me.get_order(order_id)["status"] == "CANCELED"


def test_delayed_order_locks_funds_then_matches_on_release(venue, me, up, kit):
    venue.set_crowd_depth(up, "SELL", "0.55", "200")
    venue.set_match_delay(up, "delay")
    answer = kit.place(me, up, 0.55, 100)
    assert (answer["status"], answer["takingAmount"]) == ("delayed", "")
    assert me.get_order(answer["orderID"])["status"] == "DELAYED"
    # the funds are spoken for: a retry of the "missing" order fails (failure mode 4)
    assert error_of(lambda: kit.place(me, up, 0.55, 100))[1] == {"error": "not enough balance / allowance"}
    venue.release_delayed(answer["orderID"])
    order = me.get_order(answer["orderID"])
    assert (order["status"], order["size_matched"]) == ("MATCHED", "100")
    assert venue.balance(kit.BOT.api_key, COLLATERAL) == D("45")


def test_resolution_pays_winning_shares_and_cancels_resting_orders(venue, me, up, down, market, kit):
    venue.deposit(kit.BOT.api_key, up, 10)
    venue.deposit(kit.OTHER.api_key, up, 4)  # holds shares, never ordered
    resting = kit.place(me, down, 0.40, 5)["orderID"]
    venue.resolve_market(market.condition_id, "Up")
    assert venue.balance(kit.OTHER.api_key, COLLATERAL) == D("104")
    assert me.get_order(resting)["status"] == "CANCELED_MARKET_RESOLVED"
    assert venue.balance(kit.BOT.api_key, COLLATERAL) == D("110")
    assert venue.balance(kit.BOT.api_key, up) == D("0")
    assert [(n["type"], n["payload"].get("winning_asset_id")) for n in me.get_notifications()] == [(1, None), (4, up)]
    assert error_of(lambda: kit.place(me, up, 0.40, 5)) == (
        400,
        {"error": "the market is not yet ready to process new orders"},
    )


def test_every_event_is_a_plain_json_value_with_seq_time_kind_fields(venue, me, up, kit):
    venue.set_crowd_depth(up, "SELL", "0.55", "20")
    kit.place(me, up, 0.55, 10)
    kit.place(me, up, 0.30, 10)
    me.cancel_all()
    assert json.loads(json.dumps(venue.events)) == venue.events
    assert [e["seq"] for e in venue.events] == list(range(len(venue.events)))
    assert all(set(e) == {"seq", "time", "kind", "fields"} for e in venue.events)
    kinds = [e["kind"] for e in venue.events]
    assert kinds.index("trade_matched") < kinds.index("notification")


def test_a_crowd_level_requoted_at_its_own_size_records_nothing_and_a_changed_one_records_its_new_size(venue, up):
    start = len(venue.events)
    venue.set_crowd_levels(up, "SELL", [D("0.55"), D("0.56")], D("20"))
    venue.set_crowd_levels(up, "SELL", [D("0.55"), D("0.56")], D("20"))  # the market's next step, unchanged
    venue.set_crowd_depth(up, "SELL", "0.56", "25")
    venue.set_crowd_depth(up, "BUY", "0.40", "0")  # an empty level stays empty
    assert [(e["kind"], e["fields"]) for e in venue.events[start:]] == [
        ("crowd_depth", {"asset_id": up, "side": "SELL", "price": "0.55", "size": "20"}),
        ("crowd_depth", {"asset_id": up, "side": "SELL", "price": "0.56", "size": "20"}),
        ("crowd_depth", {"asset_id": up, "side": "SELL", "price": "0.56", "size": "25"}),
    ]
    assert venue.book(up).depth("SELL") == ((D("0.55"), D("20")), (D("0.56"), D("25")))
