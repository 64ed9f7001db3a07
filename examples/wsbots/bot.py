"""A small bot for `clobsim run --bot-cmd`: py-clob-client-v2 for REST (py-clob-client when the
venue speaks v1), websockets for the user channel. It buys 10 shares of the Up token at the best
ask (a fill), rests a 5-share bid far below the market and cancels it, then learns what happened
from the user channel, and prints one line per fact it believes:

    FILL trade=<id> order=<id> size=<shares> price=<price>
    CANCELLED order=<id>
    POSITION UP <shares>

WSBOT_MODE says where it takes its fills from:
- channel: the user channel alone (what many production bots do; it misses a dropped event),
- rest:    the user channel, then its orders and trades over REST (it finds what the channel lost).

Everything it needs comes from clobsim's CLOBSIM_* variables (README, "Server mode").
"""

from __future__ import annotations

import json
import os
import sys
import time
from decimal import Decimal

from py_clob_client import clob_types as v1_types
from py_clob_client.client import ClobClient as V1Client
from py_clob_client_v2 import clob_types as v2_types
from py_clob_client_v2.client import ClobClient as V2Client
from websockets.sync.client import connect

LISTEN_SECONDS = float(os.environ.get("WSBOT_LISTEN_SECONDS", "3"))  # wall seconds of listening


def say(line: str) -> None:
    print(line, flush=True)


def main() -> int:
    env = os.environ
    mode = env.get("WSBOT_MODE", "channel")
    client = Client(env)
    creds = client.creds
    token = env["CLOBSIM_TOKEN_UP"]
    with connect(env["CLOBSIM_WS_URL"] + "/user") as socket:
        socket.send(
            json.dumps(
                {
                    "type": "user",
                    "auth": {"apiKey": creds.api_key, "secret": creds.api_secret, "passphrase": creds.api_passphrase},
                    "markets": [env["CLOBSIM_MARKET"]],
                }
            )
        )
        best_ask = client.best_ask(token)
        taken = client.buy(token, float(best_ask), 10)
        resting = client.buy(token, 0.05, 5)
        client.cancel(resting["orderID"])
        mine = {taken["orderID"], resting["orderID"]}
        fills: dict[tuple[str, str], tuple[Decimal, str]] = {}  # (trade id, order id) -> (size, price)
        cancelled: set[str] = set()
        deadline = time.monotonic() + LISTEN_SECONDS
        while time.monotonic() < deadline:
            try:
                text = socket.recv(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
            for event in _events(text):
                if event.get("event_type") == "trade" and event.get("taker_order_id") in mine:
                    fills[(event["id"], event["taker_order_id"])] = (Decimal(event["size"]), event["price"])
                elif event.get("event_type") == "order" and event.get("type") == "CANCELLATION":
                    cancelled.add(event["id"])
    if mode == "rest":
        # the channel delivers at most once: what it lost is still in the venue's records
        for trade in client.clob.get_trades():
            if trade["taker_order_id"] in mine:
                fills.setdefault((trade["id"], trade["taker_order_id"]), (Decimal(trade["size"]), trade["price"]))
        for order_id in sorted(mine):
            order = client.clob.get_order(order_id)
            if order and order["status"].startswith("CANCELED"):
                cancelled.add(order_id)
    for (trade_id, order_id), (size, price) in sorted(fills.items()):
        say(f"FILL trade={trade_id} order={order_id} size={size:f} price={price}")
    for order_id in sorted(cancelled & mine):
        say(f"CANCELLED order={order_id}")
    say(f"POSITION UP {sum((size for size, _ in fills.values()), Decimal(0)):f}")
    return 0


class Client:
    """py-clob-client-v2 on a v2 venue, py-clob-client on a v1 one (CLOBSIM_PROTOCOL)."""

    def __init__(self, env) -> None:
        self.v1 = env.get("CLOBSIM_PROTOCOL") == "v1"
        clob_types = v1_types if self.v1 else v2_types
        Clob = V1Client if self.v1 else V2Client  # noqa: N806 - a class
        self.types = clob_types
        self.creds = clob_types.ApiCreds(
            env["CLOBSIM_API_KEY"], env["CLOBSIM_API_SECRET"], env["CLOBSIM_API_PASSPHRASE"]
        )
        self.clob = Clob(
            env["CLOBSIM_CLOB_HOST"],
            chain_id=int(env["CLOBSIM_CHAIN_ID"]),
            key=env["CLOBSIM_PRIVATE_KEY"],
            creds=self.creds,
        )

    def best_ask(self, token: str) -> Decimal:
        book = self.clob.get_order_book(token)
        asks = book.asks if self.v1 else [self.types.OrderSummary(**level) for level in book["asks"]]
        return min(Decimal(level.price) for level in asks)

    def buy(self, token: str, price: float, size: float) -> dict:
        return self.clob.create_and_post_order(self.types.OrderArgs(token_id=token, price=price, size=size, side="BUY"))

    def cancel(self, order_id: str) -> None:
        if self.v1:
            self.clob.cancel(order_id)
        else:
            self.clob.cancel_order(self.types.OrderPayload(orderID=order_id))


def _events(text: str) -> list[dict]:
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


if __name__ == "__main__":
    sys.exit(main())
