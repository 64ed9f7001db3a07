"""What only CLOB V2 has, against the REAL py-clob-client-v2 (core's default client): the order
version check, the tick sizes V2 added, FAK answers with tradeIDs, the `code` field of an error, the
operator's new order endings, MATCHED_NOT_BROADCASTED trades and the FILL_FAILED notification.
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from clobsim.core.errors import Rejected, Transient
from clobsim.core.model import NotificationKind
from tests.adapter.clients import (
    MARKET,
    TOKEN_DOWN,
    TOKEN_UP,
    V2,
    assert_mapped,
    buy,
    ok,
    order_object,
    trade_object,
)

pytestmark = pytest.mark.parametrize("client", [V2], indirect=True, ids=str)


def test_a_v2_placement_is_posted_without_deferred_execution(exchange, venue):
    exchange.post_order(exchange.prepare_order(buy()))
    assert json.loads(venue.seen("POST", "/order")[0].content)["deferExec"] is False


@pytest.mark.parametrize("tick", ["0.005", "0.0025"])
def test_the_tick_sizes_v2_added_are_accepted(exchange, venue, tick):
    venue.on("GET", "/tick-size", ok({"minimum_tick_size": tick}))
    prepared = exchange.prepare_order(buy(price="0.505", tick_size=tick))
    assert prepared.signed.makerAmount == "5302500"  # 10.5 x 0.505, not rounded to the cent


def test_fak_answer_with_trade_ids_is_placed_once_the_clients_trade_polling_resolves(exchange, venue):
    venue.on("POST", "/order", venue.accept_order("matched", making="5.985", taking="10.5", trade_ids=["t-1"]))
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


def test_order_version_mismatch_is_rejected_and_the_client_refreshes_its_version(client, exchange, venue):
    venue.on("POST", "/order", httpx.Response(400, json={"error": "order_version_mismatch"}))
    prepared = exchange.prepare_order(buy())
    with pytest.raises(Rejected) as excinfo:
        exchange.post_order(prepared)
    err = assert_mapped(excinfo, Rejected)
    assert err.message == "order_version_mismatch" and err.status == 400 and err.order_id == prepared.order_id
    assert isinstance(err.__cause__, client.api_exception)


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


@pytest.mark.parametrize("status", ["CANCELED_NOT_ENOUGH_BALANCE", "EXPIRED_ORDER", "ORDER_TIMED_OUT"])
def test_get_order_maps_each_way_the_v2_operator_ends_an_order_as_no_longer_open(exchange, venue, status):
    venue.on("GET", "/data/order/0xaaa", ok(order_object(status=status, size_matched="4.95")))
    snapshot = exchange.get_order("0xaaa")
    assert (snapshot.status, snapshot.size_matched, snapshot.is_open) == (status, Decimal("4.95"), False)


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
