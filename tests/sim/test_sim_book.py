"""The order book alone: price-time priority, crowd queue ahead, partial fills."""

from decimal import Decimal as D

import pytest

from clobsim.sim.exchange.book import BUY, SELL, Book


@pytest.fixture
def book() -> Book:
    return Book("token")


def hits(fills):
    return [(f.maker_ref if f.maker_owner else "crowd", str(f.price), str(f.size)) for f in fills]


def test_taker_buys_the_cheapest_level_first_then_the_next(book):
    book.rest("a53", "bot", SELL, D("0.53"), D("5"))
    book.rest("a52", "bot", SELL, D("0.52"), D("5"))
    fills = book.match(BUY, D("8"), D("0.55"))
    assert hits(fills) == [("a52", "0.52", "5"), ("a53", "0.53", "3")]
    assert book.last_trade_price == D("0.53")


def test_orders_at_one_level_fill_in_time_order(book):
    book.rest("first", "bot", BUY, D("0.50"), D("5"))
    book.rest("second", "other", BUY, D("0.50"), D("5"))
    fills = book.match(SELL, D("7"), D("0.50"))
    assert hits(fills) == [("first", "0.50", "5"), ("second", "0.50", "2")]
    assert fills[0].maker_done and not fills[1].maker_done


def test_crowd_ahead_is_consumed_before_the_bot_order_and_crowd_behind_after_it(book):
    book.set_crowd(BUY, D("0.50"), D("10"))  # already queued when the bot joins
    book.rest("bot-bid", "bot", BUY, D("0.50"), D("5"))
    book.set_crowd(BUY, D("0.50"), D("14"))  # 4 more arrive behind the bot
    assert book.queue_ahead("bot-bid") == D("10")
    fills = book.match(SELL, D("12"), None)
    assert hits(fills) == [("crowd", "0.50", "10"), ("bot-bid", "0.50", "2")]
    assert book.queue_ahead("bot-bid") == D("0")
    fills = book.match(SELL, D("10"), None)
    assert hits(fills) == [("bot-bid", "0.50", "3"), ("crowd", "0.50", "4")]
    assert not book.has("bot-bid")


def test_partial_fill_leaves_the_rest_of_the_maker_order_at_the_front(book):
    book.rest("bot-ask", "bot", SELL, D("0.60"), D("10"))
    book.set_crowd(SELL, D("0.60"), D("5"))
    book.match(BUY, D("4"), D("0.60"))
    assert book.entries(SELL, D("0.60"))[0].ref == "bot-ask"
    assert book.entries(SELL, D("0.60"))[0].size == D("6")
    assert book.depth(SELL) == ((D("0.60"), D("11")),)


def test_the_depth_read_again_is_the_same_until_a_change_and_then_follows_it(book):
    book.set_crowd(SELL, D("0.60"), D("5"))
    book.rest("bot-ask", "bot", SELL, D("0.60"), D("10"))
    first = book.depth(SELL)
    assert book.depth(SELL) is first == ((D("0.60"), D("15")),)
    book.match(BUY, D("4"), D("0.60"))  # the crowd's chunk, partly
    assert book.depth(SELL) == ((D("0.60"), D("11")),)
    book.take_from("bot-ask", D("10"))
    book.set_crowd(SELL, D("0.61"), D("3"))
    assert book.depth(SELL) == ((D("0.60"), D("1")), (D("0.61"), D("3")))
    book.set_crowd(SELL, D("0.61"), D("3"))  # the size it has: no change, the same depth
    assert book.depth(SELL) == ((D("0.60"), D("1")), (D("0.61"), D("3")))
    book.set_crowd(SELL, D("0.60"), D("0"))
    assert book.depth(SELL) == ((D("0.61"), D("3")),)


def test_crowd_shrink_removes_the_newest_crowd_first_so_queue_position_holds(book):
    book.set_crowd(BUY, D("0.40"), D("10"))
    book.rest("bot-bid", "bot", BUY, D("0.40"), D("5"))
    book.set_crowd(BUY, D("0.40"), D("16"))
    book.set_crowd(BUY, D("0.40"), D("8"))  # the 6 behind go, then 2 of the 10 ahead
    assert book.queue_ahead("bot-bid") == D("8")
    assert book.crowd_at(BUY, D("0.40")) == D("8")


def test_taker_stops_at_its_limit_price(book):
    book.set_crowd(SELL, D("0.55"), D("10"))
    book.set_crowd(SELL, D("0.60"), D("10"))
    fills = book.match(BUY, D("50"), D("0.55"))
    assert hits(fills) == [("crowd", "0.55", "10")]
    assert book.best_ask() == D("0.60")
    assert book.liquidity(BUY, D("0.59")) == D("0")
    assert book.liquidity(BUY, None) == D("10")


def test_removing_a_resting_order_returns_its_remaining_size_and_empties_the_level(book):
    book.rest("bot-bid", "bot", BUY, D("0.45"), D("5"))
    book.match(SELL, D("2"), None)
    assert book.remove("bot-bid") == D("3")
    assert book.remove("bot-bid") is None
    assert book.depth(BUY) == ()
    assert book.best_bid() is None


def test_crosses_compares_against_the_best_opposite_price(book):
    book.set_crowd(SELL, D("0.55"), D("10"))
    book.set_crowd(BUY, D("0.50"), D("10"))
    assert book.crosses(BUY, D("0.55")) and not book.crosses(BUY, D("0.54"))
    assert book.crosses(SELL, D("0.50")) and not book.crosses(SELL, D("0.51"))
    assert book.midpoint() == D("0.525")
