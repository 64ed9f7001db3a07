"""The adapter against the REAL py-clob-client, its HTTP routed in-process to a scripted venue.

py-clob-client sends every request through the module global
``py_clob_client.http_helpers.helpers._http_client``; the ``venue`` fixture swaps it for an
``httpx.Client`` over a MockTransport and puts the original back afterwards. Answers follow
clob-reference.md and docs/venue-shapes.md.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import httpx
import pytest
from eth_account import Account
from py_clob_client.client import ClobClient
from py_clob_client.clob_types import ApiCreds
from py_clob_client.config import get_contract_config
from py_clob_client.exceptions import PolyApiException
from py_clob_client.http_helpers import helpers
from py_order_utils.builders import OrderBuilder as UtilsOrderBuilder
from py_order_utils.model.order import Order
from py_order_utils.signer import Signer as UtilsSigner

from clobsim.core.clob_adapter import ClobExchange
from clobsim.core.errors import ExchangeError, NotFound, OutcomeUnknown, Rejected, Transient
from clobsim.core.model import NotificationKind, PlaceOrder, Side

HOST = "https://clob.test"
CHAIN_ID = 137
PRIVATE_KEY = "0x" + "11" * 32
ADDRESS = Account.from_key(PRIVATE_KEY).address
CREDS = ApiCreds(
    api_key="test-api-key",
    api_secret=base64.urlsafe_b64encode(bytes(range(32))).decode(),
    api_passphrase="test-passphrase",
)
TOKEN_UP = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
TOKEN_DOWN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
MARKET = "0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1"


def order_id_from_wire(order: dict, neg_risk: bool = False) -> str:
    """What a venue does: rebuild the EIP-712 struct from the posted JSON and hash it."""
    struct = Order(
        salt=int(order["salt"]),
        maker=order["maker"],
        signer=order["signer"],
        taker=order["taker"],
        tokenId=int(order["tokenId"]),
        makerAmount=int(order["makerAmount"]),
        takerAmount=int(order["takerAmount"]),
        expiration=int(order["expiration"]),
        nonce=int(order["nonce"]),
        feeRateBps=int(order["feeRateBps"]),
        side=0 if order["side"] == "BUY" else 1,
        signatureType=int(order["signatureType"]),
    )
    builder = UtilsOrderBuilder(get_contract_config(CHAIN_ID, neg_risk).exchange, CHAIN_ID, UtilsSigner(PRIVATE_KEY))
    return builder._create_struct_hash(struct)


class Venue:
    """Scripted CLOB: routes (method, path) to answers and records every request it saw."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.routes = {
            ("GET", "/tick-size"): lambda req: ok({"minimum_tick_size": "0.01"}),
            ("GET", "/fee-rate"): lambda req: ok({"base_fee": 0}),
            ("GET", "/neg-risk"): lambda req: ok({"neg_risk": False}),
            ("POST", "/order"): self.accept_order("live"),
        }

    def on(self, method: str, path: str, answer) -> None:
        """answer: a callable(request) -> httpx.Response, or a fixed httpx.Response."""
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
    def accept_order(status: str, making: str = "", taking: str = ""):
        def answer(request):
            body = json.loads(request.content)
            return ok(
                {
                    "success": True,
                    "errorMsg": "",
                    "orderID": order_id_from_wire(body["order"]),
                    "transactionsHashes": [],
                    "status": status,
                    "makingAmount": making,
                    "takingAmount": taking,
                }
            )

        return answer


def ok(body) -> httpx.Response:
    return httpx.Response(200, json=body)


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.fixture
def venue(monkeypatch):
    venue = Venue()
    client = httpx.Client(transport=httpx.MockTransport(venue.handle))
    monkeypatch.setattr(helpers, "_http_client", client)  # monkeypatch restores the original
    yield venue
    client.close()


@pytest.fixture
def exchange(venue) -> ClobExchange:
    return ClobExchange(ClobClient(HOST, chain_id=CHAIN_ID, key=PRIVATE_KEY, creds=CREDS))


def buy(price="0.57", size="10.50", **kw) -> PlaceOrder:
    return PlaceOrder(token_id=TOKEN_UP, side=Side.BUY, price=Decimal(price), size=Decimal(size), **kw)


def assert_mapped(excinfo, kind) -> ExchangeError:
    """The error is core's own kind and chained to the third-party exception it came from."""
    err = excinfo.value
    assert type(err) is kind
    assert err.__cause__ is not None
    assert not isinstance(err.__cause__, ExchangeError)
    assert "\n" not in err.message
    return err


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
    assert body["order"]["side"] == "BUY" and body["order"]["takerAmount"] == "10500000"


def test_local_order_id_equals_the_struct_hash_py_order_utils_computes_and_signs(exchange):
    prepared = exchange.prepare_order(buy())
    signed = prepared.signed
    builder = UtilsOrderBuilder(get_contract_config(CHAIN_ID).exchange, CHAIN_ID, UtilsSigner(PRIVATE_KEY))
    assert prepared.order_id == builder._create_struct_hash(signed.order)
    assert len(prepared.order_id) == 66 and prepared.order_id.startswith("0x")
    assert (
        Account._recover_hash(bytes.fromhex(prepared.order_id[2:]), signature=bytes.fromhex(signed.signature[2:]))
        == ADDRESS
    )


def test_neg_risk_order_is_hashed_for_the_neg_risk_exchange_without_asking_the_venue(exchange, venue):
    prepared = exchange.prepare_order(buy(neg_risk=True))
    builder = UtilsOrderBuilder(get_contract_config(CHAIN_ID, True).exchange, CHAIN_ID, UtilsSigner(PRIVATE_KEY))
    assert prepared.order_id == builder._create_struct_hash(prepared.signed.order)
    assert venue.seen("GET", "/neg-risk") == []


def test_client_still_asks_tick_size_and_fee_rate_and_neg_risk_when_neg_risk_is_false(exchange, venue):
    exchange.prepare_order(buy(neg_risk=False))
    assert [r.url.path for r in venue.requests] == ["/tick-size", "/neg-risk", "/fee-rate"]


def test_sizes_the_client_would_floor_a_cent_below_are_signed_exactly(exchange, venue):
    # py-clob-client floors size*100 in floats: 4.35 alone would be signed as 4.34 shares.
    exchange.post_order(exchange.prepare_order(buy(size="4.35")))
    sell = PlaceOrder(token_id=TOKEN_UP, side=Side.SELL, price=Decimal("0.99"), size=Decimal("0.29"))
    exchange.post_order(exchange.prepare_order(sell))
    first, second = (json.loads(r.content)["order"] for r in venue.seen("POST", "/order"))
    assert first["takerAmount"] == "4350000"
    assert second["side"] == "SELL" and second["makerAmount"] == "290000"


def test_post_only_gtd_order_is_posted_with_its_type_and_flag(exchange, venue):
    exchange.post_order(exchange.prepare_order(buy(order_type="GTD", post_only=True, expiration=1_900_000_000)))
    body = json.loads(venue.seen("POST", "/order")[0].content)
    assert body["orderType"] == "GTD" and body["postOnly"] is True
    assert body["order"]["expiration"] == "1900000000"


def test_venue_order_id_is_preferred_when_it_differs_from_the_local_one(exchange, venue):
    venue.on(
        "POST",
        "/order",
        ok(
            {
                "success": True,
                "errorMsg": "",
                "orderID": "0xvenue",
                "status": "live",
                "makingAmount": "",
                "takingAmount": "",
            }
        ),
    )
    placement = exchange.post_order(exchange.prepare_order(buy()))
    assert placement.order_id == "0xvenue"
    assert placement.making_amount == Decimal("0")


def test_post_answered_200_with_an_error_message_is_rejected(exchange, venue):
    venue.on(
        "POST",
        "/order",
        ok({"success": False, "errorMsg": "invalid post-only order: order crosses book", "orderID": "", "status": ""}),
    )
    prepared = exchange.prepare_order(buy(post_only=True))
    with pytest.raises(Rejected) as excinfo:
        exchange.post_order(prepared)
    assert excinfo.value.message == "invalid post-only order: order crosses book"
    assert excinfo.value.order_id == prepared.order_id


def test_timeout_on_post_is_outcome_unknown_with_the_local_order_id(exchange, venue):
    venue.on("POST", "/order", timeout)
    prepared = exchange.prepare_order(buy())
    with pytest.raises(OutcomeUnknown) as excinfo:
        exchange.post_order(prepared)
    err = assert_mapped(excinfo, OutcomeUnknown)
    assert err.order_id == prepared.order_id and err.status is None
    assert isinstance(err.__cause__, PolyApiException) and err.__cause__.status_code is None
    assert len(venue.seen("POST", "/order")) == 1  # no retry behind the caller's back


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
    venue.on("DELETE", "/order", httpx.Response(status, text="unavailable"))
    with pytest.raises(Transient) as excinfo:
        exchange.cancel_order("0xabc")
    assert assert_mapped(excinfo, Transient).status == status


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
    assert err.message.startswith(f"price ({float(price)}), min: 0.01")
    assert err.status is None


def test_tick_size_finer_than_the_market_allows_is_rejected_locally(exchange, venue):
    with pytest.raises(Rejected) as excinfo:
        exchange.prepare_order(buy(tick_size="0.001"))
    assert "invalid tick size" in assert_mapped(excinfo, Rejected).message


def test_post_only_fok_is_rejected_before_anything_is_sent(exchange, venue):
    with pytest.raises(Rejected) as excinfo:
        exchange.prepare_order(buy(order_type="FOK", post_only=True))
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
    assert "Credentials" in assert_mapped(excinfo, Rejected).message


# ---- cancel ---------------------------------------------------------------------------------


def test_cancel_reports_a_cancelled_order(exchange, venue):
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


def order_object(order_id="0xaaa", status="LIVE", size_matched="0", **extra) -> dict:
    return {
        "id": order_id,
        "status": status,
        "owner": CREDS.api_key,
        "maker_address": ADDRESS,
        "market": MARKET,
        "asset_id": TOKEN_UP,
        "side": "BUY",
        "original_size": "10.5",
        "size_matched": size_matched,
        "price": "0.57",
        "associate_trades": [],
        "outcome": "Up",
        "created_at": 1700000000,
        "expiration": "0",
        "order_type": "GTC",
        **extra,
    }


def test_get_order_maps_a_cancelled_order_that_had_partly_matched(exchange, venue):
    venue.on(
        "GET", "/data/order/0xaaa", ok(order_object(status="CANCELED", size_matched="4.95", associate_trades=["t-1"]))
    )
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


def trade_object(trade_id: str, **extra) -> dict:
    return {
        "id": trade_id,
        "taker_order_id": "0xtaker",
        "market": MARKET,
        "asset_id": TOKEN_UP,
        "side": "SELL",
        "size": "10.5",
        "fee_rate_bps": "0",
        "price": "0.57",
        "status": "MATCHED",
        "match_time": "1700000123",
        "last_update": "1700000123",
        "outcome": "Up",
        "bucket_index": 0,
        "owner": CREDS.api_key,
        "maker_address": ADDRESS,
        "trader_side": "MAKER",
        "transaction_hash": "0x",
        "maker_orders": [
            {
                "order_id": "0xmine",
                "owner": CREDS.api_key,
                "maker_address": ADDRESS,
                "matched_amount": "4.95",
                "price": "0.57",
                "asset_id": TOKEN_UP,
                "side": "BUY",
                "outcome": "Up",
                "fee_rate_bps": "0",
            }
        ],
        **extra,
    }


def test_trades_follow_the_cursor_and_map_maker_fills(exchange, venue):
    pages = {"MA==": ([trade_object("t-1")], "MQ=="), "MQ==": ([trade_object("t-2", status="FAILED")], "LTE=")}

    def page(request):
        data, cursor = pages[request.url.params["next_cursor"]]
        return ok({"data": data, "next_cursor": cursor})

    venue.on("GET", "/data/trades", page)
    trades = exchange.trades(TOKEN_UP)
    assert [t.trade_id for t in trades] == ["t-1", "t-2"]
    first, second = trades
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
                    "owner": CREDS.api_key,
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
                    "owner": CREDS.api_key,
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
                    "owner": CREDS.api_key,
                    "payload": {"market": MARKET, "winning_asset_id": TOKEN_DOWN},
                },
                {"id": "4", "type": 7, "owner": CREDS.api_key, "payload": {"whatever": 1}},
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


def test_balance_converts_base_units_for_collateral_and_conditional_tokens(exchange, venue):
    def balance(request):
        amount = "10500000" if request.url.params["asset_type"] == "CONDITIONAL" else "250000000"
        return ok({"balance": amount, "allowance": "0"})

    venue.on("GET", "/balance-allowance", balance)
    assert exchange.balance(TOKEN_UP) == Decimal("10.5")
    assert exchange.balance() == Decimal("250")
    conditional, collateral = venue.seen("GET", "/balance-allowance")
    assert conditional.url.params["token_id"] == TOKEN_UP
    assert "token_id" not in collateral.url.params
    assert collateral.url.params["asset_type"] == "COLLATERAL"


def book_object(bids, asks) -> dict:
    return {
        "market": MARKET,
        "asset_id": TOKEN_UP,
        "timestamp": "1700000000000",
        "hash": "",
        "bids": [{"price": p, "size": "100"} for p in bids],
        "asks": [{"price": p, "size": "100"} for p in asks],
        "min_order_size": "5",
        "tick_size": "0.01",
        "neg_risk": False,
        "last_trade_price": "0.5",
    }


def test_book_top_is_the_highest_bid_and_the_lowest_ask(exchange, venue):
    # The venue lists bids ascending and asks descending: the best of each side comes last.
    venue.on("GET", "/book", ok(book_object(["0.40", "0.45"], ["0.60", "0.55"])))
    top = exchange.book(TOKEN_UP)
    assert (top.best_bid, top.best_ask) == (Decimal("0.45"), Decimal("0.55"))


def test_book_side_without_orders_is_none(exchange, venue):
    venue.on("GET", "/book", ok(book_object(["0.40"], [])))
    top = exchange.book(TOKEN_UP)
    assert top.best_bid == Decimal("0.40") and top.best_ask is None


def market_object(closed: bool, up_wins: bool | None) -> dict:
    return {
        "condition_id": MARKET,
        "question": "BTC Up or Down?",
        "market_slug": "btc-updown-15m-1700000000",
        "closed": closed,
        "active": not closed,
        "accepting_orders": not closed,
        "minimum_order_size": 5,
        "minimum_tick_size": 0.01,
        "neg_risk": False,
        "end_date_iso": "2023-11-14T22:30:00Z",
        "tokens": [
            {"token_id": TOKEN_UP, "outcome": "Up", "price": 1, "winner": up_wins is True},
            {"token_id": TOKEN_DOWN, "outcome": "Down", "price": 0, "winner": up_wins is False},
        ],
    }


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
        (httpx.Response(400, json={"error": "bad request"}), Rejected),
    ],
    ids=["string", "object", "502-html", "400"],
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
