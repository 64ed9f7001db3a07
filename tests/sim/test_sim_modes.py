"""Fast mode and wire mode are the same exchange: same order ids, answers, errors and events."""

import json
import random

import pytest
from freezegun import freeze_time
from py_clob_client.client import ClobClient
from py_clob_client.clob_types import (
    AssetType,
    BalanceAllowanceParams,
    DropNotificationParams,
    OrderArgs,
    PartialCreateOrderOptions,
)
from py_clob_client.exceptions import PolyApiException
from py_clob_client_v2.client import ClobClient as ClobClientV2
from py_clob_client_v2.clob_types import ApiCreds as ApiCredsV2

from clobsim.sim.clients.fast import FastClobClient
from clobsim.sim.clients.fast_v2 import FastClobClientV2
from clobsim.sim.clients.wire import SimTransport, installed
from clobsim.sim.exchange import orderid
from clobsim.sim.exchange.gateway import NO_ANSWER, Gateway, Hooks

ARGS = [
    dict(price=0.53, size=10, side="BUY"),
    dict(price=0.53, size=10.5, side="BUY"),
    dict(price=0.99, size=12.000001, side="SELL"),  # the adapter's nudged size
    dict(price=0.01, size=5, side="BUY"),
    dict(price=0.47, size=7.77, side="SELL", expiration=1767272400),
]


@pytest.mark.parametrize("args", ARGS, ids=lambda a: f"{a['side']}-{a['size']}@{a['price']}")
def test_real_and_fast_create_order_give_the_same_order_id_under_seed_and_frozen_time(bot, fast, up, kit, args):
    with freeze_time(kit.FROZEN):
        random.seed(7)
        real = bot.create_order(OrderArgs(token_id=up, **args))
        random.seed(7)
        look_alike = fast().create_order(OrderArgs(token_id=up, **args))
    assert look_alike.order.dict() == real.order.dict()
    assert orderid.order_id(look_alike.dict(), kit.CHAIN_ID, False) == orderid.order_id(
        real.dict(), kit.CHAIN_ID, False
    )
    assert look_alike.signature != real.signature  # the look-alike never signs


def test_the_venue_derives_the_same_id_for_the_signed_and_the_unsigned_order(bot, fast, up, kit):
    with freeze_time(kit.FROZEN):
        random.seed(7)
        real_id = bot.post_order(bot.create_order(OrderArgs(token_id=up, price=0.4, size=5, side="BUY")))["orderID"]
        random.seed(7)
        client = fast()
        unsigned = client.create_order(OrderArgs(token_id=up, price=0.4, size=5, side="BUY"))
        with pytest.raises(PolyApiException) as caught:
            client.post_order(unsigned)
    assert caught.value.error_msg == {"error": f"order {real_id} is invalid. Duplicated."}


def test_local_validation_errors_are_the_real_clients(bot, fast, up):
    client = fast()
    for make in (bot, client):
        with pytest.raises(Exception) as caught:
            make.create_order(OrderArgs(token_id=up, price=0.995, size=5, side="BUY"))
        assert str(caught.value) == "price (0.995), min: 0.01 - max: 0.99"
        with pytest.raises(Exception) as caught:
            make.create_order(
                OrderArgs(token_id=up, price=0.5, size=5, side="BUY"), PartialCreateOrderOptions(tick_size="0.001")
            )
        assert str(caught.value) == "invalid tick size (0.001), minimum for the market is 0.01"
        with pytest.raises(Exception) as caught:
            make.post_order(None, orderType="FOK", post_only=True)
        assert str(caught.value) == "post_only orders can only be of type GTC or GTD"


class TimeOutOnce(Hooks):
    """Apply the next request of `route`, then give no answer."""

    def __init__(self, route):
        self.route = route

    def after_apply(self, call, answer):
        if call.route == self.route:
            self.route = None
            return NO_ANSWER
        return answer


def scenario(client_for, venue, gateway, kit) -> list:
    """A run touching every route and several error paths; returns what the bot saw."""
    market = next(iter(venue.markets.values()))
    up, down = market.token("Up").token_id, market.token("Down").token_id
    bot, other = client_for(kit.BOT_KEY, kit.BOT), client_for(kit.OTHER_KEY, kit.OTHER)
    seen = []

    def step(call):
        try:
            seen.append(("ok", call()))
        except PolyApiException as exc:
            seen.append(("error", exc.status_code, exc.error_msg))
        return seen[-1][1]

    venue.set_crowd_depth(up, "SELL", "0.55", "20")
    venue.set_crowd_depth(up, "BUY", "0.48", "30")
    venue.deposit(kit.OTHER.api_key, up, 20)
    resting = step(lambda: kit.place(bot, up, 0.50, 10))["orderID"]
    taken = step(lambda: kit.place(bot, up, 0.55, 10))["orderID"]
    step(lambda: kit.place(bot, up, 0.56, 5, post_only=True))
    step(lambda: kit.place(bot, up, 0.50, 4))
    step(lambda: kit.place(bot, up, 0.50, 1000))
    step(lambda: kit.place(other, up, 0.50, 6, side="SELL"))
    step(lambda: kit.place(bot, down, 0.30, 5, order_type="FOK"))
    venue.take(up, "SELL", "2", "0.48")  # leaves 2 of the resting bid
    step(bot.get_orders)
    step(bot.get_trades)
    step(other.get_trades)
    notes = step(bot.get_notifications)
    step(lambda: bot.drop_notifications(DropNotificationParams(ids=[notes[0]["id"]])))
    step(bot.get_notifications)
    gateway.hooks = TimeOutOnce("DELETE /order")
    step(lambda: bot.cancel(resting))
    step(lambda: bot.cancel(resting))
    step(lambda: bot.get_order(taken))
    step(lambda: bot.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)))
    step(lambda: bot.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=up)))
    step(lambda: bot.get_order_book(up))
    step(lambda: bot.post_heartbeat(None))
    venue.advance_trade(venue.orders[taken].associate_trades[0], "MINED")
    venue.resolve_market(market.condition_id, "Up")
    step(lambda: bot.get_market(market.condition_id))
    step(bot.get_notifications)
    step(bot.get_trades)
    return seen


def run_wire(kit):
    clock = kit.ManualClock(kit.T0)
    venue = kit.build_venue(clock)
    gateway = Gateway(venue, page_size=2)
    with freeze_time(kit.FROZEN), installed(SimTransport(gateway)):
        random.seed(7)
        seen = scenario(
            lambda key, creds: ClobClient(kit.HOST, chain_id=kit.CHAIN_ID, key=key, creds=creds), venue, gateway, kit
        )
    return seen, venue, gateway


def run_fast(kit):
    clock = kit.ManualClock(kit.T0)
    venue = kit.build_venue(clock)
    gateway = Gateway(venue, page_size=2)
    with freeze_time(kit.FROZEN):
        random.seed(7)
        seen = scenario(
            lambda key, creds: FastClobClient(kit.HOST, chain_id=kit.CHAIN_ID, key=key, creds=creds, gateway=gateway),
            venue,
            gateway,
            kit,
        )
    return seen, venue, gateway


def test_same_calls_through_wire_and_fast_give_identical_answers_and_events(kit):
    wire_seen, wire_venue, wire_gateway = run_wire(kit)
    fast_seen, fast_venue, fast_gateway = run_fast(kit)
    assert wire_gateway.internal_errors == fast_gateway.internal_errors == []
    assert len(fast_seen) == len(wire_seen) == 23
    for index, (w, f) in enumerate(zip(wire_seen, fast_seen, strict=True)):
        assert w == f, f"step {index} differs"
    assert fast_venue.events == wire_venue.events
    # the run reached the paths it means to: errors, a timeout, trades on both sides
    outcomes = [s[:2] if s[0] == "error" else ("ok",) for s in fast_seen]
    assert outcomes.count(("error", 400)) == 4
    assert ("error", None) in outcomes
    assert json.dumps(wire_venue.events) == json.dumps(fast_venue.events)


@pytest.mark.parametrize("neg_risk", [False, True])
def test_order_id_is_the_digest_py_order_utils_signs(kit, up, neg_risk):
    from py_clob_client.config import get_contract_config
    from py_order_utils.builders import OrderBuilder as UtilsOrderBuilder
    from py_order_utils.model import OrderData
    from py_order_utils.signer import Signer as UtilsSigner

    builder = UtilsOrderBuilder(
        get_contract_config(kit.CHAIN_ID, neg_risk).exchange, kit.CHAIN_ID, UtilsSigner(kit.BOT_KEY)
    )
    address = kit.address_of(kit.BOT_KEY)
    signed = builder.build_signed_order(
        OrderData(
            maker=address,
            tokenId=up,
            makerAmount="5300000",
            takerAmount="10000000",
            side=0,
            feeRateBps="0",
            nonce="0",
            signer=address,
            expiration="0",
            signatureType=0,
        )
    )
    digest = builder._create_struct_hash(signed.order)
    assert orderid.order_id(signed.dict(), kit.CHAIN_ID, neg_risk) == digest
    assert orderid.recover_signer(digest, signed.signature) == address


def test_the_look_alike_has_the_real_clients_signatures():
    import inspect

    public = [n for n in dir(FastClobClient) if not n.startswith("_")]
    assert {
        "create_order",
        "post_order",
        "cancel",
        "cancel_all",
        "get_order",
        "get_orders",
        "get_trades",
        "get_notifications",
        "drop_notifications",
        "get_balance_allowance",
        "get_order_book",
        "get_market",
        "post_heartbeat",
        "get_address",
    } <= set(public)
    for name in public:
        real = inspect.signature(getattr(ClobClient, name)).parameters.values()
        fake = inspect.signature(getattr(FastClobClient, name)).parameters.values()
        assert [(p.name, p.default) for p in fake] == [(p.name, p.default) for p in real], name


def test_fast_v2_clients_of_one_key_share_one_signer_yet_stand_as_the_real_client_does(gateway, kit):
    creds = ApiCredsV2(api_key=kit.BOT.api_key, api_secret=kit.BOT.api_secret, api_passphrase=kit.BOT.api_passphrase)
    first, second = (
        FastClobClientV2(kit.HOST, kit.CHAIN_ID, key=kit.BOT_KEY, creds=creds, gateway=gateway) for _ in range(2)
    )
    real = ClobClientV2(kit.HOST, kit.CHAIN_ID, key=kit.BOT_KEY, creds=creds)
    assert first.signer is second.signer
    assert (first.mode, first.get_address(), first.builder.funder, first.builder.signature_type) == (
        real.mode,
        real.get_address(),
        real.builder.funder,
        real.builder.signature_type,
    )
    keyless = FastClobClientV2(kit.HOST, kit.CHAIN_ID, creds=creds, gateway=gateway)
    assert keyless.signer is None and keyless.mode == ClobClientV2(kit.HOST, kit.CHAIN_ID, creds=creds).mode
