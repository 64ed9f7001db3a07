"""The real clients core's adapter drives, each with its HTTP routed in-process to a scripted venue.

py-clob-client (V1) and py-clob-client-v2 send every request through their module global
``<package>.http_helpers.helpers._http_client``; the ``venue`` fixture (conftest.py) swaps it for
an ``httpx.Client`` over a MockTransport and puts the original back afterwards. A `Client` holds
what differs between them: the client class and its exceptions, what a venue of its protocol
answers before a test scripts anything, how the client and the venue derive an order's id. The
answers' shapes follow clob-reference.md and docs/venue-shapes.md.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any

import httpx
import py_clob_client.clob_types
import py_clob_client.exceptions
import py_clob_client.http_helpers.helpers
import py_clob_client_v2.clob_types
import py_clob_client_v2.exceptions
import py_clob_client_v2.http_helpers.helpers
from eth_account import Account
from py_clob_client.client import ClobClient as ClobClientV1
from py_clob_client.config import get_contract_config as contract_config_v1
from py_clob_client_v2.client import ClobClient as ClobClientV2
from py_clob_client_v2.config import get_contract_config as contract_config_v2
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.signer import Signer as SignerV2
from py_order_utils.builders import OrderBuilder as UtilsOrderBuilder
from py_order_utils.signer import Signer as UtilsSigner

from clobsim.core.config import CLOB_CLIENT_V1, CLOB_CLIENT_V2
from clobsim.core.errors import ExchangeError
from clobsim.core.model import PlaceOrder, Side
from clobsim.sim.exchange import orderid

HOST = "https://clob.test"
CHAIN_ID = 137
PRIVATE_KEY = "0x" + "11" * 32
ADDRESS = Account.from_key(PRIVATE_KEY).address
API_KEY = "test-api-key"
API_SECRET = base64.urlsafe_b64encode(bytes(range(32))).decode()
API_PASSPHRASE = "test-passphrase"
TOKEN_UP = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
TOKEN_DOWN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
MARKET = "0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1"


def v1_digest(order: Any, neg_risk: bool) -> str:
    """The EIP-712 struct hash py_order_utils computes (and py-clob-client signs) for a V1 order."""
    builder = UtilsOrderBuilder(contract_config_v1(CHAIN_ID, neg_risk).exchange, CHAIN_ID, UtilsSigner(PRIVATE_KEY))
    return builder._create_struct_hash(order)


def v1_venue_order_id(order: dict, neg_risk: bool = False) -> str:
    """What a V1 venue does: rebuild the EIP-712 struct from the posted JSON (the simulated
    venue's own parsing) and hash it as the client's library does."""
    return v1_digest(orderid.order_struct(order), neg_risk)


def v2_digest(signed: Any, neg_risk: bool) -> str:
    """The V2 order digest py-clob-client-v2's own order builder computes for a signed order."""
    config = contract_config_v2(CHAIN_ID)
    contract = config.neg_risk_exchange_v2 if neg_risk else config.exchange_v2
    hasher = ExchangeOrderBuilderV2(contract, CHAIN_ID, SignerV2(PRIVATE_KEY, CHAIN_ID))
    return hasher.build_order_hash(hasher.build_order_typed_data(signed))


def v2_venue_order_id(order: dict, neg_risk: bool = False) -> str:
    """What the simulated venue does: rebuild the V2 digest from the posted JSON."""
    return orderid.order_id(order, CHAIN_ID, neg_risk, "v2")


@dataclass(frozen=True, eq=False)  # each client is itself (hashed by identity)
class Client:
    """One real client: how to build it and what its protocol's venue asks, answers and derives."""

    name: str  # the test id
    client_name: str  # core.config's name for it (ClobExchange.client_name)
    clob_client: type
    creds: Any
    helpers: ModuleType  # holds the _http_client every request of the client goes through
    api_exception: type[Exception]  # what the client raises for an HTTP answer (or none)
    poly_exception: type[Exception]  # the family of what it raises (missing credentials)
    price_error: type[Exception]  # what it raises for a price off its market's range (V1: a bare Exception)
    routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]]  # before a test scripts any
    signed_digest: Callable[[Any, bool], str]  # (the prepared order's `signed`, neg_risk) -> its id
    venue_order_id: Callable[[dict, bool], str]  # (the posted order JSON, neg_risk) -> its id
    order_fields: frozenset[str]  # the order struct's fields only this protocol has
    answers_trade_ids: bool  # a placement's answer lists the trades it matched (V2)
    balance_extra: dict[str, Any] = field(default_factory=dict)  # a balance answer's allowance part

    def __str__(self) -> str:
        return self.name


V1_ONLY_FIELDS = frozenset(orderid.V1_ONLY_FIELDS)
V2_ONLY_FIELDS = frozenset(orderid.V2_ONLY_FIELDS)

V1 = Client(
    name="v1",
    client_name=CLOB_CLIENT_V1,
    clob_client=ClobClientV1,
    creds=py_clob_client.clob_types.ApiCreds(api_key=API_KEY, api_secret=API_SECRET, api_passphrase=API_PASSPHRASE),
    helpers=py_clob_client.http_helpers.helpers,
    api_exception=py_clob_client.exceptions.PolyApiException,
    poly_exception=py_clob_client.exceptions.PolyException,
    price_error=Exception,
    routes={
        ("GET", "/tick-size"): lambda req: ok({"minimum_tick_size": "0.01"}),
        ("GET", "/fee-rate"): lambda req: ok({"base_fee": 0}),
        ("GET", "/neg-risk"): lambda req: ok({"neg_risk": False}),
    },
    signed_digest=lambda signed, neg_risk: v1_digest(signed.order, neg_risk),
    venue_order_id=v1_venue_order_id,
    order_fields=V1_ONLY_FIELDS,
    answers_trade_ids=False,
    balance_extra={"allowance": "0"},
)
V2 = Client(
    name="v2",
    client_name=CLOB_CLIENT_V2,
    clob_client=ClobClientV2,
    creds=py_clob_client_v2.clob_types.ApiCreds(api_key=API_KEY, api_secret=API_SECRET, api_passphrase=API_PASSPHRASE),
    helpers=py_clob_client_v2.http_helpers.helpers,
    api_exception=py_clob_client_v2.exceptions.PolyApiException,
    poly_exception=py_clob_client_v2.exceptions.PolyException,
    price_error=py_clob_client_v2.exceptions.PolyException,
    routes={
        ("GET", "/version"): lambda req: ok({"version": 2}),
        ("GET", "/tick-size"): lambda req: ok({"minimum_tick_size": "0.01"}),
        ("GET", "/neg-risk"): lambda req: ok({"neg_risk": False}),
    },
    signed_digest=v2_digest,
    venue_order_id=v2_venue_order_id,
    order_fields=V2_ONLY_FIELDS,
    answers_trade_ids=True,
    balance_extra={"allowances": {"0xexchange": "115792089237316195423570985008687907853"}},
)
CLIENTS = (V1, V2)


class Venue:
    """Scripted CLOB of one client's protocol: routes (method, path) to answers and records every
    request it saw."""

    def __init__(self, client: Client):
        self.client = client
        self.requests: list[httpx.Request] = []
        self.routes = {**client.routes, ("POST", "/order"): self.accept_order("live")}

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

    def accept_order(self, status: str, making: str = "", taking: str = "", trade_ids=()):
        def answer(request):
            body = json.loads(request.content)
            placed = {
                "success": True,
                "errorMsg": "",
                "orderID": self.client.venue_order_id(body["order"], False),
                "transactionsHashes": [],
                "status": status,
                "makingAmount": making,
                "takingAmount": taking,
            }
            if self.client.answers_trade_ids:
                placed["tradeIDs"] = list(trade_ids)
            return ok(placed)

        return answer


def ok(body) -> httpx.Response:
    return httpx.Response(200, json=body)


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


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


def order_object(order_id="0xaaa", status="LIVE", size_matched="0", **extra) -> dict:
    return {
        "id": order_id,
        "status": status,
        "owner": API_KEY,
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
        "owner": API_KEY,
        "maker_address": ADDRESS,
        "trader_side": "MAKER",
        "transaction_hash": "0x",
        "maker_orders": [
            {
                "order_id": "0xmine",
                "owner": API_KEY,
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
