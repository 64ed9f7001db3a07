"""A foreign bot's network: every HTTP request it makes is answered in process, none leaves.

A bot written against Polymarket calls more than the CLOB: Gamma to find a market by its slug,
the Data API for its positions and trades, and services of its own (a price feed). While a
foreign bot runs, `BotNetwork.installed()` routes every request of every httpx client (the
transports it would have built) and of requests (its adapters) through `BotNetwork.answer`:

- a CLOB request (the real clients' own channel, or a host in CLOB_HOSTS) goes to the simulated
  CLOB through wire mode's SimTransport, whatever host the client was given;
- Gamma (GAMMA_HOST) and the Data API (DATA_HOST) are answered from the simulated market and venue;
- any other host is answered by the user's stubs (`stubs`: a scenario's `bot_stubs` section or a
  Python hook); an unstubbed host is refused with one message naming host and path (kept in
  `refused`, which fails the run's bot-contained check) and the bot sees a ConnectError, as it
  would with no network. Sockets are refused as well, so nothing reaches a real network.

Why not respx/responses: those mock a test's calls to chosen URLs; here every transport of the
process is routed by host to in-process services, for one thread only (the run's), with the
refusal counted as a run failure. The routing is two method swaps, undone when the bot ends.
"""

from __future__ import annotations

import _thread
import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx

from clobsim.sim.exchange.markets import Market
from clobsim.sim.exchange.records import FAILED
from clobsim.sim.exchange.venue import Venue

GAMMA_HOST = "gamma-api.polymarket.com"
DATA_HOST = "data-api.polymarket.com"
# hosts a bot may give its clients for the CLOB (V1, V2, the simulator's own)
CLOB_HOSTS = ("clob.polymarket.com", "clob-v2.polymarket.com", "clob.sim")

# A stub answers (method, url) with (status, JSON-able body), or None: not mine.
Stub = Callable[[str, str], "tuple[int, Any] | None"]


class Refused(httpx.ConnectError):
    """A request the simulation will not answer (an unstubbed host)."""


def _money(value: Decimal) -> float:
    return float(value)


class Services:
    """Gamma and the Data API, answered from the venue's state at the moment of the request."""

    def __init__(self, venue: Venue, address: str, owner: str):
        self.venue, self.address, self.owner = venue, address.lower(), owner

    def answer(self, method: str, host: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if method != "GET":
            return 405, {"error": "method not allowed"}
        if host == GAMMA_HOST:
            return self._gamma(path.rstrip("/"), query)
        return self._data(path.rstrip("/"), query)

    # ---- Gamma -------------------------------------------------------------------------------

    def _gamma(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        markets = [self.venue.markets[cid] for cid in sorted(self.venue.markets)]
        if path == "/markets":
            slug = query.get("slug")
            return 200, [self.gamma_market(m) for m in markets if slug is None or m.slug == slug]
        if path.startswith("/markets/slug/"):
            found = [m for m in markets if m.slug == path.rsplit("/", 1)[1]]
            return (200, self.gamma_market(found[0])) if found else (404, {"error": "market not found"})
        if path == "/events":
            slug = query.get("slug")
            return 200, [self.gamma_event(m) for m in markets if slug is None or m.slug == slug]
        return 404, {"error": f"not found: {path}"}

    def gamma_market(self, market: Market) -> dict:
        """Gamma's market shape: its list fields are JSON-encoded strings, as the real API sends them."""
        prices = []
        for token in market.tokens:
            book = self.venue.book(token.token_id)
            bid = book.best_bid() if book is not None else None
            prices.append(str(bid if bid is not None else "0"))
        return {
            "id": market.condition_id[-8:],
            "question": market.question,
            "conditionId": market.condition_id,
            "slug": market.slug,
            "endDate": market.end_date_iso,
            "active": not market.closed,
            "closed": market.closed,
            "acceptingOrders": market.accepting_orders,
            "outcomes": json.dumps([t.outcome for t in market.tokens]),
            "outcomePrices": json.dumps(prices),
            "clobTokenIds": json.dumps([t.token_id for t in market.tokens]),
            "orderPriceMinTickSize": float(market.tick_size),
            "orderMinSize": float(market.min_size),
            "negRisk": market.neg_risk,
            "enableOrderBook": True,
        }

    def gamma_event(self, market: Market) -> dict:
        return {"id": market.condition_id[-8:], "slug": market.slug, "title": market.question,
                "markets": [self.gamma_market(market)]}  # fmt: skip

    # ---- Data API ----------------------------------------------------------------------------

    def _data(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        user = (query.get("user") or "").lower()
        if path not in ("/positions", "/trades"):
            return 404, {"error": f"not found: {path}"}
        if not user:
            return 400, {"error": "user is required"}
        if user != self.address:
            return 200, []
        return 200, (self.positions() if path == "/positions" else self.trades())

    def positions(self) -> list[dict]:
        """The account's token holdings (resting SELLs included: the Data API counts shares owned)."""
        account = self.venue.account(self.owner)
        rows: list[dict] = []
        if account is None:
            return rows
        for asset in sorted(account.balances):
            market = self.venue.market_of(asset)
            size = account.balance(asset)
            if market is None or size <= 0:
                continue
            rows.append(
                {
                    "proxyWallet": self.address,
                    "asset": asset,
                    "conditionId": market.condition_id,
                    "size": _money(size),
                    "outcome": market.outcome_of(asset),
                    "slug": market.slug,
                    "endDate": market.end_date_iso,
                    "redeemable": market.closed,
                }
            )
        return rows

    def trades(self) -> list[dict]:
        """The account's fills, newest first (the Data API's order), void ones left out."""
        rows = []
        for trade in self.venue.trades_of(self.owner):
            if trade.status == FAILED:
                continue
            legs = [(trade.side, trade.size, trade.price)] if trade.taker_owner == self.owner else []
            legs += [(leg.side, leg.matched_amount, leg.price) for leg in trade.makers if leg.owner == self.owner]
            for side, size, price in legs:
                rows.append(
                    {
                        "proxyWallet": self.address,
                        "side": side,
                        "asset": trade.asset_id,
                        "conditionId": trade.market,
                        "size": _money(size),
                        "price": _money(price),
                        "timestamp": trade.match_time,
                        "outcome": trade.outcome,
                        "transactionHash": trade.transaction_hash,
                    }
                )
        rows.reverse()
        return rows


class BotNetwork:
    """Routes a foreign bot's HTTP by host; see the module's docstring."""

    def __init__(self, clob: httpx.BaseTransport, services: Services, stubs: list[Stub], active: Callable[[], bool]):
        self.clob, self.services, self.stubs, self.active = clob, services, stubs, active
        self.refused: list[str] = []  # one message per refused host and path, in order

    def answer(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in CLOB_HOSTS:
            return self.clob.handle_request(request)
        path = request.url.path
        if host in (GAMMA_HOST, DATA_HOST):
            query = dict(request.url.params.multi_items())
            status, body = self.services.answer(request.method, host, path, query)
            return _json(status, body)
        url = str(request.url)
        for stub in self.stubs:
            answered = stub(request.method, url)
            if answered is not None:
                status, body = answered
                return _json(status, body)
        message = f"the bot called {request.method} {host}{path}, a host with no stub (add it to bot_stubs)"
        if message not in self.refused:
            self.refused.append(message)
        raise Refused(message, request=request)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Every httpx and requests transport of the run's thread answers through `answer`;
        other threads of the process keep theirs. Sockets the bot opens are refused."""
        network = self
        real_sync = httpx.HTTPTransport.handle_request
        real_async = httpx.AsyncHTTPTransport.handle_async_request
        real_connect = socket.socket.connect
        real_getaddrinfo = socket.getaddrinfo
        thread = _thread.get_ident()  # the real one: a bot thread's ident is a simulated one

        def ours() -> bool:
            return _thread.get_ident() == thread and network.active()

        def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
            if not ours():
                return real_sync(self, request)
            request.read()
            return network.answer(request)

        async def handle_async_request(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
            if not ours():
                return await real_async(self, request)
            await request.aread()
            return network.answer(request)

        def refuse(what: str) -> OSError:
            message = f"the bot {what}: only HTTP through httpx or requests is simulated"
            if message not in network.refused:
                network.refused.append(message)
            return ConnectionRefusedError(message)

        def connect(self: socket.socket, address: Any) -> None:
            if not ours():
                return real_connect(self, address)
            raise refuse(f"opened a socket to {address!r}")

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not ours():
                return real_getaddrinfo(host, *args, **kwargs)
            raise refuse(f"looked up the address of {host!r}")

        restore = _route_requests(network, ours)
        httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
        httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]
        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.getaddrinfo = getaddrinfo
        try:
            yield
        finally:
            httpx.HTTPTransport.handle_request = real_sync  # type: ignore[method-assign]
            httpx.AsyncHTTPTransport.handle_async_request = real_async  # type: ignore[method-assign]
            socket.socket.connect = real_connect  # type: ignore[method-assign]
            socket.getaddrinfo = real_getaddrinfo
            restore()


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(
        status, headers={"Content-Type": "application/json"}, content=json.dumps(body, separators=(",", ":")).encode()
    )


def _route_requests(network: BotNetwork, ours: Callable[[], bool]) -> Callable[[], None]:
    """requests' HTTPAdapter.send answered through the network (as an httpx request); returns
    the undo. requests is optional: without it there is nothing to route."""
    try:
        import requests  # noqa: PLC0415 - an optional dependency of the bot's, not clobsim's
        import requests.adapters  # noqa: PLC0415
    except ImportError:
        return lambda: None
    real_send = requests.adapters.HTTPAdapter.send

    def send(self: Any, prepared: Any, *args: Any, **kwargs: Any) -> Any:
        if not ours():
            return real_send(self, prepared, *args, **kwargs)
        body = prepared.body.encode() if isinstance(prepared.body, str) else (prepared.body or b"")
        request = httpx.Request(prepared.method, prepared.url, headers=dict(prepared.headers), content=body)
        try:
            answer = network.answer(request)
        except Refused as exc:
            raise requests.exceptions.ConnectionError(str(exc), request=prepared) from None
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(answer.headers)
        response._content = answer.content
        response.encoding = "utf-8"
        response.url = prepared.url
        response.request = prepared
        response.reason = answer.reason_phrase
        return response

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign,assignment]

    def restore() -> None:
        requests.adapters.HTTPAdapter.send = real_send  # type: ignore[method-assign]

    return restore


def url_parts(url: str) -> tuple[str, str]:
    """(host, path) of a URL, for stub matching."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.path or "/"


class ClobChannel(httpx.BaseTransport):
    """The real clients' own channel (wire.installed): Gamma and Data API hosts to the services
    (polymarket-client builds one transport per service over it), everything else to the CLOB."""

    def __init__(self, network: BotNetwork):
        self.network = network

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in (GAMMA_HOST, DATA_HOST):
            return self.network.answer(request)
        return self.network.clob.handle_request(request)
