"""core's adapter against each REAL client (py-clob-client, py-clob-client-v2), its HTTP routed
in-process to a scripted venue (tests/adapter/clients.py): one body per behaviour, run once per
client. What only one protocol has is in test_adapter_v2.py.
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from eth_account import Account

from clobsim.core.clob_adapter import ClobExchange
from clobsim.core.errors import ExchangeError, NotFound, OutcomeUnknown, Rejected, Transient
from clobsim.core.model import NotificationKind, PlaceOrder, Side
from tests.adapter.clients import (
    ADDRESS,
    API_KEY,
    CHAIN_ID,
    HOST,
    MARKET,
    PRIVATE_KEY,
    TOKEN_DOWN,
    TOKEN_UP,
    V1,
    V2,
    assert_mapped,
    book_object,
    buy,
    market_object,
    ok,
    order_object,
    timeout,
    trade_object,
)


def test_the_adapter_knows_which_client_it_drives(client, exchange):
    assert exchange.client_name == client.client_name


# ---- prepare and post ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["live", "matched", "delayed"])
def test_prepare_and_post_returns_the_venue_status_and_the_locally_known_id(client, exchange, venue, status):
    venue.on("POST", "/order", venue.accept_order(status, making="5.985", taking="10.5"))
    prepared = exchange.prepare_order(buy())
    placement = exchange.post_order(prepared)
    assert placement.order_id == prepared.order_id
    assert placement.status == status
    assert placement.making_amount == Decimal("5.985")
    assert placement.taking_amount == Decimal("10.5")
    body = json.loads(venue.seen("POST", "/order")[0].content)
    assert body["orderType"] == "GTC" and body["postOnly"] is False and body["owner"] == API_KEY
    order = body["order"]
    assert order["side"] == "BUY" and order["takerAmount"] == "10500000" and order["makerAmount"] == "5985000"
    assert {"expiration", "signature"} <= set(order)
    # each protocol's struct: V1's taker, nonce and feeRateBps; V2's timestamp, metadata and builder
    other = (V2 if client is V1 else V1).order_fields
    assert client.order_fields <= set(order) and not other & set(order)


@pytest.mark.parametrize("neg_risk", [False, True], ids=["standard", "neg-risk"])
def test_local_order_id_is_the_digest_the_client_signs_and_the_venue_derives(client, exchange, venue, neg_risk):
    prepared = exchange.prepare_order(buy(neg_risk=neg_risk))
    assert prepared.order_id == client.signed_digest(prepared.signed, neg_risk)
    assert len(prepared.order_id) == 66 and prepared.order_id.startswith("0x")
    signature = bytes.fromhex(prepared.signed.signature[2:])
    assert Account._recover_hash(bytes.fromhex(prepared.order_id[2:]), signature=signature) == ADDRESS
    exchange.post_order(prepared)
    posted = json.loads(venue.seen("POST", "/order")[0].content)["order"]
    assert client.venue_order_id(posted, neg_risk) == prepared.order_id


def test_neg_risk_order_is_hashed_for_the_neg_risk_exchange_without_asking_the_venue(client, exchange, venue):
    exchange.prepare_order(buy(neg_risk=True))
    assert venue.seen("GET", "/neg-risk") == []


ASKED = {
    # V1 asks whether the market is neg-risk even when the order says it is not, and the fee rate
    # its orders sign; all three once per client (cached)
    V1: ["/tick-size", "/neg-risk", "/fee-rate"],
    # V2 orders carry no feeRateBps (fees are set at match time) and it takes neg_risk=False as
    # given; it asks the venue's version instead; tick size and version are cached
    V2: ["/tick-size", "/version"],
}


def test_the_client_asks_the_venue_only_what_its_protocol_needs_and_once(client, exchange, venue):
    exchange.prepare_order(buy(neg_risk=False))
    exchange.prepare_order(buy(neg_risk=False))
    assert [r.url.path for r in venue.requests] == ASKED[client]


def test_sizes_the_client_would_floor_a_cent_below_are_signed_exactly(exchange, venue):
    # the clients floor size*100 in floats: 4.35 alone would be signed as 4.34 shares
    exchange.post_order(exchange.prepare_order(buy(size="4.35")))
    sell = PlaceOrder(token_id=TOKEN_UP, side=Side.SELL, price=Decimal("0.99"), size=Decimal("0.29"))
    exchange.post_order(exchange.prepare_order(sell))
    first, second = (json.loads(r.content)["order"] for r in venue.seen("POST", "/order"))
    assert first["takerAmount"] == "4350000"
    assert second["side"] == "SELL" and second["makerAmount"] == "290000"


def test_post_only_gtd_order_is_posted_with_its_type_flag_and_expiration(exchange, venue):
    exchange.post_order(exchange.prepare_order(buy(order_type="GTD", post_only=True, expiration=1_900_000_000)))
    body = json.loads(venue.seen("POST", "/order")[0].content)
    assert body["orderType"] == "GTD" and body["postOnly"] is True
    assert body["order"]["expiration"] == "1900000000"


def test_venue_order_id_is_preferred_when_it_differs_from_the_local_one(exchange, venue):
    answer = {"success": True, "errorMsg": "", "orderID": "0xvenue", "status": "live", "makingAmount": ""}
    venue.on("POST", "/order", ok({**answer, "takingAmount": ""}))
    placement = exchange.post_order(exchange.prepare_order(buy()))
    assert placement.order_id == "0xvenue"
    assert placement.making_amount == Decimal("0")


def test_post_answered_200_with_an_error_message_is_rejected(exchange, venue):
    answer = {"success": False, "errorMsg": "invalid post-only order: order crosses book", "orderID": ""}
    venue.on("POST", "/order", ok({**answer, "status": ""}))
    prepared = exchange.prepare_order(buy(post_only=True))
    with pytest.raises(Rejected) as excinfo:
        exchange.post_order(prepared)
    assert excinfo.value.message == "invalid post-only order: order crosses book"
    assert excinfo.value.order_id == prepared.order_id


def test_timeout_on_post_is_outcome_unknown_with_the_local_order_id_and_no_retry(client, exchange, venue):
    venue.on("POST", "/order", timeout)
    prepared = exchange.prepare_order(buy())
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.post_order(prepared)
    err = assert_mapped(excinfo, OutcomeUnknown)
    assert err.order_id == prepared.order_id and err.status is None
    assert isinstance(err.__cause__, client.api_exception) and err.__cause__.status_code is None
    # the client posts once (V2's retry_on_error is off by default): nothing behind the caller's back
    assert len(venue.seen("POST", "/order")) == 1


def test_connection_drop_on_post_is_outcome_unknown(exchange, venue):
    def drop(request):
        raise httpx.RemoteProtocolError("server disconnected", request=request)

    venue.on("POST", "/order", drop)
    prepared = exchange.prepare_order(buy())
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.post_order(prepared)
    assert assert_mapped(excinfo, OutcomeUnknown).order_id == prepared.order_id


@pytest.mark.parametrize("status", [425, 429, 503])
def test_engine_restart_rate_limit_and_unavailable_on_post_are_transient(exchange, venue, status):
    venue.on("POST", "/order", httpx.Response(status, json={"error": "try later"}))
    with pytest.raises(Transient) as excinfo:
        exchange.post_order(exchange.prepare_order(buy()))
    err = assert_mapped(excinfo, Transient)
    assert err.status == status and err.message == "try later"


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_gateway_timeout_on_post_may_have_been_applied_and_carries_the_local_order_id(exchange, venue, status):
    venue.on("POST", "/order", httpx.Response(status, json={"error": "order timed out"}))
    prepared = exchange.prepare_order(buy())
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.post_order(prepared)
    err = assert_mapped(excinfo, OutcomeUnknown)
    assert err.status == status and err.order_id == prepared.order_id
    assert err.message == f"post order: HTTP {status} (order timed out); it may have been applied"


@pytest.mark.parametrize("status", [500, 502])
def test_a_server_error_on_cancel_stays_transient_since_resending_a_cancel_is_harmless(exchange, venue, status):
    venue.on("DELETE", "/order", httpx.Response(status, json={"error": "order timed out"}))
    with pytest.raises(Transient) as excinfo:
        exchange.cancel_order("0xabc")
    assert assert_mapped(excinfo, Transient).status == status


@pytest.mark.parametrize("status", [425, 429, 503])
def test_engine_restart_rate_limit_and_unavailable_on_cancel_are_transient(exchange, venue, status):
    venue.on("DELETE", "/order", httpx.Response(status, text="unavailable", headers={"Retry-After": "2"}))
    with pytest.raises(Transient) as excinfo:
        exchange.cancel_order("0xabc")
    err = assert_mapped(excinfo, Transient)
    assert err.status == status and err.message == "unavailable" and err.order_id == "0xabc"


def test_not_enough_balance_is_rejected_with_the_venue_message(exchange, venue):
    venue.on("POST", "/order", httpx.Response(400, json={"error": "not enough balance / allowance"}))
    with pytest.raises(Rejected) as excinfo:
        exchange.post_order(exchange.prepare_order(buy()))
    err = assert_mapped(excinfo, Rejected)
    assert err.message == "not enough balance / allowance" and err.status == 400


def test_html_403_page_from_the_cdn_is_rejected_with_a_readable_one_line_message(exchange, venue):
    page = (
        "<!DOCTYPE html>\n<html><head><title>403 Forbidden |\n Cloudflare</title></head>"
        "<body><h1>Sorry, you have been blocked</h1>" + "x" * 5000 + "</body></html>"
    )
    venue.on("POST", "/order", httpx.Response(403, text=page, headers={"content-type": "text/html"}))
    with pytest.raises(Rejected) as excinfo:
        exchange.post_order(exchange.prepare_order(buy()))
    err = assert_mapped(excinfo, Rejected)
    assert err.message == "403 Forbidden | Cloudflare" and err.status == 403


def test_malformed_post_answer_is_outcome_unknown_because_the_order_may_rest(exchange, venue):
    venue.on("POST", "/order", httpx.Response(200, text="<html>gateway</html>"))
    prepared = exchange.prepare_order(buy())
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.post_order(prepared)
    assert assert_mapped(excinfo, OutcomeUnknown).order_id == prepared.order_id


@pytest.mark.parametrize("price", ["0.995", "0.001", "1.5"])
def test_price_outside_tick_and_one_minus_tick_is_rejected_locally(client, exchange, venue, price):
    with pytest.raises(Rejected) as excinfo:
        exchange.prepare_order(buy(price=price))
    err = assert_mapped(excinfo, Rejected)
    assert type(err.__cause__) is client.price_error
    assert err.message.endswith(f"price ({float(price)}), min: 0.01 - max: 0.99")
    assert err.status is None


def test_tick_size_finer_than_the_market_allows_is_rejected_locally(exchange, venue):
    with pytest.raises(Rejected) as excinfo:
        exchange.prepare_order(buy(tick_size="0.001"))
    assert "invalid tick size" in assert_mapped(excinfo, Rejected).message


@pytest.mark.parametrize("order_type", ["FOK", "FAK"])
def test_a_post_only_order_that_would_take_is_rejected_before_anything_is_sent(exchange, venue, order_type):
    with pytest.raises(Rejected) as excinfo:
        exchange.prepare_order(buy(order_type=order_type, post_only=True))
    assert "GTC or GTD" in excinfo.value.message
    assert venue.requests == []


def test_timeout_while_the_client_resolves_the_tick_size_is_transient(exchange, venue):
    venue.on("GET", "/tick-size", timeout)
    with pytest.raises(Transient) as excinfo:
        exchange.prepare_order(buy())
    assert_mapped(excinfo, Transient)


def test_missing_api_credentials_are_rejected_not_crashed(client, venue):
    exchange = ClobExchange(client.clob_client(HOST, chain_id=CHAIN_ID, key=PRIVATE_KEY))
    with pytest.raises(Rejected) as excinfo:
        exchange.open_orders()
    err = assert_mapped(excinfo, Rejected)
    assert "Credentials" in err.message and isinstance(err.__cause__, client.poly_exception)


# ---- cancel ---------------------------------------------------------------------------------


def test_cancel_sends_the_order_id_and_reports_a_cancelled_order(exchange, venue):
    venue.on("DELETE", "/order", ok({"canceled": ["0xaaa"], "not_canceled": {}}))
    ack = exchange.cancel_order("0xaaa")
    assert ack.canceled is True and ack.reason == ""
    assert json.loads(venue.seen("DELETE", "/order")[0].content) == {"orderID": "0xaaa"}


def test_cancel_that_lost_the_race_to_a_fill_carries_the_venue_reason(exchange, venue):
    reason = "order can't be found - already canceled or matched"
    venue.on("DELETE", "/order", ok({"canceled": [], "not_canceled": {"0xbbb": reason}}))
    ack = exchange.cancel_order("0xbbb")
    assert ack.canceled is False and ack.reason == reason


def test_timeout_on_cancel_is_outcome_unknown_with_the_order_id(exchange, venue):
    venue.on("DELETE", "/order", timeout)
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.cancel_order("0xccc")
    assert assert_mapped(excinfo, OutcomeUnknown).order_id == "0xccc"


def test_malformed_cancel_answer_is_outcome_unknown(exchange, venue):
    venue.on("DELETE", "/order", ok(["0xddd"]))
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.cancel_order("0xddd")
    assert_mapped(excinfo, OutcomeUnknown)


# ---- order reads ------------------------------------------------------------------------------


def test_get_order_maps_a_cancelled_order_that_had_partly_matched(exchange, venue):
    raw = order_object(status="CANCELED", size_matched="4.95", associate_trades=["t-1"])
    venue.on("GET", "/data/order/0xaaa", ok(raw))
    snapshot = exchange.get_order("0xaaa")
    assert snapshot.status == "CANCELED" and snapshot.size_matched == Decimal("4.95")
    assert snapshot.original_size == Decimal("10.5") and snapshot.price == Decimal("0.57")
    assert snapshot.side is Side.BUY and snapshot.associate_trades == ("t-1",)
    assert not snapshot.is_open


def test_404_on_get_order_for_a_matched_order_is_none(exchange, venue):
    venue.on("GET", "/data/order/0xaaa", httpx.Response(404, json={"error": "order not found"}))
    assert exchange.get_order("0xaaa") is None


@pytest.mark.parametrize("body", [b"null", b"", b"{}"])
def test_null_or_empty_body_on_get_order_is_none(exchange, venue, body):
    venue.on("GET", "/data/order/0xaaa", httpx.Response(200, content=body))
    assert exchange.get_order("0xaaa") is None


def test_timeout_on_a_read_is_transient_because_nothing_was_applied(exchange, venue):
    venue.on("GET", "/data/order/0xaaa", timeout)
    with pytest.raises(Transient) as excinfo:
        exchange.get_order("0xaaa")
    assert_mapped(excinfo, Transient)


def test_open_orders_follow_the_cursor_until_lte(exchange, venue):
    pages = {"MA==": ([order_object("0x1")], "MQ=="), "MQ==": ([order_object("0x2")], "LTE=")}

    def page(request):
        data, cursor = pages[request.url.params["next_cursor"]]
        return ok({"data": data, "next_cursor": cursor, "limit": 1, "count": 1})

    venue.on("GET", "/data/orders", page)
    orders = exchange.open_orders(TOKEN_UP)
    assert [o.order_id for o in orders] == ["0x1", "0x2"]
    assert all(r.url.params["asset_id"] == TOKEN_UP for r in venue.seen("GET", "/data/orders"))


def test_malformed_page_of_open_orders_is_transient(exchange, venue):
    venue.on("GET", "/data/orders", ok({"data": [order_object()]}))  # no next_cursor
    with pytest.raises(Transient) as excinfo:
        exchange.open_orders()
    assert isinstance(assert_mapped(excinfo, Transient).__cause__, KeyError)


def test_trades_follow_the_cursor_and_map_maker_fills(exchange, venue):
    pages = {"MA==": ([trade_object("t-1")], "MQ=="), "MQ==": ([trade_object("t-2", status="FAILED")], "LTE=")}

    def page(request):
        data, cursor = pages[request.url.params["next_cursor"]]
        return ok({"data": data, "next_cursor": cursor})

    venue.on("GET", "/data/trades", page)
    first, second = exchange.trades(TOKEN_UP)
    assert (first.trade_id, second.trade_id) == ("t-1", "t-2")
    assert first.side is Side.SELL and first.match_time == 1700000123
    assert first.fill_of("0xmine").size == Decimal("4.95")
    assert second.is_void
    for request in venue.seen("GET", "/data/trades"):
        assert request.url.params["asset_id"] == TOKEN_UP
        assert request.url.params["maker_address"] == ADDRESS


# ---- notifications, balance, book, market -----------------------------------------------------


def test_notifications_of_each_type_map_and_unexpected_payloads_never_crash(exchange, venue):
    venue.on(
        "GET",
        "/notifications",
        ok(
            [
                {
                    "id": "1",
                    "type": 1,
                    "owner": API_KEY,
                    "payload": {
                        "order_id": "0xa",
                        "asset_id": TOKEN_UP,
                        "market": MARKET,
                        "side": "BUY",
                        "price": "0.57",
                        "original_size": "10.5",
                        "size_matched": "4.95",
                    },
                },
                {
                    "id": "2",
                    "type": 2,
                    "owner": API_KEY,
                    "payload": {
                        "order_id": "0xa",
                        "trade_id": "t-1",
                        "asset_id": TOKEN_UP,
                        "market": MARKET,
                        "side": "BUY",
                        "price": "0.57",
                        "size": "4.95",
                        "status": "matched",
                        "surprise": {"nested": True},
                    },
                },
                {
                    "id": "3",
                    "type": 4,
                    "owner": API_KEY,
                    "payload": {"market": MARKET, "winning_asset_id": TOKEN_DOWN},
                },
                {"id": "4", "type": 7, "owner": API_KEY, "payload": {"whatever": 1}},
                {"id": 5, "type": "2", "payload": {"size": "not a number", "price": None, "order_id": ["x"]}},
                {"id": "6", "type": None, "payload": "{not json"},
                "garbage entry",
            ]
        ),
    )
    cancel, fill, resolved, other, sloppy, typeless = exchange.notifications()
    assert cancel.kind is NotificationKind.CANCEL and cancel.size_matched == Decimal("4.95")
    assert cancel.order_id == "0xa" and cancel.size == Decimal("10.5")
    assert fill.kind is NotificationKind.FILL and fill.trade_id == "t-1"
    assert fill.size == Decimal("4.95") and fill.price == Decimal("0.57") and fill.status == "MATCHED"
    assert resolved.kind is NotificationKind.RESOLVED and resolved.winning_asset_id == TOKEN_DOWN
    assert resolved.market == MARKET
    assert other.kind is NotificationKind.OTHER and other.notification_id == "4"
    assert sloppy.notification_id == "5" and sloppy.kind is NotificationKind.FILL
    assert sloppy.size == Decimal("0") and sloppy.price == Decimal("0") and sloppy.order_id == ""
    assert typeless.kind is NotificationKind.OTHER


def test_drop_notifications_sends_the_ids(exchange, venue):
    venue.on("DELETE", "/notifications", ok(None))
    exchange.drop_notifications(["11", "12"])
    (request,) = venue.seen("DELETE", "/notifications")
    assert request.url.params["ids"] == "11,12"


def test_dropping_nothing_sends_nothing(exchange, venue):
    exchange.drop_notifications([])
    assert venue.requests == []


def test_timeout_on_drop_notifications_is_outcome_unknown(exchange, venue):
    venue.on("DELETE", "/notifications", timeout)
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.drop_notifications(["11"])
    assert_mapped(excinfo, OutcomeUnknown)


def test_balance_converts_base_units_for_collateral_and_conditional_tokens(client, exchange, venue):
    def balance(request):
        amount = "10500000" if request.url.params["asset_type"] == "CONDITIONAL" else "250000000"
        return ok({"balance": amount, **client.balance_extra})

    venue.on("GET", "/balance-allowance", balance)
    assert exchange.balance(TOKEN_UP) == Decimal("10.5")
    assert exchange.balance() == Decimal("250")
    conditional, collateral = venue.seen("GET", "/balance-allowance")
    assert conditional.url.params["token_id"] == TOKEN_UP
    assert "token_id" not in collateral.url.params
    assert collateral.url.params["asset_type"] == "COLLATERAL"


def test_book_top_is_the_highest_bid_and_the_lowest_ask(exchange, venue):
    # the venue lists bids ascending and asks descending: the best of each side comes last
    # (V1's client hands out an OrderBookSummary, V2's a dict)
    venue.on("GET", "/book", ok(book_object(["0.40", "0.45"], ["0.60", "0.55"])))
    top = exchange.book(TOKEN_UP)
    assert (top.best_bid, top.best_ask) == (Decimal("0.45"), Decimal("0.55"))


def test_book_side_without_orders_is_none(exchange, venue):
    venue.on("GET", "/book", ok(book_object(["0.40"], [])))
    top = exchange.book(TOKEN_UP)
    assert top.best_bid == Decimal("0.40") and top.best_ask is None


def test_resolution_names_the_winning_token_of_a_closed_market(exchange, venue):
    venue.on("GET", f"/markets/{MARKET}", ok(market_object(closed=True, up_wins=False)))
    resolution = exchange.resolution(MARKET)
    assert resolution.closed and resolution.winning_token_id == TOKEN_DOWN
    assert resolution.market == MARKET


def test_open_market_has_no_winner_yet(exchange, venue):
    venue.on("GET", f"/markets/{MARKET}", ok(market_object(closed=False, up_wins=None)))
    resolution = exchange.resolution(MARKET)
    assert not resolution.closed and resolution.winning_token_id is None


def test_unknown_market_is_not_found(exchange, venue):
    with pytest.raises(NotFound) as excinfo:
        exchange.resolution("0xnope")
    assert assert_mapped(excinfo, NotFound).status == 404


def test_other_4xx_on_a_read_is_rejected_with_the_venue_message(exchange, venue):
    venue.on("GET", "/balance-allowance", httpx.Response(401, json={"error": "Unauthorized/Invalid api key"}))
    with pytest.raises(Rejected) as excinfo:
        exchange.balance()
    assert assert_mapped(excinfo, Rejected).message == "Unauthorized/Invalid api key"


# ---- nothing third-party escapes -----------------------------------------------------------------

READ_CALLS = {
    "get_order": lambda ex: ex.get_order("0xaaa"),
    "open_orders": lambda ex: ex.open_orders(),
    "trades": lambda ex: ex.trades(),
    "notifications": lambda ex: ex.notifications(),
    "balance": lambda ex: ex.balance(TOKEN_UP),
    "book": lambda ex: ex.book(TOKEN_UP),
    "resolution": lambda ex: ex.resolution(MARKET),
}


@pytest.mark.parametrize("call", sorted(READ_CALLS))
@pytest.mark.parametrize(
    "answer, kind",
    [
        (httpx.Response(200, json="just a string"), Transient),
        (httpx.Response(200, json={"unexpected": "object"}), Transient),
        (httpx.Response(502, text="<html><title>502 Bad Gateway</title></html>"), Transient),
        (httpx.Response(429, json={"error": "rate limited", "code": "rate_limited"}), Transient),
        (httpx.Response(400, json={"error": "bad request"}), Rejected),
    ],
    ids=["string", "object", "502-html", "429-code", "400"],
)
def test_every_read_maps_bad_answers_to_core_errors_with_a_cause(exchange, venue, call, answer, kind):
    for method, path in [
        ("GET", "/data/order/0xaaa"),
        ("GET", "/data/orders"),
        ("GET", "/data/trades"),
        ("GET", "/notifications"),
        ("GET", "/balance-allowance"),
        ("GET", "/book"),
        ("GET", f"/markets/{MARKET}"),
    ]:
        venue.on(method, path, answer)
    with pytest.raises(ExchangeError) as excinfo:
        READ_CALLS[call](exchange)
    assert_mapped(excinfo, kind)
