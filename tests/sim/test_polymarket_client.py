"""polymarket-client (Polymarket's official SDK), REAL and unmodified, against the v2 venue.

Its transports are routed in-process by sim.clients.wire.installed (no sockets); its sleeps and
its metadata cache's clock run on the test's clock (sim.clients.virtual_time.virtual_sleeps).
"""

from __future__ import annotations

import asyncio
import base64
from decimal import Decimal

import pytest
from eth_account import Account
from freezegun import freeze_time
from polymarket import ApiKeyCreds, AsyncSecureClient, OrderHeartbeatMismatchError, SecureClient
from polymarket import TimeoutError as PolymarketTimeoutError

from clobsim.sim.clients.virtual_time import virtual_sleeps
from clobsim.sim.clients.wire import SimTransport, installed
from clobsim.sim.exchange.gateway import Gateway
from clobsim.sim.exchange.venue import Venue

T0 = 1767268800  # 2026-01-01T12:00:00Z
KEY = "0x" + "11" * 32
ADDRESS = Account.from_key(KEY).address
CREDS = ApiKeyCreds(
    apiKey="bot-api-key", secret=base64.urlsafe_b64encode(bytes(range(32))).decode(), passphrase="bot-pass"
)


class Sleeps:
    """The SDK's sleeps: each moves the frozen clock (so its monotonic deadlines pass) and then
    lets the venue act, as the simulated market would meanwhile."""

    def __init__(self, frozen):
        self.frozen = frozen
        self.slept: list[float] = []
        self.meanwhile = lambda: None

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.frozen.tick(seconds)
        self.meanwhile()


@pytest.fixture
def world():
    now = [float(T0)]
    venue = Venue(lambda: now[0])
    market = venue.open_updown_market("btc", T0)
    venue.open_account(CREDS.key, CREDS.secret, CREDS.passphrase, ADDRESS, collateral="100")
    with freeze_time("2026-01-01 12:00:00") as frozen, installed(SimTransport(Gateway(venue, protocol="v2"))):
        sleeps = Sleeps(frozen)
        with virtual_sleeps(sleeps):
            yield venue, market, sleeps


def _client() -> SecureClient:
    # wallet = the signer: an EOA account, so the SDK asks no relayer whether a wallet is deployed
    return SecureClient.create(private_key=KEY, wallet=ADDRESS, credentials=CREDS)


def test_polymarket_client_trades_against_the_v2_venue_through_every_call_a_bot_makes(world):
    venue, market, _ = world
    up = market.token("Up").token_id
    client = _client()
    placed = client.place_limit_order(token_id=up, price="0.45", size="10", side="BUY")
    assert (placed.ok, placed.status, placed.trade_ids) == (True, "live", ())
    order_id = placed.order_id
    assert venue.book(up).has(order_id)
    # someone takes 4 of the 10 at the venue: a trade, a fill notification
    (trade,) = venue.fill_resting(order_id, "4")
    order = client.get_order(order_id=order_id)
    assert (order.id, order.status, order.original_size, order.size_matched, order.price) == (
        order_id,
        "LIVE",
        Decimal("10"),
        Decimal("4"),
        Decimal("0.45"),
    )
    assert [o.id for o in client.list_open_orders(token_id=up).iter_items()] == [order_id]
    trades = list(client.list_account_trades(token_id=up).iter_items())
    assert [(t.id, t.size, t.price) for t in trades] == [(trade.id, Decimal("4"), Decimal("0.45"))]
    cancelled = client.cancel_order(order_id=order_id)
    assert (cancelled.canceled, dict(cancelled.not_canceled)) == ((order_id,), {})
    assert list(client.list_open_orders().iter_items()) == []
    notes = client.get_notifications()
    assert [
        (n.type, n.payload.order_id, n.payload.trade_id, n.payload.matched_size, n.payload.remaining_size)
        for n in notes
    ] == [(2, order_id, trade.id, Decimal("4"), Decimal("6")), (1, order_id, None, Decimal("4"), Decimal("6"))]
    assert {(n.payload.outcome, n.payload.outcome_index, n.payload.order_type) for n in notes} == {("Up", 0, "GTC")}
    client.drop_notifications(ids=[n.id for n in notes])
    assert client.get_notifications() == ()
    collateral = client.get_balance_allowance(asset_type="COLLATERAL")
    assert collateral.balance == 98_200_000  # base units: 100 - 4 x 0.45 paid for the fill
    shares = client.get_balance_allowance(asset_type="CONDITIONAL", token_id=up)
    assert shares.balance == 4_000_000
    first = client.send_order_heartbeat().heartbeat_id
    assert client.send_order_heartbeat(heartbeat_id=first).heartbeat_id == first
    client.close()


def test_polymarket_client_is_told_a_stale_heartbeat_id_is_invalid_and_which_id_is_current(world):
    client = _client()
    current = client.send_order_heartbeat().heartbeat_id
    with pytest.raises(OrderHeartbeatMismatchError) as caught:
        client.send_order_heartbeat(heartbeat_id="not-the-current-session")
    assert (caught.value.status, caught.value.heartbeat_id) == (400, current)
    client.close()


def test_the_async_polymarket_client_places_reads_and_cancels_against_the_v2_venue(world):
    venue, market, _ = world
    up = market.token("Up").token_id

    async def session():
        client = await AsyncSecureClient.create(private_key=KEY, wallet=ADDRESS, credentials=CREDS)
        try:
            placed = await client.place_limit_order(token_id=up, price="0.45", size="10", side="BUY")
            order = await client.get_order(order_id=placed.order_id)
            cancelled = await client.cancel_order(order_id=placed.order_id)
            return placed.order_id, order.status, cancelled.canceled
        finally:
            await client.close()

    order_id, status, cancelled = asyncio.run(session())
    assert (status, cancelled) == ("LIVE", (order_id,))
    assert venue.open_orders(CREDS.key) == []


def _take_up(world):
    """A FAK buy for $5 of Up against crowd asks at 0.50: (the SDK's answer, the venue's trade)."""
    venue, market, _ = world
    up = market.token("Up").token_id
    venue.set_crowd_depth(up, "SELL", "0.50", "100")
    client = _client()
    placed = client.place_market_order(token_id=up, side="BUY", amount="5", order_type="FAK")
    (trade_id,) = placed.trade_ids
    assert placed.transactions_hashes == ()  # V2: a FAK answer names its trades, not their hashes
    (trade,) = [t for t in venue.trades_of(CREDS.key) if t.id == trade_id]
    return client, placed, trade


def test_polymarket_client_polls_a_fak_fill_on_virtual_time_until_it_is_confirmed(world):
    venue, _, sleeps = world
    client, placed, trade = _take_up(world)
    # the chain mines the trade during the SDK's second 0.25 s sleep, confirms it in the fourth
    moves = {2: "MINED", 4: "CONFIRMED"}
    sleeps.meanwhile = lambda: len(sleeps.slept) in moves and venue.advance_trade(trade.id, moves[len(sleeps.slept)])
    assert client.wait_for_order_fill_settlement(placed) == (trade.transaction_hash,)
    assert sleeps.slept == [0.25] * 4
    client.close()


def test_polymarket_client_gives_up_on_an_unconfirmed_fill_after_30_virtual_seconds(world):
    _, _, sleeps = world
    client, placed, trade = _take_up(world)
    with pytest.raises(PolymarketTimeoutError, match=trade.id):
        client.wait_for_order_fill_settlement(placed)
    assert sum(sleeps.slept) == 30.0  # never a real second: the frozen clock moved by the sleeps alone
    client.close()
