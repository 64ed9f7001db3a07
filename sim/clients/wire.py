"""Wire mode: the REAL py-clob-client talks HTTP to the simulated CLOB, in process.

SimTransport is an httpx transport serving the CLOB's REST surface from a Gateway. It does what
the real server does before the exchange sees a request:
- L2 auth: POLY_API_KEY names the account, POLY_PASSPHRASE and POLY_ADDRESS must be its, and
  POLY_SIGNATURE must be the urlsafe-base64 HMAC-SHA256 (key: the base64-decoded secret) over
  POLY_TIMESTAMP + METHOD + path (no query) + body. Anything else: 401 "Unauthorized/Invalid api
  key". POLY_TIMESTAMP must be whole seconds within TIMESTAMP_WINDOW of the venue's clock (the
  client's clock is the simulated one, under freezegun): a stale, future or garbage timestamp,
  and so a captured request replayed later, is 401. L2 headers must be printable ASCII (401).
  An identical request resent within the window cannot be told from a bot repeating a read in
  the same second (the HMAC has no nonce), so it is answered, as the real venue does.
- A body that is not UTF-8, or a query that is not ASCII: 400 "Invalid payload".
- Order signatures: the order id is rebuilt as the EIP-712 hash of the posted JSON and the signer
  recovered from the signature must be the order's `signer` field, else 400 "invalid signature".
Then it hands (route, owner, params, body) to Gateway.request. A NO_ANSWER from the gateway
becomes httpx.ReadTimeout, which py-clob-client reports as "Request exception!". A transport may
only raise httpx errors (anything else reaches the bot raw), so an unexpected exception here is
answered 500 and kept in the gateway's internal_errors.

`installed(transport)` swaps py_clob_client.http_helpers.helpers._http_client and its twin in
py_clob_client_v2 (the module globals every ClobClient request of either client goes through)
and puts the previous clients back afterwards (their sleeps: sim/clients/virtual_time.py).

polymarket-client (the official SDK) has no such global: every SyncTransport/AsyncTransport it
builds (one per service: clob, gamma, data, relayer, ...) calls `httpx.Client(...)` or
`httpx.AsyncClient(...)` through the name `httpx` in polymarket.clients._transport. `installed`
rebinds that one name to `_RoutedHttpx`, which builds the same clients (same base URL, timeout,
hooks) over `transport`; the SDK's own code runs unmodified. Its clients' http2/limits options
only configure the pool of the transport they would have built, so they are dropped.
"""

from __future__ import annotations

import hmac
import json
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

import httpx
import polymarket.clients._transport as sdk_transport
from py_clob_client.http_helpers import helpers
from py_clob_client.signing.hmac import build_hmac_signature
from py_clob_client_v2.http_helpers import helpers as v2_helpers

from clobsim.sim.exchange import orderid
from clobsim.sim.exchange.gateway import Answer, Gateway, error, split_target
from clobsim.sim.exchange.records import UNAUTHORIZED, VenueError

ORDER_ROUTES = ("POST /order", "POST /orders")
TIMESTAMP_WINDOW = 60  # seconds either side of the venue's clock (docs/venue-shapes.md)
L2_HEADERS = ("POLY_ADDRESS", "POLY_SIGNATURE", "POLY_TIMESTAMP", "POLY_API_KEY", "POLY_PASSPHRASE")


class SimTransport(httpx.BaseTransport):
    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self.door = FrontDoor(gateway, gateway.venue.now)  # the client's clock is the simulated one

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._handle(request)
        except httpx.HTTPError:
            raise
        except Exception:
            self.gateway.internal_errors.append(f"wire {request.method} {request.url.path}: {traceback.format_exc()}")
            return _response(request, error(500, "Internal server error"))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        admitted = self.door.admit(request.method, request.url.path, request.url.query, request.headers, request.read())
        if isinstance(admitted, Answer):
            return _response(request, admitted)
        return _response(request, self.gateway.request(admitted.route, **admitted.call_fields()))


class Admitted(NamedTuple):
    """A request the front door let through: what the gateway is handed."""

    route: str
    owner: str | None
    params: dict
    body: Any

    def call_fields(self) -> dict:
        return {"owner": self.owner, "params": self.params, "body": self.body}


class FrontDoor:
    """What the real server does before the exchange sees a request (the module docstring): route,
    payload, L2 auth and order signatures. Shared by the in-process transport and `clobsim serve`
    (sim.server), which checks POLY_TIMESTAMP against the wall clock (`now`) its clients sign with."""

    def __init__(self, gateway: Gateway, now: Callable[[], float]):
        self.gateway, self.now = gateway, now

    def admit(self, method: str, path: str, query: bytes, headers: Mapping[str, str], raw: bytes) -> Admitted | Answer:
        resolved = self.gateway.resolve(method, path)
        if resolved is None:
            return error(404, "not found")
        route, path_params = resolved
        try:
            params = split_target("?" + query.decode("ascii"))[1]
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return error(400, "Invalid payload")
        params.update(path_params)
        owner = None
        if self.gateway.needs_auth(route):
            owner = self._authenticate(method, path, headers, text)
            if owner is None:
                return error(401, UNAUTHORIZED)
        try:
            body = json.loads(text) if text else None
        except ValueError:
            return error(400, "Invalid payload")
        if route in ORDER_ROUTES and not self._signatures_valid(route, body):
            return error(400, "invalid signature")
        return Admitted(route, owner, params, body)

    def _authenticate(self, method: str, path: str, headers: Mapping[str, str], text: str) -> str | None:
        if not all(_printable_ascii(headers.get(name, "")) for name in L2_HEADERS):
            return None
        account = self.gateway.venue.account(headers.get("POLY_API_KEY"))
        if (
            account is None
            or headers.get("POLY_PASSPHRASE") != account.passphrase
            or (headers.get("POLY_ADDRESS") or "").lower() != account.address.lower()
        ):
            return None
        timestamp, signature = headers.get("POLY_TIMESTAMP"), headers.get("POLY_SIGNATURE")
        if not timestamp or not signature or not timestamp.isdigit() or len(timestamp) > 12:
            return None
        if abs(int(timestamp) - self.now()) > TIMESTAMP_WINDOW:
            return None
        expected = build_hmac_signature(account.secret, timestamp, method, path, text or None)
        return account.api_key if hmac.compare_digest(expected, signature) else None

    def _signatures_valid(self, route: str, body) -> bool:
        """Orders the venue could not even hash are left for the gateway to reject."""
        items = [body] if route == "POST /order" else body
        if not isinstance(items, list):
            return True
        for item in items:
            order = item.get("order") if isinstance(item, dict) else None
            if not isinstance(order, dict):
                continue
            try:
                digest = self.gateway.order_id_of(order)
            except VenueError:
                continue
            signer = orderid.recover_signer(digest, str(order.get("signature", "")))
            if signer is None or signer.lower() != str(order.get("signer", "")).lower():
                return False
        return True


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _response(request: httpx.Request, answer: Answer) -> httpx.Response:
    """The HTTP response for a gateway answer; NO_ANSWER is a read timeout."""
    status = answer.status
    if status is None:
        raise httpx.ReadTimeout("simulated CLOB: no answer", request=request)
    headers = dict(answer.headers)
    if isinstance(answer.body, str):
        return httpx.Response(status, text=answer.body, headers=headers)
    # serialized by hand: httpx's json=None would send an empty body, not `null`
    headers.setdefault("Content-Type", "application/json")
    return httpx.Response(status, headers=headers, content=json.dumps(answer.body, separators=(",", ":")).encode())


class _AsyncOverSync(httpx.AsyncBaseTransport):
    """A sync transport serving httpx.AsyncClient: the simulated CLOB answers without waiting."""

    def __init__(self, transport: httpx.BaseTransport):
        self.transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # the sync transport then reads the body from the cache
        return self.transport.handle_request(request)


class _RoutedHttpx:
    """The `httpx` module as polymarket.clients._transport sees it: its clients go through
    `transport`. Every other name is the real module's."""

    def __init__(self, transport: httpx.BaseTransport):
        self._transport = transport

    def __getattr__(self, name: str):
        return getattr(httpx, name)

    def Client(self, *, http2: bool = False, limits=None, **options) -> httpx.Client:  # noqa: N802  # httpx's name
        return httpx.Client(transport=self._transport, **options)

    def AsyncClient(self, *, http2: bool = False, limits=None, **options) -> httpx.AsyncClient:  # noqa: N802
        return httpx.AsyncClient(transport=_AsyncOverSync(self._transport), **options)


@contextmanager
def installed(transport: httpx.BaseTransport, *, timeout: float = 5.0) -> Iterator[httpx.Client]:
    """Route every py-clob-client, py-clob-client-v2 and polymarket-client request through
    `transport` for the duration."""
    previous = helpers._http_client, v2_helpers._http_client, sdk_transport.httpx
    client = httpx.Client(transport=transport, timeout=timeout)
    helpers._http_client = v2_helpers._http_client = client
    sdk_transport.httpx = _RoutedHttpx(transport)  # type: ignore[assignment]  # a stand-in for the module
    try:
        yield client
    finally:
        helpers._http_client, v2_helpers._http_client, sdk_transport.httpx = previous
        client.close()
