"""CLOB V2 at the venue: the REAL py-clob-client-v2 and py-clob-client against the v2 gateway.

The venue is built as tests/sim/conftest.py builds it (imported here for its constants only),
with Gateway(protocol="v2") behind the in-process transport.
"""

from __future__ import annotations

import base64

import pytest
from eth_account import Account
from freezegun import freeze_time
from py_clob_client.client import ClobClient as ClobClientV1
from py_clob_client.clob_types import ApiCreds as ApiCredsV1
from py_clob_client.clob_types import AssetType as AssetTypeV1
from py_clob_client.clob_types import BalanceAllowanceParams as BalanceAllowanceParamsV1
from py_clob_client.clob_types import DropNotificationParams as DropNotificationParamsV1
from py_clob_client.clob_types import OpenOrderParams as OpenOrderParamsV1
from py_clob_client.clob_types import OrderArgs as OrderArgsV1
from py_clob_client.clob_types import TradeParams as TradeParamsV1
from py_clob_client.exceptions import PolyApiException as PolyApiExceptionV1
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    ApiCreds,
    AssetType,
    BalanceAllowanceParams,
    CreateOrderOptions,
    DropNotificationParams,
    OpenOrderParams,
    OrderArgsV2,
    OrderPayload,
    TradeParams,
)
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.order_builder.builder import OrderBuilder
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2
from py_clob_client_v2.signer import Signer

from clobsim.sim.clients.wire import SimTransport, installed
from clobsim.sim.exchange import orderid
from clobsim.sim.exchange.gateway import Gateway
from clobsim.sim.exchange.venue import Venue

T0 = 1767268800  # 2026-01-01T12:00:00Z
HOST = "http://clob.sim"
KEY = "0x" + "11" * 32
CREDS = ApiCreds(
    api_key="bot-api-key", api_secret=base64.urlsafe_b64encode(bytes(range(32))).decode(), api_passphrase="bot-pass"
)


@pytest.fixture
def world():
    now = [float(T0)]
    venue = Venue(lambda: now[0])
    market = venue.open_updown_market("btc", T0)
    venue.open_account(
        CREDS.api_key, CREDS.api_secret, CREDS.api_passphrase, Account.from_key(KEY).address, collateral="100"
    )
    gateway = Gateway(venue, protocol="v2")
    with freeze_time("2026-01-01 12:00:00"), installed(SimTransport(gateway)):
        yield venue, market, gateway


def test_v2_order_id_is_the_digest_py_clob_client_v2_signs():
    builder = OrderBuilder(Signer(KEY, 137))
    for neg_risk in (False, True):
        signed = builder.build_order(
            OrderArgsV2(token_id="123", price=0.5, size=10, side="BUY"), CreateOrderOptions("0.01", neg_risk)
        )
        config = get_contract_config(137)
        exchange = config.neg_risk_exchange_v2 if neg_risk else config.exchange_v2
        hasher = ExchangeOrderBuilderV2(exchange, 137, Signer(KEY, 137))
        expected = hasher.build_order_hash(hasher.build_order_typed_data(signed))
        assert orderid.order_id(order_to_json_v2(signed, "k", "GTC")["order"], 137, neg_risk, "v2") == expected


def test_py_clob_client_v2_trades_against_the_v2_venue_through_every_call_core_makes(world):
    venue, market, _ = world
    up = market.token("Up").token_id
    client = ClobClient(HOST, chain_id=137, key=KEY, creds=CREDS)
    assert client.get_version() == 2
    assert client.get_ok() == "OK"
    answer = client.create_and_post_order(OrderArgsV2(token_id=up, price=0.45, size=10, side="BUY"))
    order_id = answer["orderID"]
    assert (answer["success"], answer["status"], answer["tradeIDs"]) == (True, "live", [])
    assert venue.book(up).has(order_id)
    order = client.get_order(order_id)
    assert (order["status"], order["original_size"], order["price"]) == ("LIVE", "10", "0.45")
    assert [o["id"] for o in client.get_open_orders(OpenOrderParams(asset_id=up))] == [order_id]
    assert client.cancel_order(OrderPayload(orderID=order_id)) == {"canceled": [order_id], "not_canceled": {}}
    assert client.get_open_orders() == []
    assert client.get_trades(TradeParams(asset_id=up)) == []
    notes = client.get_notifications()
    assert [(n["type"], n["payload"]["order_id"]) for n in notes] == [(1, order_id)]
    client.drop_notifications(DropNotificationParams(ids=[n["id"] for n in notes]))
    assert client.get_notifications() == []
    collateral = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert collateral["balance"] == "100000000"
    assert client.update_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)) == "OK"
    first = client.post_heartbeat("")["heartbeat_id"]
    assert client.post_heartbeat(first)["heartbeat_id"] == first
    book = client.get_order_book(up)
    assert isinstance(book, dict) and book["asset_id"] == up


def test_a_stale_heartbeat_id_is_refused_as_production_refuses_it(world):
    client = ClobClient(HOST, chain_id=137, key=KEY, creds=CREDS)
    current = client.post_heartbeat("")["heartbeat_id"]
    with pytest.raises(PolyApiException) as caught:
        client.post_heartbeat("not-the-current-session")
    assert (caught.value.status_code, caught.value.error_msg) == (
        400,
        {"error": "Invalid Heartbeat ID", "error_msg": "Invalid Heartbeat ID", "heartbeat_id": current},
    )


def test_a_v1_signed_order_to_the_v2_venue_is_refused_with_order_version_mismatch(world):
    venue, market, _ = world
    up = market.token("Up").token_id
    v1 = ClobClientV1(
        HOST,
        chain_id=137,
        key=KEY,
        creds=ApiCredsV1(CREDS.api_key, CREDS.api_secret, CREDS.api_passphrase),
    )
    signed = v1.create_order(OrderArgsV1(token_id=up, price=0.45, size=10, side="BUY"))
    with pytest.raises(PolyApiExceptionV1) as caught:
        v1.post_order(signed)
    assert (caught.value.status_code, caught.value.error_msg) == (400, {"error": "order_version_mismatch"})
    assert venue.open_orders(CREDS.api_key) == []


def test_a_v2_signed_order_to_a_v1_venue_is_an_invalid_payload():
    now = [float(T0)]
    venue = Venue(lambda: now[0])
    market = venue.open_updown_market("btc", T0)
    venue.open_account(
        CREDS.api_key, CREDS.api_secret, CREDS.api_passphrase, Account.from_key(KEY).address, collateral="100"
    )
    with freeze_time("2026-01-01 12:00:00"), installed(SimTransport(Gateway(venue))):
        client = ClobClient(HOST, chain_id=137, key=KEY, creds=CREDS)
        args = OrderArgsV2(token_id=market.token("Up").token_id, price=0.45, size=10, side="BUY")
        with pytest.raises(PolyApiException) as caught:
            client.create_and_post_order(args)
    assert caught.value.status_code == 400
    assert venue.open_orders(CREDS.api_key) == []


def test_py_clob_client_reads_cancels_and_heartbeats_against_the_v2_venue_but_cannot_place(world):
    """The V1 SDK against production since the migration: every call but placing still works."""
    venue, market, _ = world
    up = market.token("Up").token_id
    v1 = ClobClientV1(
        HOST, chain_id=137, key=KEY, creds=ApiCredsV1(CREDS.api_key, CREDS.api_secret, CREDS.api_passphrase)
    )
    with pytest.raises(PolyApiExceptionV1) as caught:
        v1.create_and_post_order(OrderArgsV1(token_id=up, price=0.45, size=10, side="BUY"))
    assert (caught.value.status_code, caught.value.error_msg) == (400, {"error": "order_version_mismatch"})
    # the same account's order, placed with the V2 SDK, 4 of its 10 shares taken
    order_id = ClobClient(HOST, chain_id=137, key=KEY, creds=CREDS).create_and_post_order(
        OrderArgsV2(token_id=up, price=0.45, size=10, side="BUY")
    )["orderID"]
    (trade,) = venue.fill_resting(order_id, "4")
    order = v1.get_order(order_id)
    assert (order["status"], order["size_matched"]) == ("LIVE", "4")
    assert [o["id"] for o in v1.get_orders(OpenOrderParamsV1(asset_id=up))] == [order_id]
    assert [(t["id"], t["size"]) for t in v1.get_trades(TradeParamsV1(asset_id=up))] == [(trade.id, "4")]
    assert v1.cancel(order_id) == {"canceled": [order_id], "not_canceled": {}}
    assert v1.get_orders() == []
    notes = v1.get_notifications()
    assert [(n["type"], n["payload"]["order_id"]) for n in notes] == [(2, order_id), (1, order_id)]
    v1.drop_notifications(DropNotificationParamsV1(ids=[n["id"] for n in notes]))
    assert v1.get_notifications() == []
    balance = v1.get_balance_allowance(BalanceAllowanceParamsV1(asset_type=AssetTypeV1.CONDITIONAL, token_id=up))
    assert balance["balance"] == "4000000"
    first = v1.post_heartbeat("")["heartbeat_id"]
    assert v1.post_heartbeat(first)["heartbeat_id"] == first
