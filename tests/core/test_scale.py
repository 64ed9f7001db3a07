"""Scale-in: eligibility, the one-scale-in rule, placement outcomes and following the order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clobsim.core.config import ScaleInTier, StrategyConfig
from clobsim.core.errors import OutcomeUnknown, Rejected, Transient
from clobsim.core.model import OrderState, Role, Side

from .conftest import TOKEN, WINDOW, Rig, lose_answer_once

D = Decimal


def scale_ins(rig: Rig, trade_id: int = 1):
    return rig.ledger.orders(trade_id, Role.SCALE_IN)


def attempt(rig: Rig, trade_id: int = 1) -> None:
    rig.bot.scale.maybe_scale_in(rig.trade(trade_id))


def setup(rig: Rig, *, time_left: int, bid: str = "0.75", confidence: str = "0.85", entry: str = "10.50") -> int:
    trade_id = rig.open_trade(confidence=confidence, entry=entry)
    rig.fake.set_book(TOKEN, bid, str(D(bid) + D("0.02")))
    rig.at(WINDOW - time_left)
    return trade_id


@pytest.mark.parametrize(
    "confidence,bid,time_left,placed",
    [
        ("0.85", "0.75", 480, True),  # top tier: the widest window
        ("0.85", "0.75", 481, False),
        ("0.85", "0.74", 480, False),  # price below the top tier's floor: the next tier's 420 s
        ("0.85", "0.74", 420, True),
        ("0.80", "0.80", 480, False),  # confidence below the top tier's floor
        ("0.80", "0.80", 420, True),
        ("0.70", "0.75", 301, False),  # third tier
        ("0.70", "0.75", 300, True),
        ("0.85", "0.65", 301, False),
        ("0.85", "0.65", 300, True),
        ("0.60", "0.90", 100, False),  # no tier admits this confidence at all
    ],
)
def test_the_time_threshold_widens_with_confidence_and_price(rig, confidence, bid, time_left, placed):
    trade_id = setup(rig, time_left=time_left, bid=bid, confidence=confidence)
    attempt(rig, trade_id)
    assert (len(scale_ins(rig, trade_id)) == 1) is placed
    assert (rig.calls("post_order") == 1) is placed


def test_threshold_returns_the_first_matching_tier(rig):
    scale = rig.bot.scale
    assert scale.threshold(D("0.85"), D("0.75")) == 480
    assert scale.threshold(D("0.85"), D("0.70")) == 420
    assert scale.threshold(D("0.75"), D("0.92")) == 420
    assert scale.threshold(D("0.65"), D("0.60")) == 300
    assert scale.threshold(D("0.64"), D("0.92")) is None
    assert scale.threshold(D("0.99"), D("0.59")) is None


@pytest.mark.parametrize("time_left,placed", [(59, False), (60, True)])
def test_no_scale_in_too_close_to_the_end_of_the_window(rig, time_left, placed):
    trade_id = setup(rig, time_left=time_left)
    attempt(rig, trade_id)
    assert bool(scale_ins(rig, trade_id)) is placed


def test_the_book_is_not_asked_before_the_time_threshold_could_admit_the_trade(rig):
    trade_id = setup(rig, time_left=600)
    attempt(rig, trade_id)
    assert rig.fake.calls == []


@pytest.mark.parametrize("bid,placed", [("0.93", False), ("0.92", True)])
def test_the_bid_must_not_exceed_the_price_range(rig, bid, placed):
    trade_id = setup(rig, time_left=300, bid=bid)
    attempt(rig, trade_id)
    assert bool(scale_ins(rig, trade_id)) is placed


@pytest.mark.parametrize("bid,placed", [("0.69", False), ("0.70", True)])
def test_the_bid_must_reach_the_price_range_floor(make_rig, bid, placed):
    rig = make_rig(config=StrategyConfig(scale_in_price_min=D("0.70")))
    trade_id = setup(rig, time_left=300, bid=bid)  # the third tier alone would admit 0.60+
    attempt(rig, trade_id)
    assert bool(scale_ins(rig, trade_id)) is placed


@pytest.mark.parametrize("bid,placed", [("0.50", False), ("0.51", True)])
def test_only_the_winning_side_scales_in(make_rig, bid, placed):
    config = StrategyConfig(scale_in_price_min=D("0.40"), scale_in_tiers=(ScaleInTier(D("0.65"), D("0.40"), 300),))
    rig = make_rig(config=config)
    trade_id = setup(rig, time_left=300, bid=bid)
    attempt(rig, trade_id)
    assert bool(scale_ins(rig, trade_id)) is placed


def test_no_book_bid_means_no_scale_in_this_cycle_and_a_later_cycle_may_place(rig):
    trade_id = setup(rig, time_left=420)
    rig.fake.set_book(TOKEN, None, "0.77")
    attempt(rig, trade_id)
    rig.fake.fail_next("book", Transient("bad gateway", status=502))
    attempt(rig, trade_id)
    assert scale_ins(rig, trade_id) == []
    assert rig.trade(trade_id).scale_in_attempted is False
    rig.fake.set_book(TOKEN, "0.75", "0.77")
    attempt(rig, trade_id)
    assert len(scale_ins(rig, trade_id)) == 1


def test_the_size_is_the_position_times_the_multiplier_rounded_down(make_rig):
    rig = make_rig(config=StrategyConfig(scale_in_multiplier=D("1.5")))
    trade_id = setup(rig, time_left=420, entry="10.33")
    attempt(rig, trade_id)
    (order,) = scale_ins(rig, trade_id)
    assert order.size == D("15.49")  # 10.33 x 1.5 = 15.495, rounded down to 2 decimals
    assert order.price == D("0.75")  # the best bid: a maker order
    assert order.side is Side.BUY
    fake_order = rig.fake.orders[order.order_id]
    assert (fake_order.size, fake_order.price) == (D("15.49"), D("0.75"))
    assert rig.lines("scale_in.placement") == [
        f"📈 [BTC] Trade #{trade_id} UP | 🎯 SCALE-IN PLACEMENT: Initiating maker order | size=15.49,"
        " price=$0.75, time_left=420s, confidence=0.85"
    ]


def test_the_size_grows_with_fills_the_position_already_has(rig):
    trade_id = setup(rig, time_left=420)
    rig.bot.monitor.ensure_exit(rig.trade(trade_id))
    exit_id = rig.exit(trade_id).order_id
    rig.fake.fill(exit_id, "4.50")
    rig.bot.notifications.poll()
    attempt(rig, trade_id)
    assert scale_ins(rig, trade_id)[0].size == D("6.00")  # 10.50 held - 4.50 sold


def test_a_size_below_the_minimum_is_bumped_to_five_shares_when_affordable(make_rig):
    rig = make_rig(collateral="3.75")
    trade_id = setup(rig, time_left=420, entry="3.00")
    attempt(rig, trade_id)
    (order,) = scale_ins(rig, trade_id)
    assert order.size == D("5")
    assert rig.of("scale_in.skipped") == []


def test_a_size_below_the_minimum_is_skipped_when_five_shares_are_not_affordable(make_rig):
    rig = make_rig(collateral="3.74")
    trade_id = setup(rig, time_left=420, entry="3.00")
    attempt(rig, trade_id)
    rig.clock.advance(5)
    attempt(rig, trade_id)
    assert scale_ins(rig, trade_id) == []
    assert rig.calls("post_order") == 0
    assert rig.lines("scale_in.skipped") == [  # once, not once per cycle
        f"📈 [BTC] Trade #{trade_id} UP | ⏸️ SCALE-IN SKIPPED: size 3.00 below minimum 5.00"
        " and the minimum is not affordable"
    ]
    assert rig.trade(trade_id).scale_in_attempted is False  # a skip does not consume the scale-in


def test_the_balance_pre_check_skips_an_unaffordable_scale_in(make_rig):
    rig = make_rig(collateral="5")
    trade_id = setup(rig, time_left=420)
    attempt(rig, trade_id)
    assert rig.calls("post_order") == 0
    assert rig.lines("scale_in.skipped") == [
        f"📈 [BTC] Trade #{trade_id} UP | ⏸️ SCALE-IN SKIPPED: insufficient balance: need $7.88, have $5.00"
    ]
    rig.fake.collateral = D("100")  # funds arrive: the next cycle places it
    attempt(rig, trade_id)
    assert len(scale_ins(rig, trade_id)) == 1


def test_the_balance_pre_check_keeps_the_configured_buffer(make_rig):
    rig = make_rig(collateral="9", config=StrategyConfig(balance_buffer=D("2")))
    trade_id = setup(rig, time_left=420)
    attempt(rig, trade_id)
    assert scale_ins(rig, trade_id) == []
    assert rig.of("scale_in.skipped")[0].fields["reason"] == "insufficient balance: need $7.88, have $7.00"


def run_cycles(rig: Rig, trade_id: int, n: int) -> None:
    for _ in range(n):
        rig.clock.advance(5)
        attempt(rig, trade_id)
        rig.bot.scale.track(rig.trade(trade_id))


def test_a_timed_out_placement_is_never_posted_again(rig):
    trade_id = setup(rig, time_left=420)
    rig.fake.fail_next("post_order", OutcomeUnknown("read timeout"))
    attempt(rig, trade_id)
    (order,) = scale_ins(rig, trade_id)
    assert order.state is OrderState.UNKNOWN
    assert rig.trade(trade_id).scale_in_attempted is True
    run_cycles(rig, trade_id, 12)  # one minute: reconciliation declares it not placed
    assert rig.calls("post_order") == 1
    assert rig.calls("prepare_order") == 1
    assert len(scale_ins(rig, trade_id)) == 1
    assert rig.ledger.order(order.order_id).state is OrderState.NOT_PLACED
    assert len(rig.of("scale_in.not_placed")) == 1


def test_a_timed_out_placement_that_did_land_is_followed_not_duplicated(rig):
    trade_id = setup(rig, time_left=420)
    lose_answer_once(rig.fake, "post_order")
    attempt(rig, trade_id)
    run_cycles(rig, trade_id, 3)
    assert rig.calls("post_order") == 1
    assert len(rig.fake.orders) == 1
    assert scale_ins(rig, trade_id)[0].state is OrderState.LIVE


@pytest.mark.parametrize(
    "error",
    [
        Rejected("invalid tick size", status=400),
        Transient("matching engine restarting", status=425),
    ],
)
def test_a_rejected_placement_consumes_the_one_scale_in(rig, error):
    trade_id = setup(rig, time_left=420)
    rig.fake.fail_next("post_order", error)
    attempt(rig, trade_id)
    run_cycles(rig, trade_id, 5)
    assert rig.calls("post_order") == 1
    (order,) = scale_ins(rig, trade_id)
    assert order.state is OrderState.REJECTED
    assert order.terminal_logged is True
    assert rig.lines("scale_in.failed") == [
        f"📈 [BTC] Trade #{trade_id} UP | ❌ SCALE-IN PLACEMENT FAILED: {error.message} | kind={error.kind}"
    ]


def test_a_signing_failure_also_consumes_the_one_scale_in(rig):
    trade_id = setup(rig, time_left=420)
    rig.fake.fail_next("prepare_order", Rejected("signer unavailable"))
    attempt(rig, trade_id)
    run_cycles(rig, trade_id, 3)
    assert rig.calls("prepare_order") == 1
    assert rig.calls("post_order") == 0
    assert rig.trade(trade_id).scale_in_attempted is True
    assert len(rig.of("scale_in.failed")) == 1


def test_an_unmatched_placement_is_a_failure_with_a_terminal_line(rig):
    trade_id = rig.open_trade()
    original = rig.fake.post_order

    def unmatched(prepared):
        placement = original(prepared)
        rig.fake.orders[prepared.order_id].status = "UNMATCHED"
        return type(placement)(placement.order_id, "unmatched")

    rig.fake.post_order = unmatched
    oid = rig.place_scale_in(trade_id)
    assert rig.ledger.order(oid).state is OrderState.REJECTED
    assert rig.lines("scale_in.failed") == [
        f"📈 [BTC] Trade #{trade_id} UP | ❌ SCALE-IN PLACEMENT FAILED: order unmatched (delaying failed)"
        " | kind=rejected"
    ]


def test_a_bid_that_matches_on_arrival_is_an_immediate_fill(rig):
    trade_id = setup(rig, time_left=420)
    rig.fake.before("post_order", lambda: rig.fake.set_book(TOKEN, "0.74", "0.75"))  # moved in flight
    attempt(rig, trade_id)
    (order,) = scale_ins(rig, trade_id)
    assert order.state is OrderState.FILLED
    assert rig.lines("scale_in.filled_immediate") == [
        f"📈 [BTC] Trade #{trade_id} UP | ✅ SCALE-IN FILLED (Immediate): 10.50 shares @ $0.7500"
        f" | OrderID: {order.order_id}"
    ]
    assert rig.of("scale_in.resting") == []
    assert rig.ledger.position(trade_id) == D("21.00")
    assert [f["source"] for f in rig.ledger.fills(order.order_id)] == ["placement"]


def test_a_matched_placement_whose_trades_are_not_readable_yet_is_caught_up_later(rig):
    trade_id = setup(rig, time_left=420)
    rig.fake.before("post_order", lambda: rig.fake.set_book(TOKEN, "0.74", "0.75"))
    rig.fake.fail_next("trades", Transient("bad gateway", status=502))
    attempt(rig, trade_id)
    (order,) = scale_ins(rig, trade_id)
    assert order.state is OrderState.LIVE
    assert rig.lines("scale_in.status_error") == [
        f"📈 [BTC] Trade #{trade_id} UP | ⚠️  SCALE-IN STATUS CHECK ERROR: transient (HTTP 502): bad gateway"
        f" | OrderID: {order.order_id}"
    ]
    run_cycles(rig, trade_id, 1)
    assert rig.ledger.order(order.order_id).state is OrderState.FILLED
    assert len(rig.of("scale_in.filled_delayed")) == 1
    assert rig.ledger.position(trade_id) == D("21.00")


def test_a_resting_order_is_reported_and_a_later_cycle_detects_its_delayed_fill(rig):
    trade_id = setup(rig, time_left=420)
    attempt(rig, trade_id)
    (order,) = scale_ins(rig, trade_id)
    assert rig.lines("scale_in.resting") == [
        f"📈 [BTC] Trade #{trade_id} UP | ⏳ SCALE-IN PLACED: Maker order resting on book | status=live,"
        f" OrderID: {order.order_id}"
    ]
    run_cycles(rig, trade_id, 2)
    assert rig.of("scale_in.filled_delayed") == []
    rig.fake.fill(order.order_id, "10.50", notify=False)
    run_cycles(rig, trade_id, 1)
    assert rig.lines("scale_in.filled_delayed") == [
        f"📈 [BTC] Trade #{trade_id} UP | 🎯 SCALE-IN FILLED (Delayed): +10.50 shares @ $0.7500"
        f" | OrderID: {order.order_id}"
    ]
    assert rig.ledger.order(order.order_id).state is OrderState.FILLED
    run_cycles(rig, trade_id, 2)  # a filled order is no longer polled
    assert len(rig.of("scale_in.filled_delayed")) == 1
    assert rig.calls("post_order") == 1


def test_partial_fills_are_detected_across_cycles(rig):
    trade_id = setup(rig, time_left=420)
    attempt(rig, trade_id)
    oid = scale_ins(rig, trade_id)[0].order_id
    rig.fake.fill(oid, "4.00", notify=False)
    run_cycles(rig, trade_id, 1)
    assert rig.ledger.order(oid).state is OrderState.LIVE
    assert [e.fields["filled"] for e in rig.of("scale_in.partial")] == [D("4.00")]
    rig.fake.fill(oid, "6.50", notify=False)
    run_cycles(rig, trade_id, 1)
    assert rig.ledger.order(oid).state is OrderState.FILLED
    assert [e.fields["size"] for e in rig.of("scale_in.filled_delayed")] == [D("6.50")]
    assert rig.ledger.position(trade_id) == D("21.00")


def test_an_order_the_venue_cancelled_gets_a_terminal_line(rig):
    trade_id = setup(rig, time_left=420)
    attempt(rig, trade_id)
    oid = scale_ins(rig, trade_id)[0].order_id
    rig.fake.fill(oid, "2.00", notify=False)
    rig.fake.orders[oid].status = "CANCELED"  # e.g. a heartbeat cancel-all
    run_cycles(rig, trade_id, 3)
    assert rig.ledger.order(oid).state is OrderState.CANCELLED
    assert rig.ledger.filled(oid) == D("2.00")
    assert rig.lines("scale_in.venue_cancelled") == [
        f"📈 [BTC] Trade #{trade_id} UP | 🧹 SCALE-IN CANCELLED BY VENUE: status CANCELED"
        f" | filled=2.00/10.50 | OrderID: {oid}"
    ]
    assert rig.calls("post_order") == 1


def test_a_failed_status_check_is_a_line_and_the_next_cycle_tries_again(rig):
    trade_id = setup(rig, time_left=420)
    attempt(rig, trade_id)
    oid = scale_ins(rig, trade_id)[0].order_id
    rig.fake.fill(oid, "10.50", notify=False)
    rig.fake.fail_next("get_order", Transient("service unavailable", status=503))
    run_cycles(rig, trade_id, 1)
    assert rig.lines("scale_in.status_error") == [
        f"📈 [BTC] Trade #{trade_id} UP | ⚠️  SCALE-IN STATUS CHECK ERROR: transient (HTTP 503):"
        f" service unavailable | OrderID: {oid}"
    ]
    run_cycles(rig, trade_id, 1)
    assert rig.ledger.order(oid).state is OrderState.FILLED


def test_an_order_missing_from_get_order_is_followed_through_the_trades(rig):
    trade_id = setup(rig, time_left=420)
    attempt(rig, trade_id)
    oid = scale_ins(rig, trade_id)[0].order_id
    rig.fake.fill(oid, "10.50", notify=False)
    rig.fake.hide(oid, 1)
    run_cycles(rig, trade_id, 1)
    assert rig.ledger.order(oid).state is OrderState.FILLED
    assert len(rig.of("scale_in.filled_delayed")) == 1
