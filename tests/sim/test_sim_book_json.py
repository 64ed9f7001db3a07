"""GET /book's answer: the levels as the real /book lists them and the server's hash, the same
digest py-clob-client computes over the same summary, however the book changed in between."""

from decimal import Decimal as D

from py_clob_client.clob_types import OrderBookSummary, OrderSummary
from py_clob_client.utilities import generate_orderbook_summary_hash

from clobsim.sim.exchange.gateway import book_json


def clients_hash(answer: dict) -> str:
    """The digest py-clob-client computes over the summary the answer states."""
    summary = OrderBookSummary(
        market=answer["market"],
        asset_id=answer["asset_id"],
        timestamp=answer["timestamp"],
        bids=[OrderSummary(price=o["price"], size=o["size"]) for o in answer["bids"]],
        asks=[OrderSummary(price=o["price"], size=o["size"]) for o in answer["asks"]],
        min_order_size=answer["min_order_size"],
        neg_risk=answer["neg_risk"],
        tick_size=answer["tick_size"],
        last_trade_price=answer["last_trade_price"],
    )
    return generate_orderbook_summary_hash(summary)


def test_the_books_hash_is_the_clients_digest_of_the_summary_through_every_change(venue, up, clock):
    answers = [book_json(venue, up)]  # an empty book
    venue.set_crowd_depth(up, "SELL", "0.55", "20")
    venue.set_crowd_depth(up, "SELL", "0.56", "25.5")
    venue.set_crowd_depth(up, "BUY", "0.50", "20")
    answers.append(book_json(venue, up))
    clock.advance(1.5)
    answers.append(book_json(venue, up))  # the same levels, a later timestamp
    venue.set_crowd_depth(up, "BUY", "0.51", "7")
    venue.set_crowd_depth(up, "SELL", "0.55", "0")
    venue.set_crowd_depth(up, "BUY", "0.56", "5")  # crosses: a trade, so a last trade price
    answers.append(book_json(venue, up))
    assert [a["hash"] for a in answers] == [clients_hash(a) for a in answers]
    assert len({a["hash"] for a in answers}) == len(answers)
    assert answers[0]["bids"] == answers[0]["asks"] == [] and answers[0]["last_trade_price"] == ""
    assert answers[1]["asks"] == [{"price": "0.56", "size": "25.5"}, {"price": "0.55", "size": "20"}]
    assert answers[1]["bids"] == answers[2]["bids"] and answers[1]["timestamp"] != answers[2]["timestamp"]
    assert answers[3]["last_trade_price"] == "0.56" and answers[3]["asks"] == [{"price": "0.56", "size": "20.5"}]
    assert answers[3]["bids"][-2:] == [{"price": "0.5", "size": "20"}, {"price": "0.51", "size": "7"}]


def test_each_answer_is_built_afresh_so_changing_one_changes_no_other(venue, up):
    venue.set_crowd_depth(up, "SELL", "0.55", "20")
    first, second = book_json(venue, up), book_json(venue, up)
    first["asks"][0]["size"] = "999"
    first["asks"].append({"price": "0.9", "size": "1"})
    assert second["asks"] == book_json(venue, up)["asks"] == [{"price": "0.55", "size": "20"}]
    assert D(second["asks"][0]["size"]) == D("20")
