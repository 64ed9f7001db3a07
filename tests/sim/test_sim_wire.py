"""The REAL py-clob-client against the simulated CLOB over the in-process httpx transport."""

import base64

import httpx
import pytest
from py_clob_client.client import ClobClient
from py_clob_client.clob_types import (
    ApiCreds,
    AssetType,
    BalanceAllowanceParams,
    DropNotificationParams,
    OpenOrderParams,
    OrderArgs,
    TradeParams,
)
from py_clob_client.exceptions import PolyApiException
from py_clob_client.http_helpers import helpers
from py_clob_client.signing.hmac import build_hmac_signature
from py_order_utils.model import SignedOrder

from clobsim.sim.clients.wire import SimTransport, installed
from clobsim.sim.exchange import orderid
from clobsim.sim.exchange.gateway import NO_ANSWER, Answer, Gateway, Hooks

ALREADY_GONE = "order can't be found - already canceled or matched"


def error_of(call) -> tuple:
    with pytest.raises(PolyApiException) as caught:
        call()
    return caught.value.status_code, caught.value.error_msg


def test_resting_buy_answers_live_with_the_locally_computed_order_id(bot, up, venue):
    signed = bot.create_order(OrderArgs(token_id=up, price=0.45, size=10, side="BUY"))
    local_id = orderid.order_id(signed.dict(), 137, neg_risk=False)
    answer = bot.post_order(signed)
    assert answer == {
        "success": True,
        "errorMsg": "",
        "orderID": local_id,
        "transactionsHashes": [],
        "status": "live",
        "takingAmount": "",
        "makingAmount": "",
    }
    assert venue.book(up).has(local_id)


def test_buy_crossing_the_ask_answers_matched_with_the_amounts_it_traded(bot, up, venue, kit):
    venue.set_crowd_depth(up, "SELL", "0.53", "4")
    venue.set_crowd_depth(up, "SELL", "0.55", "50")
    answer = kit.place(bot, up, 0.55, 10)
    assert answer["status"] == "matched"
    assert (answer["takingAmount"], answer["makingAmount"]) == ("10", "5.42")  # 4*.53 + 6*.55
    assert len(answer["transactionsHashes"]) == 2  # one trade per price level reached
    order = bot.get_order(answer["orderID"])
    assert (order["status"], order["size_matched"], order["original_size"]) == ("MATCHED", "10", "10")


def test_post_only_order_that_would_cross_is_rejected(bot, up, venue, kit):
    venue.set_crowd_depth(up, "SELL", "0.55", "50")
    assert error_of(lambda: kit.place(bot, up, 0.55, 10, post_only=True)) == (
        400,
        {"error": "invalid post-only order: order crosses book"},
    )
    assert kit.place(bot, up, 0.54, 10, post_only=True)["status"] == "live"


def test_order_below_the_minimum_size_is_rejected(bot, up, kit):
    status, body = error_of(lambda: kit.place(bot, up, 0.45, 4.99))
    assert status == 400
    assert body["error"].endswith("is invalid. Size (4.99) lower than the minimum: 5")


def test_buy_beyond_the_free_collateral_is_rejected_not_enough_balance(bot, up, kit):
    kit.place(bot, up, 0.50, 150)  # locks 75 of 100
    assert error_of(lambda: kit.place(bot, up, 0.50, 60)) == (400, {"error": "not enough balance / allowance"})


def test_sell_without_shares_is_rejected_not_enough_balance(bot, up, kit):
    assert error_of(lambda: kit.place(bot, up, 0.60, 5, side="SELL")) == (
        400,
        {"error": "not enough balance / allowance"},
    )


def test_posting_the_same_signed_order_twice_is_rejected_as_duplicated(bot, up):
    signed = bot.create_order(OrderArgs(token_id=up, price=0.45, size=10, side="BUY"))
    order_id = bot.post_order(signed)["orderID"]
    assert error_of(lambda: bot.post_order(signed)) == (400, {"error": f"order {order_id} is invalid. Duplicated."})


def test_get_order_shows_a_partial_fill_with_its_trade(bot, up, venue, kit):
    order_id = kit.place(bot, up, 0.45, 10)["orderID"]
    trade = venue.take(up, "SELL", "4", "0.45")[0]
    order = bot.get_order(order_id)
    assert {
        k: order[k]
        for k in ("status", "size_matched", "associate_trades", "outcome", "side", "price", "order_type", "expiration")
    } == {
        "status": "LIVE",
        "size_matched": "4",
        "associate_trades": [trade.id],
        "outcome": "Up",
        "side": "BUY",
        "price": "0.45",
        "order_type": "GTC",
        "expiration": "0",
    }
    assert set(order) == {
        "id",
        "status",
        "owner",
        "maker_address",
        "market",
        "asset_id",
        "side",
        "original_size",
        "size_matched",
        "price",
        "associate_trades",
        "outcome",
        "created_at",
        "expiration",
        "order_type",
    }


def test_get_order_of_an_unknown_id_answers_null(bot):
    assert bot.get_order("0x" + "ab" * 32) is None


def test_cancel_of_a_resting_order_lists_it_as_canceled(bot, up, kit):
    order_id = kit.place(bot, up, 0.45, 10)["orderID"]
    assert bot.cancel(order_id) == {"canceled": [order_id], "not_canceled": {}}
    assert bot.get_order(order_id)["status"] == "CANCELED"


def test_cancel_after_match_reports_already_canceled_or_matched(bot, up, venue, kit):
    order_id = kit.place(bot, up, 0.45, 10)["orderID"]
    venue.take(up, "SELL", "10")
    assert bot.cancel(order_id) == {"canceled": [], "not_canceled": {order_id: ALREADY_GONE}}
    assert bot.get_order(order_id)["size_matched"] == "10"  # the caller must read the fill


def test_cancel_of_a_partly_filled_order_keeps_its_size_matched(bot, up, venue, kit):
    order_id = kit.place(bot, up, 0.45, 10)["orderID"]
    venue.take(up, "SELL", "3")
    bot.cancel(order_id)
    order = bot.get_order(order_id)
    assert (order["status"], order["size_matched"]) == ("CANCELED", "3")


def test_cancel_all_and_cancel_market_orders_cancel_only_open_orders(bot, up, down, market, kit):
    ups = [kit.place(bot, up, 0.40 + i / 100, 5)["orderID"] for i in range(3)]
    downs = [kit.place(bot, down, 0.30, 5)["orderID"]]
    assert bot.cancel_market_orders(asset_id=up) == {"canceled": ups, "not_canceled": {}}
    assert bot.cancel_all() == {"canceled": downs, "not_canceled": {}}
    assert bot.cancel_orders(ups) == {"canceled": [], "not_canceled": {i: ALREADY_GONE for i in ups}}


def test_get_orders_pages_through_every_open_order(bot, up, down, kit):
    ids = [kit.place(bot, up, 0.30 + i / 100, 5)["orderID"] for i in range(5)]
    ids.append(kit.place(bot, down, 0.20, 5)["orderID"])
    assert [o["id"] for o in bot.get_orders()] == ids  # page size 2: four pages
    assert [o["id"] for o in bot.get_orders(OpenOrderParams(asset_id=up))] == ids[:5]
    assert [o["id"] for o in bot.get_orders(OpenOrderParams(id=ids[2]))] == [ids[2]]


def test_get_orders_paging_ends_with_the_lte_cursor(gateway, bot, up, kit):
    for i in range(3):
        kit.place(bot, up, 0.30 + i / 100, 5)
    pages = []
    cursor = "MA=="
    while cursor != "LTE=":
        page = gateway.request("GET /data/orders", owner=kit.BOT.api_key, params={"next_cursor": cursor}).body
        pages.append(page["count"])
        cursor = page["next_cursor"]
    assert pages == [2, 1]


def test_get_trades_shows_the_taker_and_the_maker_their_own_view(bot, other, up, venue, kit):
    venue.deposit(kit.OTHER.api_key, up, 20)
    maker_id = kit.place(bot, up, 0.45, 10)["orderID"]
    taker_id = kit.place(other, up, 0.45, 6, side="SELL")["orderID"]
    [mine] = bot.get_trades()
    [theirs] = other.get_trades()
    assert mine["id"] == theirs["id"]
    assert (mine["trader_side"], theirs["trader_side"]) == ("MAKER", "TAKER")
    assert (mine["owner"], theirs["owner"]) == (kit.BOT.api_key, kit.OTHER.api_key)
    assert mine["taker_order_id"] == taker_id
    assert (mine["side"], mine["size"], mine["price"], mine["status"]) == ("SELL", "6", "0.45", "MATCHED")
    assert mine["maker_orders"] == [
        {
            "order_id": maker_id,
            "owner": kit.BOT.api_key,
            "maker_address": bot.get_address(),
            "matched_amount": "6",
            "price": "0.45",
            "asset_id": up,
            "side": "BUY",
            "outcome": "Up",
        }
    ]


def test_get_trades_pages_and_filters(bot, up, down, venue, kit):
    venue.set_crowd_depth(up, "SELL", "0.55", "100")
    venue.set_crowd_depth(down, "SELL", "0.45", "100")
    for _ in range(3):
        kit.place(bot, up, 0.55, 5)
    kit.place(bot, down, 0.45, 5)
    trades = bot.get_trades()
    assert len(trades) == 4 and len({t["id"] for t in trades}) == 4
    assert [t["asset_id"] for t in bot.get_trades(TradeParams(asset_id=down))] == [down]
    assert bot.get_trades(TradeParams(after=kit.T0)) == []
    assert len(bot.get_trades(TradeParams(before=kit.T0 + 1))) == 4


def test_notifications_report_fills_and_cancels_and_drop_marks_them_read(bot, up, venue, kit):
    order_id = kit.place(bot, up, 0.45, 10)["orderID"]
    trade = venue.take(up, "SELL", "4")[0]
    bot.cancel(order_id)
    notes = bot.get_notifications()
    assert [(n["type"], n["owner"]) for n in notes] == [(2, kit.BOT.api_key), (1, kit.BOT.api_key)]
    assert notes[0]["payload"] == {
        "order_id": order_id,
        "trade_id": trade.id,
        "asset_id": up,
        "market": trade.market,
        "side": "BUY",
        "price": "0.45",
        "size": "4",
        "status": "MATCHED",
    }
    assert notes[1]["payload"] == {
        "order_id": order_id,
        "asset_id": up,
        "market": trade.market,
        "side": "BUY",
        "price": "0.45",
        "original_size": "10",
        "size_matched": "4",
    }
    bot.drop_notifications(DropNotificationParams(ids=[notes[0]["id"], "no-such-id"]))
    assert [n["id"] for n in bot.get_notifications()] == [notes[1]["id"]]


def test_balance_allowance_reports_base_units_of_collateral_and_shares(bot, up, venue, kit):
    venue.set_crowd_depth(up, "SELL", "0.53", "100")
    kit.place(bot, up, 0.53, 10.5)
    collateral = bot.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert collateral["balance"] == "94435000"  # 100 - 10.5 * 0.53
    held = bot.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=up))
    assert held["balance"] == "10500000"
    assert int(held["allowance"]) >= int(held["balance"])


def test_order_book_lists_crowd_and_bot_orders_with_the_best_price_last(bot, up, venue, kit):
    venue.set_crowd_depth(up, "BUY", "0.48", "30")
    venue.set_crowd_depth(up, "BUY", "0.50", "20")
    venue.set_crowd_depth(up, "SELL", "0.55", "40")
    venue.set_crowd_depth(up, "SELL", "0.53", "10")
    kit.place(bot, up, 0.50, 5)
    book = bot.get_order_book(up)
    assert [(b.price, b.size) for b in book.bids] == [("0.48", "30"), ("0.5", "25")]
    assert [(a.price, a.size) for a in book.asks] == [("0.55", "40"), ("0.53", "10")]
    assert (book.tick_size, book.min_order_size, book.neg_risk) == ("0.01", "5", False)
    assert book.hash == bot.get_order_book_hash(book)  # the server-compatible hash


def test_market_after_resolution_is_closed_with_exactly_one_winner(bot, market, venue, up):
    assert bot.get_market(market.condition_id)["closed"] is False
    venue.resolve_market(market.condition_id, "Down")
    answer = bot.get_market(market.condition_id)
    assert (answer["closed"], answer["accepting_orders"], answer["market_slug"]) == (
        True,
        False,
        f"btc-updown-15m-{market.window_start}",
    )
    assert [(t["outcome"], t["winner"], t["price"]) for t in answer["tokens"]] == [("Up", False, 0), ("Down", True, 1)]
    assert error_of(lambda: bot.get_market("0x" + "00" * 32)) == (404, {"error": "market not found"})


def test_bad_l2_signature_is_unauthorized(wire, up, kit):
    wrong_secret = ApiCreds(kit.BOT.api_key, base64.urlsafe_b64encode(b"x" * 32).decode(), kit.BOT.api_passphrase)
    client = wire(kit.BOT_KEY, wrong_secret)
    assert error_of(client.get_orders) == (401, {"error": "Unauthorized/Invalid api key"})
    assert error_of(lambda: kit.place(client, up, 0.45, 10)) == (401, {"error": "Unauthorized/Invalid api key"})


def test_order_signed_by_another_key_is_rejected_invalid_signature(bot, other, up):
    signed = bot.create_order(OrderArgs(token_id=up, price=0.45, size=10, side="BUY"))
    forged = other.create_order(OrderArgs(token_id=up, price=0.45, size=10, side="BUY"))
    assert error_of(lambda: bot.post_order(SignedOrder(signed.order, forged.signature))) == (
        400,
        {"error": "invalid signature"},
    )


class ApplyThenTimeOut(Hooks):
    """timeout_after_apply in miniature: the venue applies, the client hears nothing."""

    def __init__(self, route):
        self.route = route

    def after_apply(self, call, answer):
        return NO_ANSWER if call.route == self.route else answer


class RefuseWith425(Hooks):
    def before_apply(self, call):
        if call.route == "POST /order":
            return Answer(425, "<html>engine restarting</html>")
        return None


def test_a_timeout_after_apply_is_request_exception_yet_the_order_rests(gateway, bot, up, venue, kit):
    gateway.hooks = ApplyThenTimeOut("POST /order")
    signed = bot.create_order(OrderArgs(token_id=up, price=0.45, size=10, side="BUY"))
    assert error_of(lambda: bot.post_order(signed)) == (None, "Request exception!")
    gateway.hooks = Hooks()
    assert [o["id"] for o in bot.get_orders()] == [orderid.order_id(signed.dict(), 137, False)]


def test_a_hook_can_answer_instead_of_the_venue_with_a_non_json_body(gateway, bot, up, venue, kit):
    gateway.hooks = RefuseWith425()
    assert error_of(lambda: kit.place(bot, up, 0.45, 10)) == (425, "<html>engine restarting</html>")
    assert venue.orders == {}


def test_installed_puts_the_previous_http_client_back(venue):
    before = helpers._http_client
    with installed(SimTransport(Gateway(venue))) as client:
        assert helpers._http_client is client
    assert helpers._http_client is before


def test_unknown_path_is_404_and_public_routes_need_no_credentials(gateway, venue, up, kit):
    with installed(SimTransport(gateway)):
        public = ClobClient(kit.HOST)
        assert public.get_tick_size(up) == "0.01"
        assert public.get_neg_risk(up) is False
        assert public.get_fee_rate_bps(up) == 0
        assert public.get_ok() == "OK"
        with httpx.Client(transport=SimTransport(gateway)) as raw:
            assert raw.get(f"{kit.HOST}/no/such/path").status_code == 404


# ---- forged requests: refused as the real venue refuses them (issue 15; ../shared/repro/attack.py)


def _signed(kit, method: str, path: str, body: str | None = None, ts: str | None = None) -> dict:
    ts = str(kit.T0) if ts is None else ts
    return {
        "POLY_ADDRESS": kit.address_of(kit.BOT_KEY),
        "POLY_SIGNATURE": build_hmac_signature(kit.BOT.api_secret, ts, method, path, body),
        "POLY_TIMESTAMP": ts,
        "POLY_API_KEY": kit.BOT.api_key,
        "POLY_PASSPHRASE": kit.BOT.api_passphrase,
    }


@pytest.fixture
def raw(gateway):
    with httpx.Client(transport=SimTransport(gateway), base_url="http://clob.sim") as client:
        yield client


def test_a_stale_future_or_garbage_timestamp_is_unauthorized_even_with_a_correct_hmac(raw, kit):
    path = "/data/orders"
    for ts in ["0", str(kit.T0 - 61), str(kit.T0 + 61), "abc", "-5", "１７６７２６８８００", "9" * 40]:
        headers = {
            k: v.encode("utf-8") for k, v in _signed(kit, "GET", path, ts=ts).items()
        }  # bytes: full-width digits
        answer = raw.get(path, headers=headers)
        assert (ts, answer.status_code, answer.json()) == (ts, 401, {"error": "Unauthorized/Invalid api key"})
    for ts in [str(kit.T0 - 60), str(kit.T0), str(kit.T0 + 60)]:  # the window: 60 s either side
        assert raw.get(path, headers=_signed(kit, "GET", path, ts=ts)).status_code == 200


def test_a_captured_request_replayed_an_hour_later_is_unauthorized(raw, clock, kit):
    headers = _signed(kit, "DELETE", "/cancel-all")
    assert raw.delete("/cancel-all", headers=headers).status_code == 200
    clock.advance(3600)
    assert raw.delete("/cancel-all", headers=headers).status_code == 401


def test_non_ascii_headers_are_unauthorized_and_a_non_utf8_body_is_an_invalid_payload(raw, kit):
    headers = {**_signed(kit, "GET", "/data/orders"), "POLY_SIGNATURE": "é" * 44}
    encoded = {k: v.encode("latin-1") for k, v in headers.items()}
    assert raw.get("/data/orders", headers=encoded).status_code == 401
    answer = raw.request("DELETE", "/order", headers=_signed(kit, "DELETE", "/order"), content=b'{"orderID":"\xff"}')
    assert (answer.status_code, answer.json()) == (400, {"error": "Invalid payload"})
    # and no internal error: the gateway fixture asserts gateway.internal_errors == []


def test_another_owner_s_order_can_be_neither_read_nor_cancelled(bot, other, up, venue, kit):
    theirs = kit.place(other, up, 0.40, 10)["orderID"]
    assert bot.get_order(theirs) is None
    answer = bot.cancel(theirs)
    assert answer["canceled"] == [] and theirs in answer["not_canceled"]
    assert bot.get_orders(OpenOrderParams(id=theirs)) == []
    assert venue.orders[theirs].status == "LIVE"
