"""The adapter against the REAL py-clob-client-v2 (core's default client), its HTTP routed in-process.

py-clob-client-v2 sends every request through the module global
``py_clob_client_v2.http_helpers.helpers._http_client``, as V1 does; the ``venue`` fixture swaps it
for an ``httpx.Client`` over a MockTransport. The scripted answers and the helpers building order,
trade, book and market objects are tests/test_clob_adapter.py's (the shapes did not change); what
differs under V2 is tested here: the order struct and id, the /version route, cancel_order(payload),
get_open_orders, the book as a dict, FAK answers with tradeIDs, the `code` field and the V2
exception family.
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from eth_account import Account
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import ApiCreds
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.exceptions import PolyApiException, PolyException
from py_clob_client_v2.http_helpers import helpers
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.signer import Signer

from clobsim.core.clob_adapter import ClobExchange
from clobsim.core.config import CLOB_CLIENT_V2
from clobsim.core.errors import ExchangeError, NotFound, OutcomeUnknown, Rejected, Transient
from clobsim.core.model import NotificationKind, PlaceOrder, Side
from clobsim.sim.exchange import orderid
from tests.test_clob_adapter import (
    ADDRESS,
    CHAIN_ID,
    CREDS,
    HOST,
    MARKET,
    PRIVATE_KEY,
    TOKEN_DOWN,
    TOKEN_UP,
    assert_mapped,
    book_object,
    market_object,
    ok,
    order_object,
    timeout,
    trade_object,
)

V2_CREDS = ApiCreds(api_key=CREDS.api_key, api_secret=CREDS.api_secret, api_passphrase=CREDS.api_passphrase)


def venue_order_id(order: dict, neg_risk: bool = False) -> str:
    """What the simulated venue does: rebuild the V2 digest from the posted JSON."""
    return orderid.order_id(order, CHAIN_ID, neg_risk, "v2")


class Venue:
    """Scripted V2 CLOB: routes (method, path) to answers and records every request it saw."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.routes = {
            ("GET", "/version"): lambda req: ok({"version": 2}),
            ("GET", "/tick-size"): lambda req: ok({"minimum_tick_size": "0.01"}),
            ("GET", "/neg-risk"): lambda req: ok({"neg_risk": False}),
            ("POST", "/order"): self.accept_order("live"),
        }

    def on(self, method: str, path: str, answer) -> None:
        self.routes[(method, path)] = answer if callable(answer) else (lambda req: answer)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json={"error": "no route"})
        return route(request)

    def seen(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    @staticmethod
    def accept_order(status: str, making: str = "", taking: str = "", trade_ids=()):
        def answer(request):
            body = json.loads(request.content)
            return ok(
                {
                    "success": True,
                    "errorMsg": "",
                    "orderID": venue_order_id(body["order"]),
                    "transactionsHashes": [],
                    "tradeIDs": list(trade_ids),
                    "status": status,
                    "makingAmount": making,
                    "takingAmount": taking,
                }
            )

        return answer


@pytest.fixture
def venue(monkeypatch):
    venue = Venue()
    client = httpx.Client(transport=httpx.MockTransport(venue.handle))
    monkeypatch.setattr(helpers, "_http_client", client)  # monkeypatch restores the original
    yield venue
    client.close()


@pytest.fixture
def exchange(venue) -> ClobExchange:
    return ClobExchange(ClobClient(HOST, chain_id=CHAIN_ID, key=PRIVATE_KEY, creds=V2_CREDS))


def buy(price="0.57", size="10.50", **kw) -> PlaceOrder:
    return PlaceOrder(token_id=TOKEN_UP, side=Side.BUY, price=Decimal(price), size=Decimal(size), **kw)


def test_the_adapter_knows_it_drives_py_clob_client_v2(exchange):
    assert exchange.client_name == CLOB_CLIENT_V2


# ---- prepare and post ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["live", "matched", "delayed"])
def test_prepare_and_post_returns_the_venue_status_and_the_locally_known_id(exchange, venue, status):
    venue.on("POST", "/order", Venue.accept_order(status, making="5.985", taking="10.5"))
    prepared = exchange.prepare_order(buy())
    placement = exchange.post_order(prepared)
    assert placement.order_id == prepared.order_id
    assert placement.status == status
    assert placement.making_amount == Decimal("5.985")
    assert placement.taking_amount == Decimal("10.5")
    body = json.loads(venue.seen("POST", "/order")[0].content)
    assert body["orderType"] == "GTC" and body["postOnly"] is False and body["owner"] == CREDS.api_key
    assert body["deferExec"] is False
    order = body["order"]
    assert order["side"] == "BUY" and order["takerAmount"] == "10500000" and order["makerAmount"] == "5985000"
    # the V2 struct: no taker, nonce or feeRateBps; timestamp, metadata and builder instead
    assert not {"taker", "nonce", "feeRateBps"} & set(order)
    assert {"timestamp", "metadata", "builder", "expiration", "signature"} <= set(order)


@pytest.mark.parametrize("neg_risk", [False, True], ids=["standard", "neg-risk"])
def test_local_order_id_is_the_v2_digest_the_client_signs_and_the_venue_derives(exchange, venue, neg_risk):
    prepared = exchange.prepare_order(buy(neg_risk=neg_risk))
    config = get_contract_config(CHAIN_ID)
    contract = config.neg_risk_exchange_v2 if neg_risk else config.exchange_v2
    hasher = ExchangeOrderBuilderV2(contract, CHAIN_ID, Signer(PRIVATE_KEY, CHAIN_ID))
    assert prepared.order_id == hasher.build_order_hash(hasher.build_order_typed_data(prepared.signed))
    signature = bytes.fromhex(prepared.signed.signature[2:])
    assert Account._recover_hash(bytes.fromhex(prepared.order_id[2:]), signature=signature) == ADDRESS
    exchange.post_order(prepared)
    posted = json.loads(venue.seen("POST", "/order")[0].content)["order"]
    assert venue_order_id(posted, neg_risk) == prepared.order_id


def test_client_asks_tick_size_and_version_once_and_neither_neg_risk_nor_fee_rate(exchange, venue):
    exchange.prepare_order(buy(neg_risk=False))
    exchange.prepare_order(buy(neg_risk=False))
    # V2 orders carry no feeRateBps (fees are set at match time), so /fee-rate is never asked;
    # unlike V1 the client takes neg_risk=False as given; tick size and version are cached
    assert [r.url.path for r in venue.requests] == ["/tick-size", "/version"]


def test_sizes_the_client_would_floor_a_cent_below_are_signed_exactly(exchange, venue):
    exchange.post_order(exchange.prepare_order(buy(size="4.35")))
    sell = PlaceOrder(token_id=TOKEN_UP, side=Side.SELL, price=Decimal("0.99"), size=Decimal("0.29"))
    exchange.post_order(exchange.prepare_order(sell))
    first, second = (json.loads(r.content)["order"] for r in venue.seen("POST", "/order"))
    assert first["takerAmount"] == "4350000"
    assert second["side"] == "SELL" and second["makerAmount"] == "290000"


def test_post_only_gtd_order_is_posted_with_its_type_flag_and_unsigned_expiration(exchange, venue):
    exchange.post_order(exchange.prepare_order(buy(order_type="GTD", post_only=True, expiration=1_900_000_000)))
    body = json.loads(venue.seen("POST", "/order")[0].content)
    assert body["orderType"] == "GTD" and body["postOnly"] is True
    assert body["order"]["expiration"] == "1900000000"


@pytest.mark.parametrize("tick", ["0.005", "0.0025"])
def test_the_tick_sizes_v2_added_are_accepted(exchange, venue, tick):
    venue.on("GET", "/tick-size", ok({"minimum_tick_size": tick}))
    prepared = exchange.prepare_order(buy(price="0.505", tick_size=tick))
    assert prepared.signed.makerAmount == "5302500"  # 10.5 x 0.505, not rounded to the cent


def test_fak_answer_with_trade_ids_is_placed_once_the_clients_trade_polling_resolves(exchange, venue):
    venue.on("POST", "/order", Venue.accept_order("matched", making="5.985", taking="10.5", trade_ids=["t-1"]))
    venue.on(
        "GET",
        "/data/trades",
        lambda req: ok({"data": [trade_object("t-1", transaction_hash="0xfeed")], "next_cursor": "LTE="}),
    )
    prepared = exchange.prepare_order(buy(order_type="FAK"))
    placement = exchange.post_order(prepared)
    assert placement.order_id == prepared.order_id and placement.status == "matched"
    (poll,) = venue.seen("GET", "/data/trades")
    assert poll.url.params["id"] == "t-1"


def test_venue_order_id_is_preferred_when_it_differs_from_the_local_one(exchange, venue):
    answer = {"success": True, "errorMsg": "", "orderID": "0xvenue", "status": "live", "makingAmount": ""}
    venue.on("POST", "/order", ok(answer))
    placement = exchange.post_order(exchange.prepare_order(buy()))
    assert placement.order_id == "0xvenue"
    assert placement.making_amount == Decimal("0")


def test_post_answered_200_with_an_error_message_is_rejected(exchange, venue):
    answer = {"success": False, "errorMsg": "invalid post-only order: order crosses book", "orderID": ""}
    venue.on("POST", "/order", ok(answer))
    prepared = exchange.prepare_order(buy(post_only=True))
    with pytest.raises(Rejected) as excinfo:
        exchange.post_order(prepared)
    assert excinfo.value.message == "invalid post-only order: order crosses book"
    assert excinfo.value.order_id == prepared.order_id


def test_order_version_mismatch_is_rejected_and_the_client_refreshes_its_version(exchange, venue):
    venue.on("POST", "/order", httpx.Response(400, json={"error": "order_version_mismatch"}))
    prepared = exchange.prepare_order(buy())
    with pytest.raises(Rejected) as excinfo:
        exchange.post_order(prepared)
    err = assert_mapped(excinfo, Rejected)
    assert err.message == "order_version_mismatch" and err.status == 400 and err.order_id == prepared.order_id
    assert isinstance(err.__cause__, PolyApiException)


def test_timeout_on_post_is_outcome_unknown_with_the_local_order_id_and_no_retry(exchange, venue):
    venue.on("POST", "/order", timeout)
    prepared = exchange.prepare_order(buy())
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.post_order(prepared)
    err = assert_mapped(excinfo, OutcomeUnknown)
    assert err.order_id == prepared.order_id and err.status is None
    assert isinstance(err.__cause__, PolyApiException) and err.__cause__.status_code is None
    # retry_on_error is off by default: the client posts once, behind nobody's back
    assert len(venue.seen("POST", "/order")) == 1


def test_connection_drop_on_post_is_outcome_unknown(exchange, venue):
    def drop(request):
        raise httpx.RemoteProtocolError("server disconnected", request=request)

    venue.on("POST", "/order", drop)
    prepared = exchange.prepare_order(buy())
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.post_order(prepared)
    assert assert_mapped(excinfo, OutcomeUnknown).order_id == prepared.order_id


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_gateway_timeout_on_a_v2_post_may_have_been_applied_and_carries_the_local_order_id(exchange, venue, status):
    venue.on("POST", "/order", httpx.Response(status, json={"error": "order timed out"}))
    prepared = exchange.prepare_order(buy())
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.post_order(prepared)
    err = assert_mapped(excinfo, OutcomeUnknown)
    assert err.status == status and err.order_id == prepared.order_id


@pytest.mark.parametrize("status", [425, 429, 503])
def test_engine_restart_rate_limit_and_unavailable_on_post_are_transient(exchange, venue, status):
    venue.on("POST", "/order", httpx.Response(status, json={"error": "try later"}))
    with pytest.raises(Transient) as excinfo:
        exchange.post_order(exchange.prepare_order(buy()))
    err = assert_mapped(excinfo, Transient)
    assert err.status == status and err.message == "try later"


def test_post_only_mode_503_names_its_code_so_the_bot_can_switch_to_post_only(exchange, venue):
    body = {"error": "the matching engine is restarting", "code": "post_only_mode"}
    venue.on("POST", "/order", httpx.Response(503, json=body, headers={"Retry-After": "30"}))
    with pytest.raises(Transient) as excinfo:
        exchange.post_order(exchange.prepare_order(buy()))
    err = assert_mapped(excinfo, Transient)
    assert err.status == 503
    assert err.message == "the matching engine is restarting (code post_only_mode)"
    # the client raises PolyApiException(resp) and keeps only status and body: the header is lost
    assert err.retry_after is None


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
def test_price_outside_tick_and_one_minus_tick_is_rejected_locally(exchange, venue, price):
    with pytest.raises(Rejected) as excinfo:
        exchange.prepare_order(buy(price=price))
    err = assert_mapped(excinfo, Rejected)
    assert isinstance(err.__cause__, PolyException)
    assert err.message == f"invalid price ({float(price)}), min: 0.01 - max: 0.99"
    assert err.status is None


def test_tick_size_finer_than_the_market_allows_is_rejected_locally(exchange, venue):
    with pytest.raises(Rejected) as excinfo:
        exchange.prepare_order(buy(tick_size="0.001"))
    assert "invalid tick size" in assert_mapped(excinfo, Rejected).message


def test_post_only_fak_is_rejected_before_anything_is_sent(exchange, venue):
    with pytest.raises(Rejected) as excinfo:
        exchange.prepare_order(buy(order_type="FAK", post_only=True))
    assert "GTC or GTD" in excinfo.value.message
    assert venue.requests == []


def test_timeout_while_the_client_resolves_the_tick_size_is_transient(exchange, venue):
    venue.on("GET", "/tick-size", timeout)
    with pytest.raises(Transient) as excinfo:
        exchange.prepare_order(buy())
    assert_mapped(excinfo, Transient)


def test_missing_api_credentials_are_rejected_not_crashed(venue):
    exchange = ClobExchange(ClobClient(HOST, chain_id=CHAIN_ID, key=PRIVATE_KEY))
    with pytest.raises(Rejected) as excinfo:
        exchange.open_orders()
    err = assert_mapped(excinfo, Rejected)
    assert "Credentials" in err.message and isinstance(err.__cause__, PolyException)


# ---- cancel ---------------------------------------------------------------------------------


def test_cancel_sends_the_order_payload_and_reports_a_cancelled_order(exchange, venue):
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


@pytest.mark.parametrize("status", ["CANCELED_NOT_ENOUGH_BALANCE", "EXPIRED_ORDER", "ORDER_TIMED_OUT"])
def test_get_order_maps_each_way_the_v2_operator_ends_an_order_as_no_longer_open(exchange, venue, status):
    venue.on("GET", "/data/order/0xaaa", ok(order_object(status=status, size_matched="4.95")))
    snapshot = exchange.get_order("0xaaa")
    assert (snapshot.status, snapshot.size_matched, snapshot.is_open) == (status, Decimal("4.95"), False)


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


def test_a_matched_not_broadcasted_trade_is_a_fill_until_it_fails(exchange, venue):
    trades = [trade_object("t-1", status="MATCHED_NOT_BROADCASTED"), trade_object("t-2", status="FAILED")]
    venue.on("GET", "/data/trades", ok({"data": trades, "next_cursor": "LTE="}))
    pending, failed = exchange.trades(TOKEN_UP)
    assert (pending.status, pending.is_void, pending.fill_of("0xmine").size) == (
        "MATCHED_NOT_BROADCASTED",
        False,
        Decimal("4.95"),
    )
    assert (failed.status, failed.is_void) == ("FAILED", True)


# ---- notifications, balance, book, market -----------------------------------------------------


def test_notifications_map_by_type_and_the_client_sends_its_signature_type(exchange, venue):
    fill = {"order_id": "0xa", "trade_id": "t-1", "asset_id": TOKEN_UP, "price": "0.57", "size": "4.95"}
    venue.on(
        "GET",
        "/notifications",
        ok(
            [
                {"id": "1", "type": 1, "payload": {"order_id": "0xa", "original_size": "10.5", "size_matched": "4.95"}},
                {"id": "2", "type": 2, "payload": {**fill, "status": "matched", "timestamp": 1700000000}},
                {"id": "3", "type": 4, "payload": {"market": MARKET, "winning_asset_id": TOKEN_DOWN}},
                # V2's order fill failed, in production's order shape (sizes of the order, no status)
                {"id": "4", "type": 8, "payload": {"order_id": "0xa", "trade_id": "t-1", "matched_size": "4.95"}},
            ]
        ),
    )
    cancel, filled, resolved, failed = exchange.notifications()
    assert cancel.kind is NotificationKind.CANCEL and cancel.size == Decimal("10.5")
    assert filled.kind is NotificationKind.FILL and filled.trade_id == "t-1" and filled.status == "MATCHED"
    assert resolved.kind is NotificationKind.RESOLVED and resolved.winning_asset_id == TOKEN_DOWN
    assert failed.kind is NotificationKind.FILL_FAILED and (failed.order_id, failed.trade_id) == ("0xa", "t-1")
    assert venue.seen("GET", "/notifications")[0].url.params["signature_type"] == "0"


def test_drop_notifications_sends_the_ids(exchange, venue):
    venue.on("DELETE", "/notifications", ok(None))
    exchange.drop_notifications(["11", "12"])
    (request,) = venue.seen("DELETE", "/notifications")
    assert request.url.params["ids"] == "11,12"


def test_timeout_on_drop_notifications_is_outcome_unknown(exchange, venue):
    venue.on("DELETE", "/notifications", timeout)
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.drop_notifications(["11"])
    assert_mapped(excinfo, OutcomeUnknown)


def test_balance_converts_base_units_and_reads_the_v2_allowances_shape(exchange, venue):
    def balance(request):
        amount = "10500000" if request.url.params["asset_type"] == "CONDITIONAL" else "250000000"
        return ok({"balance": amount, "allowances": {"0xexchange": "115792089237316195423570985008687907853"}})

    venue.on("GET", "/balance-allowance", balance)
    assert exchange.balance(TOKEN_UP) == Decimal("10.5")
    assert exchange.balance() == Decimal("250")
    conditional, collateral = venue.seen("GET", "/balance-allowance")
    assert conditional.url.params["token_id"] == TOKEN_UP
    assert "token_id" not in collateral.url.params
    assert collateral.url.params["asset_type"] == "COLLATERAL"


def test_book_top_from_the_dict_the_v2_client_hands_out(exchange, venue):
    venue.on("GET", "/book", ok(book_object(["0.40", "0.45"], ["0.60", "0.55"])))
    top = exchange.book(TOKEN_UP)
    assert (top.best_bid, top.best_ask) == (Decimal("0.45"), Decimal("0.55"))


def test_resolution_names_the_winning_token_of_a_closed_market(exchange, venue):
    venue.on("GET", f"/markets/{MARKET}", ok(market_object(closed=True, up_wins=False)))
    resolution = exchange.resolution(MARKET)
    assert resolution.closed and resolution.winning_token_id == TOKEN_DOWN


def test_unknown_market_is_not_found(exchange, venue):
    with pytest.raises(NotFound) as excinfo:
        exchange.resolution("0xnope")
    assert assert_mapped(excinfo, NotFound).status == 404


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
