"""The WebSocket channels and the ws fault kinds, on a real session's venue without sockets: each
test subscribes a connection, makes the venue trade, runs the simulated clock and reads exactly
what the connection was given to send (its queue), in order."""

from __future__ import annotations

import json

import pytest

from clobsim.sim.exchange.records import OrderRequest
from clobsim.sim.faults import CATALOGUE
from clobsim.sim.faults.sockets import MARKET, USER
from clobsim.sim.runner.harness import BOT_CREDS
from clobsim.sim.runner.scenario import from_dict
from clobsim.sim.server.channels import BadSubscription, Channels
from clobsim.sim.server.session import Session

SHOWN: set[str] = set()
AUTH = {"apiKey": BOT_CREDS.api_key, "secret": BOT_CREDS.api_secret, "passphrase": BOT_CREDS.api_passphrase}


def shows(kind: str):
    assert kind in CATALOGUE, kind
    SHOWN.add(kind)
    return lambda test: test


class Rig:
    def __init__(self, tmp_path, faults=()):
        scenario = from_dict(
            {
                "name": "channels",
                "seed": 1,
                "market": {
                    "symbol": "BTC",
                    "window_length": 600,
                    "resolution_delay": 0,
                    "price_model": {"kind": "scripted", "start": 0.5, "depth": 50},
                    "taker_flow": {"rate": 0},
                },
                "trades": [{"id": 1, "at": 1, "side": "DOWN", "price": 0.5, "size": 5}],
                "faults": list(faults),
            },
            "test",
        )
        self.session = Session(scenario, seed=None, protocol="v2", speed=1.0, workdir=str(tmp_path))
        self.channels = Channels(self.session.run.venue, self.session.run.network, self.session.run.record)
        self.session.run.begin_venue("serve")
        self.venue = self.session.run.venue
        self.up = self.session.run.market.token("Up").token_id
        self.user = self.channels.connect(USER, socket=None)  # type: ignore[arg-type]
        self.channels.subscribe(self.user, {"type": "user", "auth": AUTH, "markets": []})
        self.orders = 0

    def at(self, seconds: float) -> None:
        self.session.run.run_until(self.session.run.window_start + seconds)
        self.channels.flush()

    def buy(self, price: str, size: int) -> str:
        account = self.venue.account(BOT_CREDS.api_key)
        self.orders += 1
        order_id = f"0x{self.orders:064x}"
        self.venue.place_order(
            BOT_CREDS.api_key,
            OrderRequest(
                order_id=order_id,
                owner_field=BOT_CREDS.api_key,
                maker=account.funder,
                signer=account.address,
                token_id=self.up,
                side="BUY",
                maker_amount=int(float(price) * size * 1_000_000),
                taker_amount=size * 1_000_000,
                expiration=0,
                order_type="GTC",
                post_only=False,
            ),
        )
        return order_id

    def sent(self, connection=None) -> list[tuple[str, str]]:
        """(event_type, the order's type or the trade's status) of every message the connection was given, in order."""
        queue = (connection or self.user).queue
        out = []
        while not queue.empty():
            for event in _events(queue.get_nowait()):
                detail = event["status"] if event["event_type"] == "trade" else event.get("type", "")
                out.append((event["event_type"], detail))
        return out

    def faults(self) -> list[dict]:
        return [r for r in self.session.run.trace if r["type"] == "fault"]


def _events(text):
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def test_the_user_channel_sends_placement_update_and_trade_for_a_fill_and_cancellation_for_a_cancel(tmp_path):
    rig = Rig(tmp_path)
    rig.at(10)
    rig.buy("0.51", 10)  # crosses the crowd's ask: matched at once
    resting = rig.buy("0.05", 5)
    rig.venue.cancel(BOT_CREDS.api_key, [resting])
    rig.at(20)
    sent = rig.sent()
    assert sent[:6] == [
        ("order", "PLACEMENT"),
        ("order", "UPDATE"),
        ("trade", "MATCHED"),
        ("order", "PLACEMENT"),
        ("order", "CANCELLATION"),
        ("trade", "MINED"),
    ]
    assert ("trade", "CONFIRMED") in sent[6:]


def test_a_user_subscription_with_a_wrong_secret_is_refused(tmp_path):
    rig = Rig(tmp_path)
    other = rig.channels.connect(USER, socket=None)  # type: ignore[arg-type]
    with pytest.raises(BadSubscription, match="Unauthorized"):
        rig.channels.subscribe(other, {"type": "user", "auth": {**AUTH, "secret": "x"}})


def test_the_market_channel_sends_the_book_on_subscription_then_price_changes_and_last_trade_price(tmp_path):
    rig = Rig(tmp_path)
    market = rig.channels.connect(MARKET, socket=None)  # type: ignore[arg-type]
    first = rig.channels.subscribe(market, {"type": "market", "assets_ids": [rig.up]})
    assert [b["event_type"] for b in first] == ["book"] and first[0]["asset_id"] == rig.up
    rig.at(10)
    rig.sent(market)  # the crowd's quotes so far
    rig.buy("0.51", 10)
    rig.at(11)
    sent = rig.sent(market)
    assert sent == [("last_trade_price", ""), ("book", "")]  # after a trade, the whole book
    resting = rig.buy("0.05", 5)
    rig.channels.flush()
    rig.venue.cancel(BOT_CREDS.api_key, [resting])
    rig.channels.flush()
    queue = market.queue
    changes = [json.loads(queue.get_nowait())["price_changes"] for _ in range(queue.qsize())]
    assert [[(c["side"], c["price"], c["size"]) for c in levels] for levels in changes] == [
        [("BUY", "0.05", "5")],
        [("BUY", "0.05", "0")],  # the level is gone: size 0, as production says it
    ]


@shows("ws_drop")
def test_ws_drop_loses_the_user_channels_trade_messages_in_its_window(tmp_path):
    rig = Rig(tmp_path, [{"kind": "ws_drop", "channel": "user", "events": ["trade"], "from": 5, "to": 15}])
    rig.at(10)
    rig.buy("0.51", 10)
    rig.at(14)
    assert rig.sent() == [("order", "PLACEMENT"), ("order", "UPDATE")]
    assert [(f["kind"], f["event_type"]) for f in rig.faults()] == [("ws_drop", "trade"), ("ws_drop", "trade")]
    rig.at(30)  # after the window: the trade's later statuses arrive
    assert ("trade", "CONFIRMED") in rig.sent()


@shows("ws_duplicate")
def test_ws_duplicate_sends_the_trade_twice(tmp_path):
    rig = Rig(tmp_path, [{"kind": "ws_duplicate", "events": ["trade"], "count": 1}])
    rig.at(10)
    rig.buy("0.51", 10)
    rig.at(10.5)
    assert rig.sent() == [("order", "PLACEMENT"), ("order", "UPDATE"), ("trade", "MATCHED"), ("trade", "MATCHED")]
    assert len(rig.faults()) == 1


@shows("ws_delay")
def test_ws_delay_holds_the_trade_back_for_its_seconds(tmp_path):
    rig = Rig(tmp_path, [{"kind": "ws_delay", "events": ["trade"], "count": 1, "seconds": 4}])
    rig.at(10)
    rig.buy("0.51", 10)
    rig.at(13.9)
    # the trade's next status (not delayed: count 1) overtakes its MATCHED
    assert rig.sent() == [("order", "PLACEMENT"), ("order", "UPDATE"), ("trade", "MINED")]
    rig.at(14.1)
    assert rig.sent() == [("trade", "MATCHED")]
    assert [(f["kind"], f["event_type"], f["seconds"]) for f in rig.faults()] == [("ws_delay", "trade", 4.0)]


@shows("ws_reorder")
def test_ws_reorder_sends_the_update_after_the_trade_that_followed_it(tmp_path):
    rig = Rig(tmp_path, [{"kind": "ws_reorder", "events": ["order"], "from": 5, "count": 1}])
    rig.at(10)
    rig.buy("0.51", 10)
    rig.at(10.5)
    assert rig.sent()[:2] == [("order", "UPDATE"), ("order", "PLACEMENT")]
    assert rig.faults()[0]["overtaken_by"] == "order"


@shows("ws_disconnect")
def test_ws_disconnect_closes_the_channel_and_what_follows_is_not_replayed(tmp_path):
    rig = Rig(tmp_path, [{"kind": "ws_disconnect", "channel": "user", "at": 8, "down": 5}])
    rig.at(9)
    assert rig.user.queue.get_nowait() is None  # the writer's signal to close the socket
    assert not rig.channels.accepting(USER)
    rig.buy("0.51", 10)
    rig.at(14)
    assert rig.channels.accepting(USER)
    again = rig.channels.connect(USER, socket=None)  # type: ignore[arg-type]
    rig.channels.subscribe(again, {"type": "user", "auth": AUTH})
    rig.at(15)
    assert ("trade", "MATCHED") not in rig.sent(again)
    assert [f["closed"] for f in rig.faults()] == [1]


def test_every_websocket_fault_kind_has_a_test_showing_its_effect():
    assert sorted(SHOWN) == sorted(k for k, kind in CATALOGUE.items() if kind.over_sockets)
