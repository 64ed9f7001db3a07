"""What CLOB V2 changed at match time, seen through the REAL clients against the v2 venue.

The operator's taker fee, the statuses by which the operator ends orders (CANCELED_NOT_ENOUGH_BALANCE,
EXPIRED_ORDER, ORDER_TIMED_OUT), MATCHED_NOT_BROADCASTED and notification type 8, the 503
post_only_mode `code` and the Retry-After / rate-limit headers; and that a v1 venue does none of it.
py-clob-client-v2 and py-clob-client reach the venue through sim.clients.wire's in-process transport,
polymarket-client through the same, its sleeps on the test's clock.
"""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from eth_account import Account
from freezegun import freeze_time
from polymarket import ApiKeyCreds, RateLimitError, RequestRejectedError, SecureClient
from py_clob_client.client import ClobClient as ClobClientV1
from py_clob_client.clob_types import ApiCreds as ApiCredsV1
from py_clob_client.clob_types import OrderArgs as OrderArgsV1
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    ApiCreds,
    AssetType,
    BalanceAllowanceParams,
    OrderArgsV2,
    OrderType,
    TradeParams,
)

from clobsim.core.clob_adapter import ClobExchange
from clobsim.core.errors import Transient
from clobsim.core.model import PlaceOrder, Side
from clobsim.sim.clients.virtual_time import virtual_sleeps
from clobsim.sim.clients.wire import SimTransport, installed
from clobsim.sim.exchange.book import BUY, SELL
from clobsim.sim.exchange.gateway import Answer, Call, Gateway, Hooks
from clobsim.sim.exchange.records import FAILED, MATCHED_NOT_BROADCASTED
from clobsim.sim.exchange.venue import Venue
from clobsim.sim.faults.engine_restart import POST_ONLY_MODE, post_only_answer
from clobsim.sim.faults.http_error import error_answer

T0 = 1767268800  # 2026-01-01T12:00:00Z
HOST = "http://clob.sim"
KEY = "0x" + "11" * 32
ADDRESS = Account.from_key(KEY).address
SECRET = base64.urlsafe_b64encode(bytes(range(32))).decode()
CREDS = ApiCreds(api_key="bot-api-key", api_secret=SECRET, api_passphrase="bot-pass")
D = Decimal


class World:
    """One venue speaking `protocol`, the bot's account on it, and the clock the venue reads."""

    def __init__(
        self,
        protocol: str,
        fee_rate: str = "0",
        collateral: str = "100",
        hooks: Hooks | None = None,
        fee_exponent: int = 1,
    ):
        self.now = [float(T0)]
        self.venue = Venue(lambda: self.now[0], protocol=protocol)
        self.market = self.venue.open_updown_market("btc", T0, taker_fee_rate=fee_rate, fee_exponent=fee_exponent)
        self.up = self.market.token("Up").token_id
        self.venue.open_account(CREDS.api_key, CREDS.api_secret, CREDS.api_passphrase, ADDRESS, collateral=collateral)
        self.gateway = Gateway(self.venue, hooks)

    def client(self) -> ClobClient:
        return ClobClient(HOST, chain_id=137, key=KEY, creds=CREDS)

    def v1_client(self) -> ClobClientV1:
        return ClobClientV1(
            HOST, chain_id=137, key=KEY, creds=ApiCredsV1(CREDS.api_key, CREDS.api_secret, CREDS.api_passphrase)
        )

    def shares(self) -> Decimal:
        return self.venue.balance(CREDS.api_key, self.up)

    def cash(self) -> Decimal:
        return self.venue.balance(CREDS.api_key, "COLLATERAL")


@pytest.fixture
def wired():
    """Build a World and route the clients' HTTP to it; yields the builder."""
    with freeze_time("2026-01-01 12:00:00"):
        stack: list = []

        def build(protocol: str = "v2", **kw) -> World:
            world = World(protocol, **kw)
            transport = installed(SimTransport(world.gateway))
            transport.__enter__()
            stack.append(transport)
            return world

        yield build
        for transport in reversed(stack):
            transport.__exit__(None, None, None)


# ---- operator fees at match time, takers only ---------------------------------------------------


def test_a_v2_taker_buy_receives_its_shares_less_the_operator_fee_and_the_trade_names_the_rate(wired):
    world = wired(fee_rate="0.07")
    world.venue.set_crowd_depth(world.up, SELL, "0.79", "50")
    client = world.client()
    answer = client.create_and_post_order(OrderArgsV2(token_id=world.up, price=0.79, size=10.5, side="BUY"))
    assert (answer["status"], answer["takingAmount"], answer["makingAmount"]) == ("matched", "10.5", "8.295")
    # fee = 10.5 x 0.07 x 0.79 x 0.21 = 0.1219365 USDC, cut to 0.121936; in shares at 0.79: 0.154349
    (trade,) = world.venue.trades.values()
    assert trade.fee == D("0.121936")
    assert world.shares() == D("10.345651")
    assert world.cash() == D("91.705")  # the taker pays the price; the fee came out of the shares
    shares = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=world.up))
    assert shares["balance"] == "10345651"
    order = client.get_order(answer["orderID"])
    assert (order["status"], order["size_matched"]) == ("MATCHED", "10.5")  # matched, not delivered
    (listed,) = client.get_trades(TradeParams(asset_id=world.up))
    assert (listed["size"], listed["fee_rate_bps"], listed["trader_side"]) == ("10.5", "700", "TAKER")
    info = client.get_clob_market_info(world.market.condition_id)
    assert info["fd"] == {"r": 0.07, "e": 1}
    assert client.get_fee_exponent(world.up) == 1


@pytest.mark.parametrize(
    ("fee_rate", "exponent", "price", "size"),
    [("0.07", 1, "0.79", "10.5"), ("0.25", 2, "0.55", "7.13"), ("0.0175", 1, "0.33", "23"), ("0.07", 1, "0.01", "5")],
)
def test_core_derives_from_the_listed_trade_exactly_the_shares_the_venue_delivered(
    wired, fee_rate, exponent, price, size
):
    world = wired(fee_rate=fee_rate, fee_exponent=exponent, collateral="1000")
    world.venue.set_crowd_depth(world.up, SELL, price, "50")
    exchange = ClobExchange(world.client())
    command = PlaceOrder(token_id=world.up, side=Side.BUY, price=D(price), size=D(size))
    prepared = exchange.prepare_order(command)
    assert exchange.post_order(prepared).status == "matched"  # the bot took: it pays the fee
    (trade,) = exchange.trades(world.up)
    assert (trade.fee_rate_bps, trade.fee_exponent) == (D(fee_rate) * 10_000, exponent)
    fill = trade.fill_of(prepared.order_id)
    assert fill.size - fill.withheld == world.shares()  # to the base unit, rounding included
    assert fill.withheld > 0


def test_a_fee_exponent_the_venue_will_not_answer_leaves_what_the_fill_delivered_unknown(wired):
    class NoMarketInfo(Hooks):
        def before_apply(self, call: Call) -> Answer | None:
            return Answer(503, {"error": "unavailable"}) if call.route.startswith("GET /clob-markets") else None

    world = wired(fee_rate="0.07", hooks=NoMarketInfo())
    world.venue.set_crowd_depth(world.up, SELL, "0.79", "50")
    exchange = ClobExchange(world.client())
    prepared = exchange.prepare_order(PlaceOrder(token_id=world.up, side=Side.BUY, price=D("0.79"), size=D("10.5")))
    exchange.post_order(prepared)
    (trade,) = exchange.trades(world.up)  # the fill is still listed: it counts
    assert (trade.fee_rate_bps, trade.fee_exponent) == (D("700"), None)
    assert trade.fill_of(prepared.order_id).withheld is None


def test_core_reads_no_fee_exponent_for_a_trade_it_made_or_a_fee_free_one(wired):
    class Count(Hooks):
        routes: list[str] = []

        def before_apply(self, call: Call) -> Answer | None:
            self.routes.append(call.route)
            return None

    hooks = Count()
    world = wired(fee_rate="0.07", hooks=hooks)
    world.venue.deposit(CREDS.api_key, world.up, "10")
    exchange = ClobExchange(world.client())
    prepared = exchange.prepare_order(PlaceOrder(token_id=world.up, side=Side.SELL, price=D("0.6"), size=D("10")))
    exchange.post_order(prepared)
    world.venue.take(world.up, BUY, "10", "0.6")  # the bot's SELL made: the crowd took
    (trade,) = exchange.trades(world.up)
    assert trade.fill_of(prepared.order_id).withheld == D("0")
    assert not [r for r in hooks.routes if "clob-markets" in r or "markets-by-token" in r]


def test_a_v2_taker_sell_receives_its_usdc_less_the_fee(wired):
    world = wired(fee_rate="0.07")
    world.venue.deposit(CREDS.api_key, world.up, "10")
    world.venue.set_crowd_depth(world.up, BUY, "0.6", "50")
    answer = world.client().create_and_post_order(OrderArgsV2(token_id=world.up, price=0.6, size=10, side="SELL"))
    assert answer["status"] == "matched"
    # fee = 10 x 0.07 x 0.6 x 0.4 = 0.168 USDC off the 6.00 proceeds
    assert (world.shares(), world.cash()) == (D("0"), D("105.832"))


def test_a_v2_maker_pays_no_fee(wired):
    world = wired(fee_rate="0.07")
    world.venue.deposit(CREDS.api_key, world.up, "10")
    client = world.client()
    answer = client.create_and_post_order(OrderArgsV2(token_id=world.up, price=0.6, size=10, side="SELL"))
    assert answer["status"] == "live"
    (trade,) = world.venue.take(world.up, BUY, "10", "0.6")
    assert (trade.fee, trade.fee_rate_bps) == (D("0"), 0)
    assert (world.shares(), world.cash()) == (D("0"), D("106"))
    (listed,) = client.get_trades(TradeParams(asset_id=world.up))
    assert (listed["fee_rate_bps"], listed["trader_side"]) == ("0", "MAKER")


def test_a_v1_venue_charges_no_operator_fee_whatever_the_market_says(wired):
    world = wired("v1", fee_rate="0.07")
    assert world.market.taker_fee_rate == 0
    world.venue.set_crowd_depth(world.up, SELL, "0.79", "50")
    client = world.v1_client()
    answer = client.create_and_post_order(OrderArgsV1(token_id=world.up, price=0.79, size=10.5, side="BUY"))
    assert answer["status"] == "matched"
    (trade,) = world.venue.trades.values()
    assert (trade.fee, world.shares(), world.cash()) == (D("0"), D("10.5"), D("91.705"))
    assert [e for e in world.venue.events if e["kind"] == "trade_matched"][0]["fields"].get("fee") is None


# ---- the statuses by which the V2 operator ends orders ------------------------------------------


def _bought_then_failed(world: World, client: ClobClient) -> tuple[str, str]:
    """The bot takes 10 shares, rests an exit for them, and the buy's trade never settles:
    MATCHED -> MATCHED_NOT_BROADCASTED -> FAILED. Returns (buy id, exit id)."""
    world.venue.set_crowd_depth(world.up, SELL, "0.5", "10")
    buy = client.create_and_post_order(OrderArgsV2(token_id=world.up, price=0.5, size=10, side="BUY"))["orderID"]
    exit_id = client.create_and_post_order(OrderArgsV2(token_id=world.up, price=0.99, size=10, side="SELL"))["orderID"]
    (trade_id,) = world.venue.trades
    world.venue.advance_trade(trade_id, MATCHED_NOT_BROADCASTED)
    assert client.get_trades(TradeParams(asset_id=world.up))[0]["status"] == "MATCHED_NOT_BROADCASTED"
    world.venue.advance_trade(trade_id, FAILED)
    return buy, exit_id


def test_a_failed_trade_ends_the_exit_it_uncovered_not_enough_balance_and_says_fill_failed(wired):
    world = wired()
    client = world.client()
    buy, exit_id = _bought_then_failed(world, client)
    assert client.get_order(exit_id)["status"] == "CANCELED_NOT_ENOUGH_BALANCE"
    assert client.get_open_orders() == []
    assert world.shares() == 0
    notes = client.get_notifications()
    assert [(n["type"], n["payload"]["order_id"]) for n in notes] == [(2, buy), (1, exit_id), (8, buy)]
    failed = notes[2]["payload"]
    trade_id = next(iter(world.venue.trades))
    assert (failed["trade_id"], failed["status"], failed["matched_size"], failed["size"]) == (
        trade_id,
        "FAILED",
        "10",
        "10",
    )


def test_a_failed_trade_ends_the_buy_whose_cash_it_took_back(wired):
    world = wired(collateral="1")
    world.venue.deposit(CREDS.api_key, world.up, "10")
    client = world.client()
    world.venue.set_crowd_depth(world.up, BUY, "0.6", "10")
    client.create_and_post_order(OrderArgsV2(token_id=world.up, price=0.6, size=10, side="SELL"))
    bid = client.create_and_post_order(OrderArgsV2(token_id=world.up, price=0.5, size=10, side="BUY"))["orderID"]
    (trade_id,) = world.venue.trades  # the sale's 6.00 back the 5.00 bid
    world.venue.advance_trade(trade_id, MATCHED_NOT_BROADCASTED)
    world.venue.advance_trade(trade_id, FAILED)
    assert (world.cash(), world.shares()) == (D("1"), D("10"))
    assert client.get_order(bid)["status"] == "CANCELED_NOT_ENOUGH_BALANCE"


def test_under_v1_the_uncovered_exit_is_plain_canceled_and_nothing_says_fill_failed(wired):
    world = wired("v1")
    client = world.v1_client()
    world.venue.set_crowd_depth(world.up, SELL, "0.5", "10")
    client.create_and_post_order(OrderArgsV1(token_id=world.up, price=0.5, size=10, side="BUY"))
    exit_id = client.create_and_post_order(OrderArgsV1(token_id=world.up, price=0.99, size=10, side="SELL"))["orderID"]
    (trade_id,) = world.venue.trades
    world.venue.advance_trade(trade_id, "RETRYING")
    world.venue.advance_trade(trade_id, FAILED)
    assert client.get_order(exit_id)["status"] == "CANCELED"
    assert [n["type"] for n in client.get_notifications()] == [2, 1]


@pytest.mark.parametrize(("protocol", "status"), [("v2", "EXPIRED_ORDER"), ("v1", "CANCELED")])
def test_a_gtd_order_past_its_expiration_ends_expired_under_v2(wired, protocol, status):
    world = wired(protocol)
    expiration = T0 + 300
    if protocol == "v2":
        client = world.client()
        signed = client.create_order(
            OrderArgsV2(token_id=world.up, price=0.45, size=10, side="BUY", expiration=expiration)
        )
        order_id = client.post_order(signed, OrderType.GTD)["orderID"]
    else:
        v1 = world.v1_client()
        signed = v1.create_order(OrderArgsV1(token_id=world.up, price=0.45, size=10, side="BUY", expiration=expiration))
        order_id = v1.post_order(signed, "GTD")["orderID"]
    world.now[0] = expiration - 60  # the venue expires GTD orders a minute early
    assert world.venue.expire_orders() == [order_id]
    assert world.venue.orders[order_id].status == status
    assert world.venue.open_orders(CREDS.api_key) == []


@pytest.mark.parametrize(
    ("protocol", "timed_out", "status"),
    [("v2", True, "ORDER_TIMED_OUT"), ("v2", False, "UNMATCHED"), ("v1", True, "UNMATCHED")],
)
def test_a_delayed_order_whose_time_ran_out_ends_order_timed_out_under_v2(wired, protocol, timed_out, status):
    world = wired(protocol)
    world.venue.set_crowd_depth(world.up, SELL, "0.5", "50")
    world.venue.set_match_delay(world.up, "delay")
    if protocol == "v2":
        answer = world.client().create_and_post_order(OrderArgsV2(token_id=world.up, price=0.5, size=10, side="BUY"))
    else:
        answer = world.v1_client().create_and_post_order(OrderArgsV1(token_id=world.up, price=0.5, size=10, side="BUY"))
    assert answer["status"] == "delayed"
    world.venue.fail_delayed(answer["orderID"], timed_out=timed_out)
    assert world.venue.orders[answer["orderID"]].status == status


# ---- polymarket-client parses all of it strictly -------------------------------------------------


class Refuse(Hooks):
    """Answer POST /order with a fixed refusal, as a fault would."""

    def __init__(self, answer: Answer):
        self.answer = answer

    def before_apply(self, call: Call) -> Answer | None:
        return self.answer if call.route == "POST /order" else None


@pytest.fixture
def sdk(wired):
    """polymarket-client on a v2 World (its sleeps on the frozen clock, which nothing moves)."""
    pm_creds = ApiKeyCreds(apiKey=CREDS.api_key, secret=CREDS.api_secret, passphrase=CREDS.api_passphrase)
    clients: list[SecureClient] = []

    def build(**kw) -> tuple[World, SecureClient]:
        world = wired(**kw)
        client = SecureClient.create(private_key=KEY, wallet=ADDRESS, credentials=pm_creds)
        clients.append(client)
        return world, client

    with virtual_sleeps(lambda seconds: None):
        yield build
    for client in clients:
        client.close()


def test_polymarket_client_reads_the_fill_failed_notice_and_the_ended_order(sdk):
    world, client = sdk()
    buy, exit_id = _bought_then_failed(world, world.client())
    notes = client.get_notifications()
    assert [(n.type, n.payload.order_id) for n in notes] == [(2, buy), (1, exit_id), (8, buy)]
    assert type(notes[2]).__name__ == "OrderFillFailedNotification"
    assert (notes[2].payload.trade_id, notes[2].payload.matched_size) == (next(iter(world.venue.trades)), D("10"))
    (trade,) = client.list_account_trades(token_id=world.up).iter_items()
    assert trade.status == "FAILED"


def test_polymarket_client_sees_the_post_only_mode_code_and_retry_after_the_v2_venue_sends(sdk):
    world, client = sdk(hooks=Refuse(post_only_answer("v2")))
    with pytest.raises(RequestRejectedError) as caught:
        client.place_limit_order(token_id=world.up, price="0.45", size="10", side="BUY")
    error = caught.value
    assert (error.status, error.code, error.retry_after, error.restriction) == (
        503,
        "post_only_mode",
        30.0,
        "post_only",
    )


def test_polymarket_client_sees_the_rate_limit_headers_of_a_v2_429(sdk):
    world, client = sdk(hooks=Refuse(error_answer(429, "json", "v2")))
    with pytest.raises(RateLimitError) as caught:
        client.place_limit_order(token_id=world.up, price="0.45", size="10", side="BUY")
    assert caught.value.retry_after == 1.0
    assert (caught.value.rate_limit.remaining, caught.value.rate_limit.reset) == (0.0, 1.0)


def test_core_still_switches_to_post_only_though_py_clob_client_v2_drops_the_headers(wired):
    world = wired(hooks=Refuse(post_only_answer("v2")))
    exchange = ClobExchange(world.client())
    command = PlaceOrder(token_id=world.up, side=Side.SELL, price=D("0.99"), size=D("10"))
    with pytest.raises(Transient) as caught:
        exchange.post_order(exchange.prepare_order(command))
    assert (caught.value.status, caught.value.message, caught.value.retry_after) == (503, POST_ONLY_MODE, None)
    assert "post_only" in caught.value.message  # what core.monitor's switch looks for
