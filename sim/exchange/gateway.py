"""The single dispatch point between the two ways in (wire.py, fastclient.py) and the Venue.

    Gateway.request(route, *, owner, params, body) -> Answer(status, body)

`route` names an endpoint as "METHOD /path" ("POST /order", "GET /data/orders", ...; the names
sim.faults uses). A path parameter goes into `params` and the route keeps the collection's name:
GET /data/order/<id> is route "GET /data/order" with params["id"], GET /markets/<condition_id>
is "GET /markets" with params["condition_id"]. `params` holds the query string and the path
parameters, all strings, exactly as a server would parse them; `owner` is the caller's api key
once authenticated (None on public routes); `body` is the parsed JSON body. The answer's body
is JSON-native (dicts, lists, strings, numbers, None) and freshly built, so fast mode hands out
the same values wire mode decodes from bytes; a `str` body is a non-JSON text answer.

Both ways in build `params` with the same `split_target` and `Gateway.resolve`, so a call takes
the same route with the same params in either mode.

## The hook seam (where latency and faults come in)

    request(call) ->  hooks.before_apply(call)  -> Answer | None
                      apply(call)                  the venue changes state and answers
                      hooks.after_apply(call, answer) -> Answer

- `before_apply` returning an Answer answers INSTEAD of the venue: the request never reached the
  exchange (http_error 425/429/5xx, an HTML 403, or NO_ANSWER for timeout_before_apply).
- `after_apply` sees the venue's answer after the state change and may replace it: NO_ANSWER
  turns it into a timeout whose request WAS applied (timeout_after_apply), a stale body, etc.
- Both may block (e.g. a greenlet yielding to virtual time to model latency): the gateway keeps no
  state across the call. A `Call` carries a sequence number and the venue time it arrived.
- NO_ANSWER (status None) is "no answer": wire.py raises httpx.ReadTimeout, fastclient raises
  PolyApiException("Request exception!") -- what py-clob-client turns every timeout into.

Errors are {"error": message} with clob-reference.md's status codes. An exception that escapes
the venue is a simulator bug: it is answered 500 and kept in `internal_errors` (a harness must
check that list), because a transport may only raise httpx errors.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import traceback
import weakref
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from clobsim.sim.exchange import orderid
from clobsim.sim.exchange.book import BUY, SELL, Book
from clobsim.sim.exchange.markets import Market
from clobsim.sim.exchange.protocol import INVALID_HEARTBEAT_ID, ORDER_VERSION_MISMATCH, V1, V2, VERSION_NUMBER
from clobsim.sim.exchange.records import (
    COLLATERAL,
    INVALID_PAYLOAD,
    UNAUTHORIZED,
    Account,
    Order,
    OrderRequest,
    Placement,
    Trade,
    VenueError,
    base_units,
    fmt,
)
from clobsim.sim.exchange.venue import Venue

FIRST_CURSOR, END_CURSOR = "MA==", "LTE="  # base64 of "0" and "-1", as the real API pages
MAX_ALLOWANCE = str(2**256 - 1)  # the unlimited approval the Polymarket UI gives the exchange
# (method, path prefix) -> (route, parameter name) for the paths that end in an id
PATH_PARAMS = {
    ("GET", "/data/order/"): ("GET /data/order", "id"),
    ("GET", "/markets/"): ("GET /markets", "condition_id"),
    ("GET", "/clob-markets/"): ("GET /clob-markets", "condition_id"),  # v2 only
    ("GET", "/markets-by-token/"): ("GET /markets-by-token", "token_id"),  # v2 only
}


class Answer(NamedTuple):
    status: int | None  # None: no answer reached the client (a timeout)
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()  # e.g. Retry-After; only wire mode can carry them


NO_ANSWER = Answer(None)


class Call(NamedTuple):  # immutable, and built in a third of a frozen dataclass's time (every request)
    seq: int
    time: float
    route: str
    owner: str | None
    params: dict
    body: Any


# A named tuple's constructor is a Python function around tuple.__new__; the two records every
# request makes (its Call, its Answer) are built with tuple.__new__ itself: the same tuples.
_new_tuple = tuple.__new__


class Hooks:
    """The default seam: no latency, no faults."""

    def before_apply(self, call: Call) -> Answer | None:
        return None

    def after_apply(self, call: Call, answer: Answer) -> Answer:
        return answer


def split_target(target: str) -> tuple[str, dict]:
    """'/path?a=1&b=2' -> ('/path', {'a': '1', 'b': '2'}); the one query parser of both modes."""
    path, pairs = _split_target(target)
    return path, dict(pairs)  # a fresh dict: callers add the path parameters to it


@functools.lru_cache(maxsize=1024)
def _split_target(target: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    # a bot asks the same few targets over and over (its orders' status, notifications)
    path, _, query = target.partition("?")
    return path, tuple(parse_qsl(query, keep_blank_values=True))


def error(status: int, message: str) -> Answer:
    return Answer(status, {"error": message})


def _owner(call: Call) -> str:
    """The caller of an authenticated route (`apply` has already refused a call without one)."""
    if call.owner is None:
        raise VenueError(401, UNAUTHORIZED)
    return call.owner


class Gateway:
    def __init__(self, venue: Venue, hooks: Hooks | None = None, *, page_size: int = 100, protocol: str | None = None):
        self.venue = venue
        # the venue's protocol unless told otherwise (a test may put a v2 surface on a v1 venue)
        self.protocol = protocol or venue.protocol
        self.hooks = hooks or Hooks()
        self.page_size = page_size
        self.internal_errors: list[str] = []
        self._seq = 0
        self._resolved: dict[tuple[str, str], tuple[str, dict]] = {}  # (method, path) -> resolve()
        # route -> (handler, needs L2 auth)
        self.routes: dict[str, tuple[Callable[[Call], Any], bool]] = {
            "GET /": (lambda call: "OK", False),
            "GET /time": (lambda call: int(self.venue.now()), False),
            "POST /order": (self._post_order, True),
            "POST /orders": (self._post_orders, True),
            "DELETE /order": (self._cancel_order, True),
            "DELETE /orders": (self._cancel_orders, True),
            "DELETE /cancel-all": (self._cancel_all, True),
            "DELETE /cancel-market-orders": (self._cancel_market_orders, True),
            "GET /data/order": (self._get_order, True),
            "GET /data/orders": (self._get_orders, True),
            "GET /data/trades": (self._get_trades, True),
            "GET /notifications": (self._get_notifications, True),
            "DELETE /notifications": (self._drop_notifications, True),
            "GET /balance-allowance": (self._balance_allowance, True),
            "POST /v1/heartbeats": (self._heartbeat, True),
            "GET /book": (self._book, False),
            "GET /midpoint": (self._midpoint, False),
            "GET /tick-size": (self._tick_size, False),
            "GET /neg-risk": (self._neg_risk, False),
            "GET /fee-rate": (self._fee_rate, False),
            "GET /markets": (self._markets, False),
        }
        if self.protocol == V2:  # the routes CLOB V2 added; a v1 venue answers them 404 as before
            self.routes.update(
                {
                    "GET /ok": (lambda call: "OK", False),
                    "GET /version": (lambda call: {"version": VERSION_NUMBER[V2]}, False),
                    "GET /clob-markets": (self._clob_market, False),
                    "GET /markets-by-token": (self._market_by_token, False),
                    "GET /balance-allowance/update": (self._update_balance_allowance, True),
                    # polymarket-client checks given credentials with it before anything else
                    "GET /auth/api-keys": (lambda call: {"apiKeys": [_owner(call)]}, True),
                }
            )

    # ---- dispatch ----------------------------------------------------------------------

    def resolve(self, method: str, path: str) -> tuple[str, dict] | None:
        """(route, path params) for a request line, or None when nothing serves it."""
        resolved = self._resolved.get((method, path))
        if resolved is None:
            resolved = self._resolved[(method, path)] = self._resolve(method, path) or ("", {})
            if len(self._resolved) > 4096:
                self._resolved.clear()
        route, params = resolved
        return (route, dict(params)) if route else None

    def _resolve(self, method: str, path: str) -> tuple[str, dict] | None:
        route = f"{method} {path}"
        if route in self.routes:
            return route, {}
        for (p_method, prefix), (route, name) in PATH_PARAMS.items():
            tail = path[len(prefix) :]
            if route in self.routes and p_method == method and path.startswith(prefix) and tail and "/" not in tail:
                return route, {name: tail}
        return None

    def needs_auth(self, route: str) -> bool:
        return self.routes[route][1]

    def request(self, route: str, *, owner: str | None = None, params: dict | None = None, body: Any = None) -> Answer:
        call = self.new_call(route, owner=owner, params=params, body=body)
        early = self.hooks.before_apply(call)
        if early is not None:
            return early
        return self.hooks.after_apply(call, self.apply(call))

    def new_call(self, route: str, *, owner: str | None = None, params: dict | None = None, body: Any = None) -> Call:
        """The next call, numbered and timed (a server hands it to the network itself)."""
        call: Call = _new_tuple(Call, (self._seq, self.venue.now(), route, owner, dict(params or {}), body))
        self._seq += 1
        return call

    def apply(self, call: Call) -> Answer:
        """The venue step alone: no hooks."""
        entry = self.routes.get(call.route)
        if entry is None:
            return error(404, "not found")
        handler, auth = entry
        if auth and self.venue.account(call.owner) is None:
            return error(401, UNAUTHORIZED)
        try:
            return _new_tuple(Answer, (200, handler(call), ()))  # type: ignore[no-any-return]
        except VenueError as exc:
            return (
                Answer(exc.status, {"error": exc.message, **exc.fields})
                if exc.fields
                else error(exc.status, exc.message)
            )
        except Exception:  # a simulator bug, never a venue answer: keep it for the harness
            self.internal_errors.append(f"{call.route}: {traceback.format_exc()}")
            return error(500, "Internal server error")

    # ---- placing -----------------------------------------------------------------------

    def _post_order(self, call: Call) -> dict:
        return _placement_json(self.venue.place_order(_owner(call), self._order_request(call.body)), self.protocol)

    def _post_orders(self, call: Call) -> list:
        owner = _owner(call)
        if not isinstance(call.body, list):
            raise VenueError(400, INVALID_PAYLOAD)
        answers = []
        for item in call.body:  # per-order rejections come back inside the 200
            try:
                request = self._order_request(item)
                answers.append(_placement_json(self.venue.place_order(owner, request), self.protocol))
            except VenueError as exc:
                order = item.get("order") if isinstance(item, dict) else None
                answers.append(
                    {
                        "success": False,
                        "errorMsg": exc.message,
                        "orderID": self._order_id_or_blank(order),
                        "status": "",
                        "takingAmount": "",
                        "makingAmount": "",
                        "transactionsHashes": [],
                    }
                )
        return answers

    def order_id_of(self, order: dict) -> str:
        """The id the venue gives a posted order JSON (needs the market's neg_risk flag)."""
        market = self.venue.market_of(str(order.get("tokenId")))
        if market is None:
            raise VenueError(400, INVALID_PAYLOAD)
        if self.protocol == V2 and orderid.signed_version(order) != V2:
            # production's answer to a V1-signed order since the migration
            raise VenueError(400, ORDER_VERSION_MISMATCH)
        try:
            return orderid.order_id(order, self.venue.chain_id, market.neg_risk, self.protocol)
        except orderid.MalformedOrder:
            raise VenueError(400, INVALID_PAYLOAD) from None

    def _order_id_or_blank(self, order) -> str:
        try:
            return self.order_id_of(order) if isinstance(order, dict) else ""
        except VenueError:
            return ""

    def _order_request(self, body) -> OrderRequest:
        if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
            raise VenueError(400, INVALID_PAYLOAD)
        order = body["order"]
        order_id = self.order_id_of(order)
        side = order.get("side")
        if side in (0, 1):
            side = (BUY, SELL)[side]
        try:
            return OrderRequest(
                order_id=order_id,
                owner_field=str(body.get("owner")),
                maker=str(order["maker"]),
                signer=str(order["signer"]),
                token_id=str(order["tokenId"]),
                side=str(side),
                maker_amount=int(order["makerAmount"]),
                taker_amount=int(order["takerAmount"]),
                expiration=int(order["expiration"]),
                order_type=str(body.get("orderType", "GTC")),
                post_only=bool(body.get("postOnly", False)),
            )
        except (KeyError, TypeError, ValueError):
            raise VenueError(400, INVALID_PAYLOAD) from None

    # ---- cancelling --------------------------------------------------------------------

    def _cancel_order(self, call: Call) -> dict:
        body = call.body
        if not isinstance(body, dict) or not isinstance(body.get("orderID"), str):
            raise VenueError(400, INVALID_PAYLOAD)
        return _cancel_json(*self.venue.cancel(_owner(call), [body["orderID"]]))

    def _cancel_orders(self, call: Call) -> dict:
        if not isinstance(call.body, list) or not all(isinstance(i, str) for i in call.body):
            raise VenueError(400, INVALID_PAYLOAD)
        return _cancel_json(*self.venue.cancel(_owner(call), call.body))

    def _cancel_all(self, call: Call) -> dict:
        return _cancel_json(self.venue.cancel_all(_owner(call)), {})

    def _cancel_market_orders(self, call: Call) -> dict:
        body = call.body if isinstance(call.body, dict) else {}
        return _cancel_json(
            self.venue.cancel_market(_owner(call), str(body.get("market") or ""), str(body.get("asset_id") or "")), {}
        )

    # ---- orders, trades, notifications, balances ----------------------------------------

    def _get_order(self, call: Call):
        """null for an order the caller does not own or the venue never saw (failure mode 2:
        the real venue also answers null for some orders that matched)."""
        order = self.venue.orders.get(call.params.get("id", ""))
        if order is None or order.owner != call.owner:
            return None
        return order_json(order)

    def _get_orders(self, call: Call) -> dict:
        p = call.params
        orders = [
            order_json(o)
            for o in self.venue.open_orders(_owner(call))
            if (not p.get("id") or o.id == p["id"])
            and (not p.get("market") or o.market == p["market"])
            and (not p.get("asset_id") or o.asset_id == p["asset_id"])
        ]
        return self._page(orders, p.get("next_cursor"))

    def _get_trades(self, call: Call) -> dict:
        p = call.params
        viewer = self._account(call)
        try:
            after = int(p["after"]) if p.get("after") else None
            before = int(p["before"]) if p.get("before") else None
        except ValueError:
            raise VenueError(400, "Invalid trade params payload") from None
        trades = [
            trade_json(t, viewer)
            for t in self.venue.trades_of(viewer.api_key)
            if (not p.get("id") or t.id == p["id"])
            and (not p.get("market") or t.market == p["market"])
            and (not p.get("asset_id") or t.asset_id == p["asset_id"])
            and (not p.get("maker_address") or p["maker_address"].lower() == viewer.funder.lower())
            and (after is None or t.match_time > after)
            and (before is None or t.match_time < before)
        ]
        return self._page(trades, p.get("next_cursor"))

    def _account(self, call: Call) -> Account:
        """The caller's account on an authenticated route (`apply` has already refused a call
        without one)."""
        account = self.venue.account(call.owner)
        if account is None:
            raise VenueError(401, UNAUTHORIZED)
        return account

    def _page(self, items: list, cursor: str | None) -> dict:
        """Offset cursors in base64, as the real API: "MA==" first, "LTE=" after the last."""
        if cursor == END_CURSOR:
            return {"limit": self.page_size, "count": 0, "next_cursor": END_CURSOR, "data": []}
        try:
            offset = int(base64.b64decode(cursor or FIRST_CURSOR).decode())
        except ValueError:
            raise VenueError(400, "invalid next_cursor") from None
        data = items[offset : offset + self.page_size]
        end = offset + len(data)
        next_cursor = END_CURSOR if end >= len(items) else base64.b64encode(str(end).encode()).decode()
        return {"limit": self.page_size, "count": len(data), "next_cursor": next_cursor, "data": data}

    def _get_notifications(self, call: Call) -> list:
        notes = self.venue.pending_notifications(_owner(call))
        if self.protocol == V1:
            return [{"id": n.id, "type": n.type, "owner": n.owner, "payload": dict(n.payload)} for n in notes]
        # V2's shape, as polymarket-client parses it strictly: a timestamp, and order notifications
        # (cancel, fill) carry the order's outcome and sizes; clobsim's own keys stay for its bots
        return [
            {
                "id": n.id,
                "type": n.type,
                "owner": n.owner,
                "timestamp": n.time,
                "payload": {**n.payload, **(n.order_view or {})},
            }
            for n in notes
        ]

    def _drop_notifications(self, call: Call) -> str:
        ids = [i for i in call.params.get("ids", "").split(",") if i]
        self.venue.drop_notifications(_owner(call), ids)
        return "OK"

    def _balance_allowance(self, call: Call) -> dict:
        asset_type = call.params.get("asset_type")
        if asset_type == COLLATERAL:
            asset = COLLATERAL
        elif asset_type == "CONDITIONAL" and call.params.get("token_id"):
            asset = call.params["token_id"]
        else:
            raise VenueError(400, "Invalid asset type")
        balance = base_units(self.venue.balance(_owner(call), asset))
        if self.protocol == V1:
            return {"balance": balance, "allowance": MAX_ALLOWANCE}
        # V2 names the allowance per spender (the two V2 exchanges); polymarket-client requires it
        spenders = orderid.v2_exchanges(self.venue.chain_id)
        return {"balance": balance, "allowances": dict.fromkeys(spenders, MAX_ALLOWANCE)}

    def _heartbeat(self, call: Call) -> dict:
        heartbeat_id = call.body.get("heartbeat_id") if isinstance(call.body, dict) else None
        owner = _owner(call)
        if self.protocol == V2 and heartbeat_id:
            # V2 refuses an id that is not the session's current one (a lapsed session's id
            # included); an empty id starts a new session
            account = self.venue.account(owner)
            if account is None or heartbeat_id != account.heartbeat_id:
                # production also names the id it expects (polymarket-client reads error_msg and
                # heartbeat_id into OrderHeartbeatMismatchError); "" when no session is open
                current = (account.heartbeat_id if account else None) or ""
                raise VenueError(400, INVALID_HEARTBEAT_ID, error_msg=INVALID_HEARTBEAT_ID, heartbeat_id=current)
        return {"status": "ok", "heartbeat_id": self.venue.heartbeat(owner, heartbeat_id)}

    # ---- public market data ------------------------------------------------------------

    def _token(self, call: Call):
        token_id = call.params.get("token_id")
        if not token_id:
            raise VenueError(400, "Invalid token id")
        market = self.venue.market_of(token_id)
        if market is None:
            raise VenueError(404, "market not found")
        return token_id, market

    def _book(self, call: Call) -> dict:
        token_id = call.params.get("token_id")
        if not token_id:
            raise VenueError(400, "Invalid token id")
        if self.venue.book(token_id) is None:
            raise VenueError(404, "No orderbook exists for the requested token id")
        return book_json(self.venue, token_id)

    def _midpoint(self, call: Call) -> dict:
        token_id, _ = self._token(call)
        mid = _book_of(self.venue, token_id).midpoint()
        if mid is None:
            raise VenueError(404, "No orderbook exists for the requested token id")
        return {"mid": fmt(mid)}

    def _tick_size(self, call: Call) -> dict:
        return {"minimum_tick_size": float(self._token(call)[1].tick_size)}

    def _neg_risk(self, call: Call) -> dict:
        return {"neg_risk": self._token(call)[1].neg_risk}

    def _fee_rate(self, call: Call) -> dict:
        return {"base_fee": self._token(call)[1].fee_rate_bps}

    def _update_balance_allowance(self, call: Call) -> str:
        """V2's "refresh my cached balance" call: the simulated venue's balances are never
        cached, so it only validates its parameters."""
        self._balance_allowance(call)
        return "OK"

    def _clob_market(self, call: Call) -> dict:
        """GET /clob-markets/<condition_id>: the compact market info py-clob-client-v2 caches
        (t: tokens, mts: minimum tick size, nr: neg risk, fd: fee details)."""
        market = self.venue.markets.get(call.params["condition_id"])
        if market is None:
            raise VenueError(404, "market not found")
        return {
            "c": market.condition_id,
            "t": [{"t": token.token_id, "o": token.outcome} for token in market.tokens],
            "mts": _number(market.tick_size),
            "mos": _number(market.min_size),
            "nr": market.neg_risk,
            # fee details: V2's operator fee (rate, exponent); a fee-free market answers zeros
            "fd": (
                {"r": float(market.taker_fee_rate), "e": market.fee_exponent}
                if market.taker_fee_rate
                else {"r": market.fee_rate_bps / 10_000, "e": 0}
            ),
        }

    def _market_by_token(self, call: Call) -> dict:
        market = self.venue.market_of(call.params["token_id"])
        if market is None:
            raise VenueError(404, "market not found")
        return {"condition_id": market.condition_id}

    def _markets(self, call: Call) -> dict:
        if "condition_id" in call.params:
            return self._market(call)
        markets = [market_json(self.venue, m) for m in self.venue.markets.values()]
        return self._page(markets, call.params.get("next_cursor"))

    def _market(self, call: Call) -> dict:
        market = self.venue.markets.get(call.params["condition_id"])
        if market is None:
            raise VenueError(404, "market not found")
        return market_json(self.venue, market)


# ---- renderers: the venue's records in the real API's shapes --------------------------------


def _book_of(venue: Venue, token_id: str) -> Book:
    """The book of a listed token: the venue lists a market's books with it, so a missing one is
    a simulator bug (answered 500, as any exception but a VenueError)."""
    book = venue.book(token_id)
    if book is None:
        raise LookupError(f"no book for listed token {token_id}")
    return book


def _market_of(venue: Venue, token_id: str) -> Market:
    """The market of a token whose book exists (listed together; see _book_of)."""
    market = venue.market_of(token_id)
    if market is None:
        raise LookupError(f"no market for token {token_id}")
    return market


def _amount(value: Decimal) -> str:
    return fmt(value) if value else ""


def _placement_json(placement: Placement, protocol: str) -> dict:
    answer = {
        "success": True,
        "errorMsg": "",
        "orderID": placement.order.id,
        "transactionsHashes": [t.transaction_hash for t in placement.trades],
        "status": placement.status,
        "takingAmount": _amount(placement.taking),
        "makingAmount": _amount(placement.making),
    }
    if protocol == V2:
        answer["tradeIDs"] = [t.id for t in placement.trades]
        if placement.order.order_type in ("FOK", "FAK"):
            # since July 2026 V2 answers FAK/FOK posts before settlement: ids, no hashes
            # (py-clob-client-v2's post_order then polls /data/trades for them)
            answer["transactionsHashes"] = []
    return answer


def _cancel_json(canceled: list[str], not_canceled: dict[str, str]) -> dict:
    return {"canceled": list(canceled), "not_canceled": dict(not_canceled)}


def order_json(order: Order) -> dict:
    return {
        "id": order.id,
        "status": order.status,
        "owner": order.owner,
        "maker_address": order.maker_address,
        "market": order.market,
        "asset_id": order.asset_id,
        "side": order.side,
        "original_size": fmt(order.original_size),
        "size_matched": fmt(order.size_matched),
        "price": fmt(order.price),
        "associate_trades": list(order.associate_trades),
        "outcome": order.outcome,
        "created_at": order.created_at,
        "expiration": str(order.expiration),
        "order_type": order.order_type,
    }


def trade_json(trade: Trade, viewer: Account) -> dict:
    """One trade as `viewer` sees it: owner/maker_address are the viewer's, trader_side its role."""
    return {
        "id": trade.id,
        "taker_order_id": trade.taker_order_id,
        "market": trade.market,
        "asset_id": trade.asset_id,
        "side": trade.side,
        "size": fmt(trade.size),
        "fee_rate_bps": str(trade.fee_rate_bps),
        "price": fmt(trade.price),
        "status": trade.status,
        "match_time": str(trade.match_time),
        "last_update": str(trade.last_update),
        "outcome": trade.outcome,
        "bucket_index": trade.bucket_index,
        "owner": viewer.api_key,
        "maker_address": viewer.funder,
        "maker_orders": [
            {
                "order_id": leg.order_id,
                "owner": leg.owner or "",
                "maker_address": leg.maker_address,
                "matched_amount": fmt(leg.matched_amount),
                "price": fmt(leg.price),
                "asset_id": trade.asset_id,
                "side": leg.side,
                "outcome": trade.outcome,
            }
            for leg in trade.makers
        ],
        "transaction_hash": trade.transaction_hash,
        "trader_side": "TAKER" if trade.taker_owner == viewer.api_key else "MAKER",
    }


# The JSON text the server's book hash is taken over: compact, non-ASCII kept (as
# py_clob_client.utilities.generate_orderbook_summary_hash writes it). One encoder for every
# text: json.dumps with options builds a new JSONEncoder at every call, and a /book answer
# writes seven texts and more.
_HASH_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class _Levels(NamedTuple):
    """A book's levels as /book lists them (price and size text, best price last), and their
    hash text; made once per version of the book (Book.version)."""

    version: int
    bids: tuple[tuple[str, str], ...]
    asks: tuple[tuple[str, str], ...]
    bids_json: str
    asks_json: str


_LEVELS: weakref.WeakKeyDictionary[Book, _Levels] = weakref.WeakKeyDictionary()
# (price, size) -> (price text, size text, the level's hash text): a book changes a level or two
# between two reads and leaves the others at prices and sizes it has had before, so each level
# is written once, not at every version of the book (a window reads a book in a new version
# some fifty times, forty levels each). Bounded as fmt's own memo.
_LEVEL_TEXT: dict[tuple[Decimal, Decimal], tuple[str, str, str]] = {}
_LEVEL_TEXT_MAX = 8192


def _level_text(price: Decimal, size: Decimal) -> tuple[str, str, str]:
    text = _LEVEL_TEXT.get((price, size))
    if text is None:
        p, s = fmt(price), fmt(size)
        text = (p, s, _HASH_JSON({"price": p, "size": s}))
        if len(_LEVEL_TEXT) >= _LEVEL_TEXT_MAX:
            _LEVEL_TEXT.clear()
        _LEVEL_TEXT[(price, size)] = text
    return text


def _side_levels(book: Book, side: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """A side's (price, size) texts, best price last, and their hash text: the JSON array of the
    levels' objects, as _HASH_JSON writes a list (items joined by ",", in brackets)."""
    texts = [_level_text(p, s) for p, s in reversed(book.depth(side))]
    return tuple((p, s) for p, s, _ in texts), "[" + ",".join(t for _, _, t in texts) + "]"


def _levels(book: Book) -> _Levels:
    cached = _LEVELS.get(book)
    if cached is None or cached.version != book.version:
        bids, bids_json = _side_levels(book, BUY)
        asks, asks_json = _side_levels(book, SELL)
        cached = _LEVELS[book] = _Levels(book.version, bids, asks, bids_json, asks_json)
    return cached


def book_json(venue: Venue, token_id: str) -> dict:
    """Bids ascending and asks descending (best price LAST), as the real /book lists them.

    `hash` is the server's: SHA-1 of the summary's compact JSON with an empty hash, its fields in
    the server's order (py_clob_client's generate_orderbook_summary_hash). That function writes
    every level again at every call; here the levels' text is written once per change of the book
    (a bot reads the book every cycle, and it has mostly not moved) and the rest around it, the
    same text (tests/sim/test_sim_book_json.py holds the digest to the client's)."""
    book, market = _book_of(venue, token_id), _market_of(venue, token_id)
    levels = _levels(book)
    timestamp = str(int(venue.now() * 1000))
    min_order_size, tick_size = fmt(market.min_size), fmt(market.tick_size)
    last_trade_price = fmt(book.last_trade_price) if book.last_trade_price else ""
    text = (
        f'{{"market":{_HASH_JSON(market.condition_id)},"asset_id":{_HASH_JSON(token_id)},'
        f'"timestamp":{_HASH_JSON(timestamp)},"hash":"","bids":{levels.bids_json},"asks":{levels.asks_json},'
        f'"min_order_size":{_HASH_JSON(min_order_size)},"tick_size":{_HASH_JSON(tick_size)},'
        f'"neg_risk":{_HASH_JSON(market.neg_risk)},"last_trade_price":{_HASH_JSON(last_trade_price)}}}'
    )
    return {
        "market": market.condition_id,
        "asset_id": token_id,
        "timestamp": timestamp,
        "hash": hashlib.sha1(text.encode("utf-8")).hexdigest(),
        "bids": [{"price": p, "size": s} for p, s in levels.bids],
        "asks": [{"price": p, "size": s} for p, s in levels.asks],
        "min_order_size": min_order_size,
        "tick_size": tick_size,
        "neg_risk": market.neg_risk,
        "last_trade_price": last_trade_price,
    }


def _number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def market_json(venue: Venue, market) -> dict:
    tokens = []
    for token in market.tokens:
        if market.winner_token_id is not None:
            price = Decimal(1 if token.token_id == market.winner_token_id else 0)
        else:
            book = _book_of(venue, token.token_id)
            price = book.midpoint() or book.last_trade_price or Decimal("0.5")
        tokens.append(
            {
                "token_id": token.token_id,
                "outcome": token.outcome,
                "price": _number(price),
                "winner": token.token_id == market.winner_token_id,
            }
        )
    return {
        "condition_id": market.condition_id,
        "question": market.question,
        "market_slug": market.slug,
        "closed": market.closed,
        "active": True,
        "accepting_orders": market.accepting_orders,
        "minimum_order_size": _number(market.min_size),
        "minimum_tick_size": _number(market.tick_size),
        "neg_risk": market.neg_risk,
        "end_date_iso": market.end_date_iso,
        "tokens": tokens,
    }
