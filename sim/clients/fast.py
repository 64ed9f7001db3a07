"""Fast mode: a ClobClient look-alike that calls the Gateway directly, with no HTTP and no signing.

FastClobClient has ClobClient's constructor and the public methods core's adapter uses, with the
same signatures, and makes the SAME gateway calls the real client's HTTP requests turn into: it
builds the same request targets with py-clob-client's own URL helpers and endpoint constants and
parses them with the gateway's own parser, and it keeps the real client's caches (tick size for
`tick_size_ttl` seconds, neg-risk and fee rate forever), so a latency model charges the same
virtual time in both modes. Note the real client asks /tick-size, /neg-risk and /fee-rate only
when its caches miss, not on every create_order.

create_order returns a real py_order_utils SignedOrder whose Order struct is the one ClobClient
builds for the same inputs (py-clob-client's amount rounding, py_order_utils' salt from
generate_seed) with a dummy signature, so the venue derives the same order id as in wire mode.

Answers come back as the real client returns them: the body on 200, else PolyApiException built
from a response stand-in (status_code, json(), text), and PolyApiException("Request exception!")
when the gateway gives no answer. The tick-size cache reads the venue's clock where the real
client reads time.monotonic(); under freezegun (as the harness runs wire mode) both are virtual
time.
"""

from __future__ import annotations

import json

from py_clob_client.clob_types import (
    BalanceAllowanceParams,
    CreateOrderOptions,
    DropNotificationParams,
    OpenOrderParams,
    OrderArgs,
    OrderBookSummary,
    OrderType,
    PartialCreateOrderOptions,
    PostOrdersArgs,
    TickSize,
    TradeParams,
)
from py_clob_client.config import get_contract_config
from py_clob_client.constants import END_CURSOR, L0, L1, L1_AUTH_UNAVAILABLE, L2, L2_AUTH_UNAVAILABLE
from py_clob_client.endpoints import (
    CANCEL,
    CANCEL_ALL,
    CANCEL_MARKET_ORDERS,
    CANCEL_ORDERS,
    DROP_NOTIFICATIONS,
    GET_BALANCE_ALLOWANCE,
    GET_FEE_RATE,
    GET_MARKET,
    GET_NEG_RISK,
    GET_NOTIFICATIONS,
    GET_ORDER,
    GET_ORDER_BOOK,
    GET_TICK_SIZE,
    MID_POINT,
    ORDERS,
    POST_HEARTBEAT,
    POST_ORDER,
    POST_ORDERS,
    TRADES,
)
from py_clob_client.exceptions import PolyApiException, PolyException
from py_clob_client.http_helpers.helpers import (
    add_balance_allowance_params_to_url,
    add_query_open_orders_params,
    add_query_trade_params,
    drop_notifications_query_params,
)
from py_clob_client.order_builder.builder import ROUNDING_CONFIG, OrderBuilder
from py_clob_client.signer import Signer
from py_clob_client.utilities import is_tick_size_smaller, order_to_json, parse_raw_orderbook_summary, price_valid
from py_order_utils.builders import OrderBuilder as UtilsOrderBuilder
from py_order_utils.builders.exception import ValidationException
from py_order_utils.model import Order, OrderData, SignedOrder
from py_order_utils.utils import normalize_address

from clobsim.sim.exchange.gateway import Answer, Gateway, error, split_target

DUMMY_SIGNATURE = "0x" + "00" * 65


class ErrorReply:
    """What PolyApiException (both clients') reads from an httpx.Response, built from a gateway Answer."""

    def __init__(self, answer: Answer):
        self.status_code = answer.status
        self._body = answer.body

    def json(self):
        return json.loads(self._body) if isinstance(self._body, str) else self._body

    @property
    def text(self) -> str:
        return self._body if isinstance(self._body, str) else json.dumps(self._body)


class _AddressOnly:
    """py_order_utils' builder only asks its signer for the address when building (not signing)."""

    def __init__(self, address: str):
        self._address = address

    def address(self) -> str:
        return self._address


def _result(answer: Answer):
    if answer.status is None:
        raise PolyApiException(error_msg="Request exception!")
    if answer.status != 200:
        raise PolyApiException(ErrorReply(answer))
    if isinstance(answer.body, str):
        try:  # wire mode's resp.json() would parse a JSON text too
            return json.loads(answer.body)
        except ValueError:
            return answer.body
    return answer.body


class FastClobClient:
    def __init__(
        self,
        host,
        chain_id: int | None = None,
        key: str | None = None,
        creds=None,
        signature_type: int | None = None,
        funder: str | None = None,
        builder_config=None,
        tick_size_ttl: float = 300.0,
        *,
        gateway: Gateway,
    ):
        self.host = host[0:-1] if host.endswith("/") else host
        self.chain_id = chain_id
        self.signer = Signer(key, chain_id) if key else None
        self.creds = creds
        self.mode = self._get_client_mode()
        if self.signer:
            self.builder = OrderBuilder(self.signer, sig_type=signature_type, funder=funder)
        self.builder_config = builder_config
        self._gateway = gateway
        self._tick_sizes: dict[str, str] = {}
        self._tick_size_timestamps: dict[str, float] = {}
        self._tick_size_ttl = tick_size_ttl
        self._neg_risk: dict[str, bool] = {}
        self._fee_rates: dict[str, int] = {}
        self._utils: UtilsOrderBuilder | None = None
        self._checksums: dict[str, str] = {}

    # ---- plumbing ------------------------------------------------------------------------

    def _request(self, method: str, target: str, body=None, auth: bool = False):
        path, params = split_target(target)
        resolved = self._gateway.resolve(method, path)
        if resolved is None:
            return _result(error(404, "not found"))
        route, path_params = resolved
        params.update(path_params)
        owner = self.creds.api_key if auth else None
        return _result(self._gateway.request(route, owner=owner, params=params, body=body))

    def _get_client_mode(self):
        if self.signer is not None and self.creds is not None:
            return L2
        if self.signer is not None:
            return L1
        return L0

    def assert_level_1_auth(self):
        if self.mode < L1:
            raise PolyException(L1_AUTH_UNAVAILABLE)

    def _signer(self) -> Signer:
        """The signer of a client past assert_level_1_auth (the order-building path)."""
        if self.signer is None:
            raise PolyException(L1_AUTH_UNAVAILABLE)
        return self.signer

    def assert_level_2_auth(self):
        if self.mode < L2:
            raise PolyException(L2_AUTH_UNAVAILABLE)

    def set_api_creds(self, creds):
        self.creds = creds
        self.mode = self._get_client_mode()

    def get_address(self):
        return self.signer.address() if self.signer else None

    def get_exchange_address(self, neg_risk=False):
        return get_contract_config(self.chain_id, neg_risk).exchange

    # ---- market data (public) ------------------------------------------------------------

    def get_tick_size(self, token_id: str) -> TickSize:
        cached_at = self._tick_size_timestamps.get(token_id)
        if (
            token_id in self._tick_sizes
            and cached_at is not None
            and (self._gateway.venue.now() - cached_at) < self._tick_size_ttl
        ):
            return self._tick_sizes[token_id]
        result = self._request("GET", f"{GET_TICK_SIZE}?token_id={token_id}")
        self._tick_sizes[token_id] = str(result["minimum_tick_size"])
        self._tick_size_timestamps[token_id] = self._gateway.venue.now()
        return self._tick_sizes[token_id]

    def clear_tick_size_cache(self, token_id: str | None = None):
        if token_id is not None:
            self._tick_sizes.pop(token_id, None)
            self._tick_size_timestamps.pop(token_id, None)
        else:
            self._tick_sizes.clear()
            self._tick_size_timestamps.clear()

    def get_neg_risk(self, token_id: str) -> bool:
        if token_id in self._neg_risk:
            return self._neg_risk[token_id]
        result = self._request("GET", f"{GET_NEG_RISK}?token_id={token_id}")
        self._neg_risk[token_id] = result["neg_risk"]
        return result["neg_risk"]

    def get_fee_rate_bps(self, token_id: str) -> int:
        if token_id in self._fee_rates:
            return self._fee_rates[token_id]
        result = self._request("GET", f"{GET_FEE_RATE}?token_id={token_id}")
        fee_rate = result.get("base_fee") or 0
        self._fee_rates[token_id] = fee_rate
        return fee_rate

    def get_order_book(self, token_id) -> OrderBookSummary:
        result = parse_raw_orderbook_summary(self._request("GET", f"{GET_ORDER_BOOK}?token_id={token_id}"))
        if result and result.asset_id and result.tick_size:  # the real client's opportunistic cache
            self._tick_sizes[result.asset_id] = str(result.tick_size)
            self._tick_size_timestamps[result.asset_id] = self._gateway.venue.now()
        return result

    def get_midpoint(self, token_id):
        return self._request("GET", f"{MID_POINT}?token_id={token_id}")

    def get_market(self, condition_id):
        return self._request("GET", f"{GET_MARKET}{condition_id}")

    # ---- orders ----------------------------------------------------------------------------

    def create_order(self, order_args: OrderArgs, options: PartialCreateOrderOptions | None = None) -> SignedOrder:
        """ClobClient.create_order step for step, minus the signature."""
        self.assert_level_1_auth()
        tick_size = self._resolve_tick_size(order_args.token_id, options.tick_size if options else None)
        if not price_valid(order_args.price, tick_size):
            raise Exception(
                "price (" + str(order_args.price) + "), min: " + str(tick_size) + " - max: " + str(1 - float(tick_size))
            )
        neg_risk = options.neg_risk if options and options.neg_risk else self.get_neg_risk(order_args.token_id)
        order_args.fee_rate_bps = self._resolve_fee_rate(order_args.token_id, order_args.fee_rate_bps)
        return self._build(order_args, CreateOrderOptions(tick_size=tick_size, neg_risk=neg_risk))

    def _build(self, order_args: OrderArgs, options: CreateOrderOptions) -> SignedOrder:
        builder = self.builder
        side, maker_amount, taker_amount = builder.get_order_amounts(
            order_args.side, order_args.size, order_args.price, ROUNDING_CONFIG[options.tick_size]
        )
        data = OrderData(
            maker=builder.funder,
            taker=order_args.taker,
            tokenId=order_args.token_id,
            makerAmount=str(maker_amount),
            takerAmount=str(taker_amount),
            side=side,
            feeRateBps=str(order_args.fee_rate_bps),
            nonce=str(order_args.nonce),
            signer=self._signer().address(),
            expiration=str(order_args.expiration),
            signatureType=builder.sig_type,
        )
        return SignedOrder(self._struct(data), DUMMY_SIGNATURE)

    def _struct(self, data: OrderData) -> Order:
        """py_order_utils' OrderBuilder.build_order, with the address checksums cached: they
        cost about 60 us each, three per order, and are the same for every order of a client.
        The salt comes from the builder's own default generator (generate_seed), as in
        ClobClient. The data always carries signer, expiration and signatureType here."""
        if self._utils is None:
            # the exchange address only matters for signing, which never happens here
            self._utils = UtilsOrderBuilder(
                get_contract_config(self.chain_id).exchange, self.chain_id, _AddressOnly(self._signer().address())
            )
        utils = self._utils
        if not utils._validate_inputs(data):
            raise ValidationException("Invalid order inputs")
        if data.signer != utils.signer.address():
            raise ValidationException("Signer does not match")
        return Order(
            salt=int(utils.salt_generator()),
            maker=self._checksum(data.maker),
            signer=self._checksum(data.signer),
            taker=self._checksum(data.taker),
            tokenId=int(data.tokenId),
            makerAmount=int(data.makerAmount),
            takerAmount=int(data.takerAmount),
            expiration=int(data.expiration),
            nonce=int(data.nonce),
            feeRateBps=int(data.feeRateBps),
            side=int(data.side),
            signatureType=int(data.signatureType),
        )

    def _checksum(self, address: str) -> str:
        checksummed = self._checksums.get(address)
        if checksummed is None:
            checksummed = self._checksums[address] = normalize_address(address)
        return checksummed

    def _resolve_tick_size(self, token_id: str, tick_size: TickSize = None) -> TickSize:
        min_tick_size = self.get_tick_size(token_id)
        if tick_size is not None:
            if is_tick_size_smaller(tick_size, min_tick_size):
                raise Exception(
                    "invalid tick size (" + str(tick_size) + "), minimum for the market is " + str(min_tick_size)
                )
            return tick_size
        return min_tick_size

    def _resolve_fee_rate(self, token_id: str, user_fee_rate: int | None = None) -> int:
        market_fee_rate_bps = self.get_fee_rate_bps(token_id)
        if (
            market_fee_rate_bps is not None
            and market_fee_rate_bps > 0
            and user_fee_rate is not None
            and user_fee_rate > 0
            and user_fee_rate != market_fee_rate_bps
        ):
            raise Exception(
                f"invalid user provided fee rate: ({user_fee_rate}), fee rate for "
                f"the market must be {market_fee_rate_bps}"
            )
        return market_fee_rate_bps

    def post_order(self, order, orderType: OrderType = OrderType.GTC, post_only: bool = False):
        if post_only and (orderType != OrderType.GTC and orderType != OrderType.GTD):
            raise Exception("post_only orders can only be of type GTC or GTD")
        self.assert_level_2_auth()
        body = order_to_json(order, self.creds.api_key, orderType, post_only)
        return self._request("POST", POST_ORDER, body, auth=True)

    def post_orders(self, args: list[PostOrdersArgs]):
        self.assert_level_2_auth()
        body = [order_to_json(arg.order, self.creds.api_key, arg.orderType, arg.postOnly) for arg in args]
        return self._request("POST", POST_ORDERS, body, auth=True)

    def create_and_post_order(self, order_args: OrderArgs, options: PartialCreateOrderOptions = None):
        return self.post_order(self.create_order(order_args, options))

    def cancel(self, order_id):
        self.assert_level_2_auth()
        return self._request("DELETE", CANCEL, {"orderID": order_id}, auth=True)

    def cancel_orders(self, order_ids):
        self.assert_level_2_auth()
        return self._request("DELETE", CANCEL_ORDERS, order_ids, auth=True)

    def cancel_all(self):
        self.assert_level_2_auth()
        return self._request("DELETE", CANCEL_ALL, auth=True)

    def cancel_market_orders(self, market: str = "", asset_id: str = ""):
        self.assert_level_2_auth()
        return self._request("DELETE", CANCEL_MARKET_ORDERS, {"market": market, "asset_id": asset_id}, auth=True)

    def post_heartbeat(self, heartbeat_id: str | None):
        self.assert_level_2_auth()
        return self._request("POST", POST_HEARTBEAT, {"heartbeat_id": heartbeat_id}, auth=True)

    def get_order(self, order_id):
        self.assert_level_2_auth()
        return self._request("GET", f"{GET_ORDER}{order_id}", auth=True)

    def get_orders(self, params: OpenOrderParams = None, next_cursor="MA=="):
        self.assert_level_2_auth()
        return self._paged(lambda cursor: add_query_open_orders_params(ORDERS, params, cursor), next_cursor)

    def get_trades(self, params: TradeParams = None, next_cursor="MA=="):
        self.assert_level_2_auth()
        return self._paged(lambda cursor: add_query_trade_params(TRADES, params, cursor), next_cursor)

    def _paged(self, target_for, next_cursor) -> list:
        results = []
        next_cursor = next_cursor if next_cursor is not None else "MA=="
        while next_cursor != END_CURSOR:
            response = self._request("GET", target_for(next_cursor), auth=True)
            next_cursor = response["next_cursor"]
            results += response["data"]
        return results

    # ---- account ---------------------------------------------------------------------------

    def get_notifications(self):
        self.assert_level_2_auth()
        return self._request("GET", f"{GET_NOTIFICATIONS}?signature_type={self.builder.sig_type}", auth=True)

    def drop_notifications(self, params: DropNotificationParams = None):
        self.assert_level_2_auth()
        return self._request("DELETE", drop_notifications_query_params(DROP_NOTIFICATIONS, params), auth=True)

    def get_balance_allowance(self, params: BalanceAllowanceParams = None):
        self.assert_level_2_auth()
        if params.signature_type == -1:  # the real client fills it in on the caller's object
            params.signature_type = self.builder.sig_type
        return self._request("GET", add_balance_allowance_params_to_url(GET_BALANCE_ALLOWANCE, params), auth=True)
