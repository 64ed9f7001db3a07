"""Fixtures for the simulated CLOB: one venue with a BTC Up/Down window and two funded accounts.

Helpers reach the tests through the `kit` fixture rather than an import: tests/sim is imported
as a package whose name depends on whether tests/sim/__init__.py exists, so a helper module's
import path would too.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from eth_account import Account
from freezegun import freeze_time
from py_clob_client.client import ClobClient
from py_clob_client.clob_types import ApiCreds, OrderArgs

from clobsim.sim.clients.fast import FastClobClient
from clobsim.sim.clients.wire import SimTransport, installed
from clobsim.sim.exchange.gateway import Gateway
from clobsim.sim.exchange.venue import Venue

T0 = 1767268800  # 2026-01-01T12:00:00Z, a 15-minute window boundary
FROZEN = "2026-01-01 12:00:00"  # T0 for freezegun
HOST = "http://clob.sim"
CHAIN_ID = 137
BOT_KEY = "0x" + "11" * 32
BOT = ApiCreds(
    api_key="bot-api-key", api_secret=base64.urlsafe_b64encode(bytes(range(32))).decode(), api_passphrase="bot-pass"
)
OTHER_KEY = "0x" + "22" * 32
OTHER = ApiCreds(
    api_key="other-api-key",
    api_secret=base64.urlsafe_b64encode(bytes(range(32, 64))).decode(),
    api_passphrase="other-pass",
)


class ManualClock:
    def __init__(self, t: float):
        self.t = float(t)
        self.frozen = None  # the wall clock the real client reads, when a test froze it here

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
        if self.frozen is not None:
            self.frozen.tick(seconds)


def address_of(key: str) -> str:
    return Account.from_key(key).address


def build_venue(clock: ManualClock, collateral: str = "100") -> Venue:
    venue = Venue(clock.now)
    venue.open_updown_market("btc", T0)
    for key, creds in ((BOT_KEY, BOT), (OTHER_KEY, OTHER)):
        venue.open_account(
            creds.api_key, creds.api_secret, creds.api_passphrase, address_of(key), collateral=collateral
        )
    return venue


def place(
    client,
    token_id: str,
    price: float,
    size: float,
    side: str = "BUY",
    order_type: str = "GTC",
    post_only: bool = False,
) -> dict:
    signed = client.create_order(OrderArgs(token_id=token_id, price=price, size=size, side=side))
    return client.post_order(signed, orderType=order_type, post_only=post_only)


@pytest.fixture
def kit():
    return SimpleNamespace(
        T0=T0,
        FROZEN=FROZEN,
        HOST=HOST,
        CHAIN_ID=CHAIN_ID,
        BOT_KEY=BOT_KEY,
        BOT=BOT,
        OTHER_KEY=OTHER_KEY,
        OTHER=OTHER,
        ManualClock=ManualClock,
        address_of=address_of,
        build_venue=build_venue,
        place=place,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def venue(clock) -> Venue:
    return build_venue(clock)


@pytest.fixture
def market(venue):
    return next(iter(venue.markets.values()))


@pytest.fixture
def up(market) -> str:
    return market.token("Up").token_id


@pytest.fixture
def down(market) -> str:
    return market.token("Down").token_id


@pytest.fixture
def gateway(venue):
    # a small page size so every list read exercises the cursor paging
    gateway = Gateway(venue, page_size=2)
    yield gateway
    assert gateway.internal_errors == []


@pytest.fixture
def wire(gateway, clock):
    """A factory of REAL ClobClients whose HTTP goes to the simulated CLOB. Their wall clock (the
    L2 POLY_TIMESTAMP) is frozen at the venue's, as in a run: the venue refuses stale timestamps."""
    with freeze_time(datetime.fromtimestamp(clock.now(), UTC)) as frozen, installed(SimTransport(gateway)):
        clock.frozen = frozen
        try:
            yield lambda key=BOT_KEY, creds=BOT: ClobClient(HOST, chain_id=CHAIN_ID, key=key, creds=creds)
        finally:
            clock.frozen = None


@pytest.fixture
def bot(wire) -> ClobClient:
    return wire()


@pytest.fixture
def other(wire) -> ClobClient:
    return wire(OTHER_KEY, OTHER)


@pytest.fixture
def fast(gateway):
    """A factory of fast-mode look-alikes on the same gateway."""
    return lambda key=BOT_KEY, creds=BOT: FastClobClient(HOST, chain_id=CHAIN_ID, key=key, creds=creds, gateway=gateway)
