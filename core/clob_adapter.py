"""The one adapter between core and the real CLOB clients: core's Exchange port over a ClobClient.

Two clients, chosen by core's config (`clob_client`): py-clob-client-v2 1.2.1 (the default: CLOB
V2, production's protocol since 2026-04-28) and py-clob-client 0.34.6 (V1). This is the ONLY
module in core that imports them (or py_order_utils). It uses nothing but their ClobClients'
public methods, so a fast-mode look-alike with the same methods can stand in for either. Where
the two differ (the order arguments and id, cancel_order(payload) vs cancel(id), get_open_orders
vs get_orders, the book as a dict vs an OrderBookSummary, two exception families) the branch
is here and nowhere else.

Error mapping (design.md, clob-reference.md), always chained with ``raise ... from exc``:

- no HTTP status (``PolyApiException`` "Request exception!": timeout, connection drop) on a WRITE
  (post, cancel, drop notifications) -> OutcomeUnknown: the request may have been applied. A post
  carries the locally computed order id, a cancel the order id, so reconciliation can look it up.
  On a READ it is Transient instead: nothing can have been applied and a retry is harmless.
- 500 ("order timed out"), 502 and 504 on a PLACEMENT -> OutcomeUnknown: the API gave up waiting
  for the matching engine (or a proxy for the API) after the request was forwarded, and the real
  venue does apply such requests. Reading it as "not placed" re-posts, and every re-post of an exit
  whose first copy rests is refused for balance. On a cancel it stays Transient: re-sending a
  cancel that did land is harmless (the venue answers not_canceled), and the cancel's final read
  settles it either way.
- 425, 429, 503 and the other 5xx -> Transient (refused before the engine: restart, rate limit,
  trading disabled).  404 -> NotFound (get_order answers None instead: failure mode 2).
  Other 4xx -> Rejected with the venue's message (JSON ``error``, with a V2 ``code`` appended, or a
  one-line excerpt of a text or HTML body). Retry-After cannot be read: both clients raise
  PolyApiException with the status and body only, so a Transient's retry_after stays None.
  Any other status (a 201, a redirect) is treated like a malformed answer.
- Errors the client raises before sending anything (missing credentials, its own order
  validation) -> Rejected.  Anything else unexpected (a malformed answer: KeyError, TypeError,
  ValueError, ...) -> OutcomeUnknown for writes, Transient for reads.

Quantities become Decimals through core.model.dec from the venue's decimal strings (exact; no
float arithmetic). They are not re-quantized here: a maker fill against a market order can carry
more than 2 decimals and rounding it here would lose shares.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal, Protocol

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from poly_eip712_structs import make_domain
from py_clob_client.clob_types import (
    AssetType,
    BalanceAllowanceParams,
    DropNotificationParams,
    OpenOrderParams,
    OrderArgs,
    OrderType,
    PartialCreateOrderOptions,
    TradeParams,
)
from py_clob_client.config import get_contract_config
from py_clob_client.constants import POLYGON
from py_clob_client.exceptions import PolyApiException, PolyException
from py_clob_client_v2 import clob_types as v2_types
from py_clob_client_v2.config import get_contract_config as get_contract_config_v2
from py_clob_client_v2.exceptions import PolyApiException as PolyApiExceptionV2
from py_clob_client_v2.exceptions import PolyException as PolyExceptionV2
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ORDER_TYPE_HASH as V2_ORDER_TYPE_HASH
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_order_utils.builders.exception import ValidationException
from py_order_utils.utils import normalize_address

from .config import CLOB_CLIENT_V1, CLOB_CLIENT_V2, CLOB_CLIENTS
from .errors import ExchangeError, NotFound, OutcomeUnknown, Rejected, Transient
from .model import (
    ZERO,
    BookTop,
    CancelAck,
    MakerFill,
    MarketResolution,
    Notification,
    NotificationKind,
    OrderSnapshot,
    Placement,
    PlaceOrder,
    PreparedOrder,
    Side,
    TradeSnapshot,
    dec,
    size_q,
)

if TYPE_CHECKING:
    from py_clob_client.clob_types import OrderBookSummary
    from py_order_utils.model import SignedOrder

ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")
TICK_SIZES = ("0.1", "0.01", "0.001", "0.0001")  # py-clob-client's ROUNDING_CONFIG keys
TICK_SIZES_V2 = ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001")  # V2 added 0.005 and 0.0025
_V2_STRUCT_TYPES = ["bytes32", "uint256", "address", "address", "uint256", "uint256", "uint256", "uint8", "uint8"]
_V2_STRUCT_TYPES += ["uint256", "bytes32", "bytes32"]
BASE_UNITS = Decimal(10) ** 6  # USDC and conditional tokens both have 6 decimals
# The client floors size*100 in binary floats, so 4.35 would be signed as 4.34 (about 1 size in
# 20). Sending a millionth more survives that floor and still rounds down to the same cent.
_SIZE_NUDGE = Decimal("0.000001")
_NOTIFICATION_KINDS = {
    1: NotificationKind.CANCEL,
    2: NotificationKind.FILL,
    4: NotificationKind.RESOLVED,
    8: NotificationKind.FILL_FAILED,
}
_MESSAGE_LIMIT = 200


class ClobClientLike(Protocol):
    """The part of the ClobClients' public API the adapter calls on both (chain_id and
    get_address are optional; the per-client calls are reached through Any, see ClobExchange).

    The clients ship no type information and their answers are JSON, hence the Any results.
    """

    def create_order(self, order_args: Any, options: Any, /) -> Any: ...

    def post_order(self, order: Any, order_type: Any, post_only: bool, /) -> Any: ...

    def get_order(self, order_id: str, /) -> Any: ...

    def get_trades(self, params: TradeParams, /) -> Any: ...

    def get_notifications(self) -> Any: ...

    def drop_notifications(self, params: DropNotificationParams, /) -> object: ...

    def get_balance_allowance(self, params: BalanceAllowanceParams, /) -> Any: ...

    def get_order_book(self, token_id: str, /) -> Any: ...

    def get_market(self, condition_id: str, /) -> Any: ...


class ClobExchange:
    """core's Exchange port over a ``ClobClient`` of `client_name` (or a look-alike of it).

    `client_name` is one of core.config.CLOB_CLIENTS; by default the client's own module says
    which one it is (a look-alike names itself in ``CLIENT_NAME``).
    """

    def __init__(self, client: ClobClientLike, *, chain_id: int | None = None, client_name: str | None = None):
        self._client = client
        name = client_name or getattr(client, "CLIENT_NAME", None)
        if name is None:
            name = CLOB_CLIENT_V2 if type(client).__module__.startswith("py_clob_client_v2") else CLOB_CLIENT_V1
        if name not in CLOB_CLIENTS:
            raise ValueError(f"unknown CLOB client {name!r}; expected one of {', '.join(CLOB_CLIENTS)}")
        self.client_name = name
        self._v2 = name == CLOB_CLIENT_V2
        # the per-client calls: Any, since the two clients' methods differ in name and types
        self._any: Any = client
        self._chain_id = int(chain_id or getattr(client, "chain_id", None) or POLYGON)
        get_address = getattr(client, "get_address", None)
        self._address = get_address() if callable(get_address) else None
        self._domains: dict[bool, object] = {}
        self._separators: dict[bool, bytes] = {}  # V2 domain separators by neg_risk

    # ---- placing ---------------------------------------------------------------------------

    def prepare_order(self, command: PlaceOrder) -> PreparedOrder:
        """Sign locally and compute the order id before anything is posted.

        Passing tick_size and neg_risk spares the client its /neg-risk GET only when neg_risk is
        True; it always resolves /tick-size (cached 300 s) and /fee-rate (cached per token). The
        id assumes command.neg_risk is the market's: with False the client asks /neg-risk and
        would sign for the neg-risk exchange if the venue said True (post_order then reports the
        venue's id, see there). The size is sent a millionth high (see _SIZE_NUDGE): a look-alike
        client must floor sizes to 2 decimals as the real one does.
        """
        _validate(command, TICK_SIZES_V2 if self._v2 else TICK_SIZES)
        size = float(size_q(command.size) + _SIZE_NUDGE)
        args: Any
        options: Any
        if self._v2:
            args = v2_types.OrderArgsV2(
                token_id=command.token_id,
                price=float(command.price),
                size=size,
                side=command.side.value,
                expiration=command.expiration,
            )
            options = v2_types.PartialCreateOrderOptions(tick_size=command.tick_size, neg_risk=command.neg_risk)
        else:
            args = OrderArgs(
                token_id=command.token_id,
                price=float(command.price),
                size=size,
                side=command.side.value,
                expiration=command.expiration,
            )
            options = PartialCreateOrderOptions(tick_size=command.tick_size, neg_risk=command.neg_risk)
        with self._boundary("prepare order", local_rejects=True):
            signed = self._client.create_order(args, options)
            order_id = (
                self._order_id_v2(signed, command.neg_risk) if self._v2 else self._order_id(signed, command.neg_risk)
            )
        return PreparedOrder(order_id=order_id, command=command, signed=signed)

    def post_order(self, prepared: PreparedOrder) -> Placement:
        """Post a prepared order.

        A 200 with success false or an errorMsg is a rejection. Decision: when the venue's orderID
        differs from the locally computed one, the Placement carries the VENUE's id (the one every
        later read and audit line uses); the local id stays on prepared.order_id for the caller to
        compare.
        """
        command = prepared.command
        with self._boundary("post order", write=True, placement=True, order_id=prepared.order_id):
            # positional: V1 names the type `orderType`, V2 `order_type`; both take "GTC", ...
            answer = self._client.post_order(prepared.signed, getattr(OrderType, command.order_type), command.post_only)
            if not isinstance(answer, dict):
                raise TypeError(f"post answer is not an object: {answer!r}")
            error = _one_line(answer.get("errorMsg") or "")
            if answer.get("success") is False or error:
                raise Rejected(error or "order not accepted", status=200, order_id=prepared.order_id)
            return Placement(
                order_id=str(answer.get("orderID") or prepared.order_id),
                status=str(answer.get("status") or "").lower(),
                taking_amount=dec(answer.get("takingAmount")),
                making_amount=dec(answer.get("makingAmount")),
            )

    def cancel_order(self, order_id: str) -> CancelAck:
        """The answer never says how much matched: callers read the order afterwards."""
        with self._boundary("cancel order", write=True, order_id=order_id):
            if self._v2:
                return _cancel_ack(order_id, self._any.cancel_order(v2_types.OrderPayload(orderID=order_id)))
            return _cancel_ack(order_id, self._any.cancel(order_id))

    # ---- reads -----------------------------------------------------------------------------

    def get_order(self, order_id: str) -> OrderSnapshot | None:
        """None for a null/empty body or a 404: an immediately matched order can vanish from
        this endpoint (failure mode 2), so None never proves the order does not exist."""
        try:
            with self._boundary("get order", order_id=order_id):
                raw = self._client.get_order(order_id)
                return _order_snapshot(raw) if raw else None
        except NotFound:
            return None

    def open_orders(self, asset_id: str = "") -> list[OrderSnapshot]:
        with self._boundary("list open orders"):  # the client follows next_cursor to "LTE="
            if self._v2:
                raw = self._any.get_open_orders(v2_types.OpenOrderParams(asset_id=asset_id or None))
            else:
                raw = self._any.get_orders(OpenOrderParams(asset_id=asset_id or None))
            return [_order_snapshot(item) for item in raw or ()]

    def trades(self, asset_id: str = "") -> list[TradeSnapshot]:
        trade_params = v2_types.TradeParams if self._v2 else TradeParams
        params = trade_params(asset_id=asset_id or None, maker_address=self._address)
        with self._boundary("list trades"):
            raw = list(self._client.get_trades(params) or ())
            trades = [_trade_snapshot(item) for item in raw]
        if not self._v2:
            # V1 signs its fee into the order (feeRateBps); the fee V2 charges at match time, in
            # shares for a BUY taker, is V2's alone: a V1 trade states nothing to derive
            return trades
        return [self._with_fee(trade, item) for trade, item in zip(trades, raw, strict=True)]

    def _with_fee(self, trade: TradeSnapshot, raw: dict[str, Any]) -> TradeSnapshot:
        """The V2 operator fee a trade states: `fee_rate_bps` (the rate that applied) on the
        trade, the exponent on its market (GET /clob-markets `fd.e`, which the client caches per
        token). The exponent is read only when the fee matters to us, as a BUY taker: a trade
        we made, or a fee-free one, costs no request. A failed read leaves the fee unknown
        (exponent None): the fill still counts, and a later listing states what it delivered."""
        rate = _lenient_dec(raw.get("fee_rate_bps"))
        if not rate or trade.side is not Side.BUY or raw.get("trader_side", "TAKER") != "TAKER":
            return replace(trade, fee_rate_bps=rate)
        try:
            with self._boundary("get fee exponent"):
                exponent = dec(self._any.get_fee_exponent(trade.asset_id))
        except ExchangeError:
            return replace(trade, fee_rate_bps=rate, fee_exponent=None)
        whole = exponent == exponent.to_integral_value()
        return replace(trade, fee_rate_bps=rate, fee_exponent=int(exponent) if whole else exponent)

    def notifications(self) -> list[Notification]:
        with self._boundary("get notifications"):
            raw = self._client.get_notifications()
            if raw is not None and not isinstance(raw, list):
                raise TypeError(f"notifications answer is not a list: {raw!r}")
            return [_notification(item) for item in raw or () if isinstance(item, dict)]

    def drop_notifications(self, notification_ids: list[str]) -> None:
        if not notification_ids:
            return  # the client would send a bare "?" query: nothing to drop
        with self._boundary("drop notifications", write=True):
            drop = v2_types.DropNotificationParams if self._v2 else DropNotificationParams
            self._client.drop_notifications(drop(ids=[str(i) for i in notification_ids]))

    def balance(self, token_id: str | None = None) -> Decimal:
        balance_params = v2_types.BalanceAllowanceParams if self._v2 else BalanceAllowanceParams
        if token_id is None:
            params = balance_params(asset_type=AssetType.COLLATERAL)
        else:
            params = balance_params(asset_type=AssetType.CONDITIONAL, token_id=token_id)
        with self._boundary("get balance"):
            return dec(self._client.get_balance_allowance(params)["balance"]) / BASE_UNITS

    def book(self, token_id: str) -> BookTop:
        with self._boundary("get book"):
            return _book_top(token_id, self._client.get_order_book(token_id))

    def resolution(self, market: str) -> MarketResolution:
        with self._boundary("get market"):
            return _market_resolution(market, self._client.get_market(market))

    # ---- internals -------------------------------------------------------------------------

    def _order_id(self, signed: SignedOrder, neg_risk: bool) -> str:
        """EIP-712 struct hash of the signed order, the recipe of py_order_utils' BaseBuilder."""
        domain = self._domains.get(neg_risk)
        if domain is None:
            exchange = get_contract_config(self._chain_id, neg_risk).exchange
            domain = make_domain(
                name="Polymarket CTF Exchange",
                version="1",
                chainId=str(self._chain_id),
                verifyingContract=normalize_address(exchange),
            )
            self._domains[neg_risk] = domain
        return "0x" + keccak(signed.order.signable_bytes(domain=domain)).hex()

    def _order_id_v2(self, signed: Any, neg_risk: bool) -> str:
        """The EIP-712 digest py-clob-client-v2 signs: the 11-field V2 struct under domain
        version "2" and the V2 exchange (or the neg-risk V2 exchange)."""
        separator = self._separators.get(neg_risk)
        if separator is None:
            config = get_contract_config_v2(self._chain_id)
            exchange = config.neg_risk_exchange_v2 if neg_risk else config.exchange_v2
            # the builder hashes its domain in __init__ and never touches the signer there
            separator = ExchangeOrderBuilderV2(exchange, self._chain_id, signer=None).app_domain_separator
            self._separators[neg_risk] = separator
        struct = keccak(
            abi_encode(
                _V2_STRUCT_TYPES,
                [
                    V2_ORDER_TYPE_HASH,
                    int(signed.salt),
                    signed.maker,
                    signed.signer,
                    int(signed.tokenId),
                    int(signed.makerAmount),
                    int(signed.takerAmount),
                    int(signed.side),
                    int(signed.signatureType),
                    int(signed.timestamp),
                    bytes.fromhex(str(signed.metadata).removeprefix("0x").zfill(64)),
                    bytes.fromhex(str(signed.builder).removeprefix("0x").zfill(64)),
                ],
            )
        )
        return "0x" + keccak(b"\x19\x01" + separator + struct).hex()

    def _boundary(
        self,
        action: str,
        *,
        write: bool = False,
        placement: bool = False,
        order_id: str | None = None,
        local_rejects: bool = False,
    ) -> _Boundary:
        """Map whatever escapes the client (or our parsing of its answer) into core's errors."""
        return _Boundary(action, write, placement, order_id, local_rejects)


class _Boundary:
    """ClobExchange._boundary's context: every call to the venue passes one, so it is a plain
    class (a generator-based context manager costs several times as much to enter and leave)."""

    __slots__ = ("action", "write", "placement", "order_id", "local_rejects")

    def __init__(self, action: str, write: bool, placement: bool, order_id: str | None, local_rejects: bool):
        self.action = action
        self.write = write
        self.placement = placement
        self.order_id = order_id
        self.local_rejects = local_rejects

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> Literal[False]:
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, ExchangeError):
            return False  # nothing raised, or not ours to map (a kill, core's own error)
        action, order_id = self.action, self.order_id
        if isinstance(exc, (PolyApiException, PolyApiExceptionV2)):
            raise _api_error(action, exc, write=self.write, placement=self.placement, order_id=order_id) from exc
        # The client reports its own validation with bare Exception (price range, tick
        # size, fee rate) and missing credentials with PolyException, before any request.
        local = isinstance(exc, (PolyException, PolyExceptionV2, ValidationException)) or (
            self.local_rejects and type(exc) is Exception
        )
        message = f"{action}: {type(exc).__name__}: {_one_line(str(exc))}"
        if local:
            raise Rejected(_one_line(str(exc)) or message, order_id=order_id) from exc
        error = OutcomeUnknown if self.write else Transient
        raise error(message, order_id=order_id) from exc


# ---- mapping helpers: one per venue shape ---------------------------------------------------


def _validate(command: PlaceOrder, tick_sizes: tuple[str, ...]) -> None:
    """Checks the client would otherwise make in different places (or a look-alike might skip)."""
    if command.order_type not in ORDER_TYPES:
        raise Rejected(f"unknown order type {command.order_type!r}")
    if command.post_only and command.order_type not in ("GTC", "GTD"):
        raise Rejected("post_only orders can only be of type GTC or GTD")
    if command.tick_size not in tick_sizes:
        raise Rejected(f"unsupported tick size {command.tick_size!r}")


# gateway-side timeouts: the request was forwarded to the engine, which may have applied it
MAY_BE_APPLIED = (500, 502, 504)


def _api_error(
    action: str,
    exc: PolyApiException | PolyApiExceptionV2,
    *,
    write: bool,
    order_id: str | None,
    placement: bool = False,
) -> ExchangeError:
    status = exc.status_code
    message = _venue_message(exc.error_msg, status)
    if status is None:  # "Request exception!": the request may have reached the venue
        if write:
            return OutcomeUnknown(f"{action}: no answer ({message}); it may have been applied", order_id=order_id)
        return Transient(f"{action}: no answer ({message})", order_id=order_id)
    if placement and status in MAY_BE_APPLIED:
        return OutcomeUnknown(
            f"{action}: HTTP {status} ({message}); it may have been applied", status=status, order_id=order_id
        )
    if status in (425, 429) or 500 <= status <= 599:
        return Transient(message, status=status, order_id=order_id)
    if status == 404:
        return NotFound(message, status=status, order_id=order_id)
    if 400 <= status <= 499:
        return Rejected(message, status=status, order_id=order_id)
    kind = OutcomeUnknown if write else Transient
    return kind(f"{action}: unexpected HTTP {status}: {message}", status=status, order_id=order_id)


def _venue_message(error_msg: object, status: int | None) -> str:
    """A short single-line message from a JSON error, a text body or a CDN's HTML page."""
    if isinstance(error_msg, dict):
        text = error_msg.get("error") or error_msg.get("errorMsg") or json.dumps(error_msg)
        # V2 errors may add a machine-readable `code` (503 post_only_mode) beside a free-text
        # message; keep it in the one line core matches on (core.monitor looks for post_only)
        code = error_msg.get("code")
        if isinstance(code, (str, int)) and not isinstance(code, bool) and str(code) and str(code) not in str(text):
            text = f"{text} (code {code})"
    else:
        text = "" if error_msg is None else str(error_msg)
    if re.search(r"<\s*(!doctype|html|head|body|title)\b", text, re.IGNORECASE):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        text = title.group(1) if title else re.sub(r"<[^>]*>", " ", text)
        text = html.unescape(text)
    return _one_line(text) or (f"HTTP {status}" if status is not None else "no answer")


def _one_line(text: object) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _side(value: object) -> Side:
    return Side(str(value).upper())


def _cancel_ack(order_id: str, answer: Any) -> CancelAck:
    answer = answer or {}
    if order_id in (answer.get("canceled") or ()):
        return CancelAck(order_id, canceled=True)
    reason = (answer.get("not_canceled") or {}).get(order_id)
    return CancelAck(
        order_id, canceled=False, reason=_one_line(reason) if reason else "not in the venue's cancel answer"
    )


def _order_snapshot(raw: dict[str, Any]) -> OrderSnapshot:
    return OrderSnapshot(
        order_id=str(raw["id"]),
        status=str(raw.get("status") or "").upper(),
        asset_id=str(raw.get("asset_id") or ""),
        side=_side(raw["side"]),
        price=dec(raw.get("price")),
        original_size=dec(raw.get("original_size")),
        size_matched=dec(raw.get("size_matched")),
        associate_trades=tuple(str(t) for t in raw.get("associate_trades") or ()),
    )


def _trade_snapshot(raw: dict[str, Any]) -> TradeSnapshot:
    makers = tuple(
        MakerFill(order_id=str(m["order_id"]), matched_amount=dec(m.get("matched_amount")), price=dec(m.get("price")))
        for m in raw.get("maker_orders") or ()
    )
    return TradeSnapshot(
        trade_id=str(raw["id"]),
        status=str(raw.get("status") or "").upper(),
        asset_id=str(raw.get("asset_id") or ""),
        side=_side(raw["side"]),
        size=dec(raw.get("size")),
        price=dec(raw.get("price")),
        taker_order_id=str(raw.get("taker_order_id") or ""),
        maker_orders=makers,
        match_time=int(dec(raw.get("match_time"))),  # the venue sends unix seconds as a string
    )


def _notification(raw: dict[str, Any]) -> Notification:
    """Lenient on purpose (the payload is undocumented, docs/venue-shapes.md): unknown fields are
    ignored, missing or unparsable ones default, an unknown type becomes OTHER. For a
    cancellation, ``size`` is the order's original_size."""
    payload = raw.get("payload")
    if isinstance(payload, str):  # tolerate a double-encoded payload
        try:
            payload = json.loads(payload)
        except ValueError:
            payload = None
    if not isinstance(payload, dict):
        payload = {}

    def text(key: str) -> str:
        value = payload.get(key)
        return "" if value is None or isinstance(value, (dict, list)) else str(value)

    try:
        venue_type: Any = raw.get("type")  # any JSON value, or None: int() refusing it means OTHER
        kind = _NOTIFICATION_KINDS.get(int(venue_type), NotificationKind.OTHER)
    except (TypeError, ValueError):
        kind = NotificationKind.OTHER
    size = payload.get("size", payload.get("original_size"))
    return Notification(
        notification_id=str(raw.get("id", "")),
        kind=kind,
        order_id=text("order_id"),
        trade_id=text("trade_id"),
        asset_id=text("asset_id"),
        size=_lenient_dec(size),
        price=_lenient_dec(payload.get("price")),
        status=text("status").upper(),
        size_matched=_lenient_dec(payload.get("size_matched")),
        market=text("market"),
        winning_asset_id=text("winning_asset_id"),
    )


def _lenient_dec(value: Any) -> Decimal:
    try:
        number = dec(value)
    except (InvalidOperation, TypeError, ValueError):
        return ZERO
    return number if number.is_finite() else ZERO


def _book_top(token_id: str, book: OrderBookSummary | dict[str, Any]) -> BookTop:
    # The venue lists bids ascending and asks descending (best LAST); take max/min rather than
    # trusting any order. py-clob-client parses the book into an OrderBookSummary, V2 hands
    # out the JSON dict.
    if isinstance(book, dict):
        # both keys required: a dict without them is a malformed answer, not an empty book
        bids = [dec(level["price"]) for level in book["bids"] or ()]
        asks = [dec(level["price"]) for level in book["asks"] or ()]
    else:
        bids = [dec(level.price) for level in book.bids or ()]
        asks = [dec(level.price) for level in book.asks or ()]
    return BookTop(token_id=token_id, best_bid=max(bids) if bids else None, best_ask=min(asks) if asks else None)


def _market_resolution(market: str, raw: dict[str, Any]) -> MarketResolution:
    closed = bool(raw["closed"])  # required: a default would read as "not resolved yet"
    winners = [str(t["token_id"]) for t in raw.get("tokens") or () if t.get("winner") is True]
    # Only a closed market with exactly one winner is resolved; anything else is "not yet".
    winner = winners[0] if closed and len(winners) == 1 else None
    return MarketResolution(market=str(raw.get("condition_id") or market), closed=closed, winning_token_id=winner)
