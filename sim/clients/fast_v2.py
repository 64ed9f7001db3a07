"""Fast mode under protocol v2: py-clob-client-v2's own ClobClient, minus HTTP and signing.

FastClobClientV2 IS the real py-clob-client-v2 1.2.1 ClobClient (a subclass), so every call
core's adapter makes runs the client's own code: its caches (tick size, neg risk, version),
its URL and query building, its version-mismatch refresh and its FAK/FOK trade polling. Only
the three places where it would leave the process are replaced:

- `_get`, `_post`, `_delete` (through which every request of the client goes) hand the request
  to the Gateway: the path resolved with the gateway's own `resolve`, the query as the strings
  httpx would send, the body parsed from the exact string the client serialized. Answers come
  back as the real helpers return them: the body on 200, PolyApiException otherwise, and
  PolyApiException("Request exception!") when the gateway gives no answer.
- `_l2_headers` returns no headers: there is no HMAC to check; the gateway is told the owner.
- the order builder builds the V2 struct as py-clob-client-v2's OrderBuilder.build_order does
  (same amounts, same salt from the same generator, same millisecond timestamp) and leaves the
  signature a dummy: the venue rebuilds the id from the struct, never from the signature.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any
from urllib.parse import urlsplit

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.constants import BYTES32_ZERO
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG, OrderBuilder
from py_clob_client_v2.order_builder.helpers import _resolve_order_routing
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import OrderDataV2, SignedOrderV2
from py_clob_client_v2.signer import Signer

from clobsim.sim.clients.fast import DUMMY_SIGNATURE, ErrorReply
from clobsim.sim.exchange.gateway import Gateway, error

# The real builder makes an ExchangeOrderBuilderV2 for every order, whose constructor hashes the
# exchange's EIP-712 domain (ABI encoding, two keccaks): the same for every order to one exchange
# from one signer, so the process keeps one per (exchange, chain, signer address). It holds no
# state of a run's: its salts come from py-clob-client-v2's generator, which a run pins.
_EXCHANGE_BUILDERS: dict[tuple[str, int, str], ExchangeOrderBuilderV2] = {}


class _UnsignedBuilder(OrderBuilder):
    def _exchange_builder(self, neg_risk: bool) -> ExchangeOrderBuilderV2:
        chain_id = self.signer.get_chain_id()
        config = get_contract_config(chain_id)
        exchange = config.neg_risk_exchange_v2 if neg_risk else config.exchange_v2
        key = (exchange, chain_id, self.signer.address())
        builder = _EXCHANGE_BUILDERS.get(key)
        if builder is None:
            builder = _EXCHANGE_BUILDERS[key] = ExchangeOrderBuilderV2(exchange, chain_id, self.signer)
        return builder

    def build_order(self, order_args, options, version: int = 2, fee_rate_bps=None):
        """OrderBuilder.build_order's V2 branch (the only version a v2 venue takes), unsigned."""
        asset_id, version = _resolve_order_routing(order_args, version)
        if version != 2:
            raise ValueError(f"the fast look-alike signs V2 orders only, not version {version}")
        side, maker_amount, taker_amount = self.get_order_amounts(
            order_args.side, order_args.size, order_args.price, ROUNDING_CONFIG[options.tick_size]
        )
        timestamp = str(time.time_ns() // 1_000_000)
        data = OrderDataV2(
            maker=self.funder,
            tokenId=asset_id,
            makerAmount=str(maker_amount),
            takerAmount=str(taker_amount),
            side=side,
            signer=self._v2_order_signer(),
            signatureType=self.signature_type,
            timestamp=timestamp,
            metadata=getattr(order_args, "metadata", BYTES32_ZERO),
            builder=order_args.builder_code,
            expiration=str(getattr(order_args, "expiration", 0)),
        )
        order = self._exchange_builder(bool(options.neg_risk)).build_order(data)
        return SignedOrderV2(**{**order.__dict__, "signature": DUMMY_SIGNATURE})


# a request line's (route, path parameters, needs auth); () when nothing serves it (a 404)
_Target = tuple[str, tuple[tuple[str, str], ...], bool] | tuple[()]
_NOWHERE: _Target = ()


def _query_value(value) -> str:
    """A query parameter as httpx encodes it."""
    if value is True or value is False:
        return "true" if value else "false"
    return "" if value is None else str(value)


@functools.cache
def _signer(key: str, chain_id: int) -> Signer:
    """py-clob-client-v2's signer for a key, made once a process (it keeps no state)."""
    return Signer(key, chain_id)


class FastClobClientV2(ClobClient):
    CLIENT_NAME = "py-clob-client-v2"  # core.config.CLOB_CLIENT_V2: the adapter treats it as one

    def __init__(self, host: str, chain_id: int, key=None, creds=None, *, gateway: Gateway, **options):
        # the signer is the process's one for this key (_signer), set below as the client sets its
        # own: deriving a key's address is most of the cost of making a client, once a run
        super().__init__(host, chain_id, key=None, creds=creds, **options)
        self._gateway = gateway
        self._targets: dict[tuple[str, str], _Target] = {}  # (method, endpoint) -> its _Target
        if key:
            self.signer = _signer(key, chain_id)
            self.mode = self._get_client_mode()
            builder: Any = self.builder  # type: ignore[has-type]  # py-clob-client-v2 sets it, unannotated, in __init__
            # the builder the client made had no signer: its funder is the option as given, and
            # _UnsignedBuilder defaults a missing one to the signer's address, as the client's does
            self.builder = _UnsignedBuilder(self.signer, signature_type=builder.signature_type, funder=builder.funder)

    def _l2_headers(self, method, endpoint, body=None, serialized_body=None) -> dict:
        self.assert_level_2_auth()
        return {}

    def _request(self, method: str, endpoint: str, data=None, params=None):
        target = self._targets.get((method, endpoint))
        if target is None:
            target = self._target(method, endpoint)
        if not target:
            answer = error(404, "not found")
        else:
            route, path_params, auth = target
            # as wire mode parses them: the query (strings, as httpx sends them), then the path's
            query = (
                {name: value if value.__class__ is str else _query_value(value) for name, value in params.items()}
                if params
                else {}
            )
            if path_params:
                query.update(path_params)
            owner = self.creds.api_key if auth and self.creds else None
            body = json.loads(data) if isinstance(data, str) else data
            answer = self._gateway.request(route, owner=owner, params=query, body=body)
        if answer.status is None:
            raise PolyApiException(error_msg="Request exception!")
        if answer.status != 200:
            raise PolyApiException(ErrorReply(answer))
        if isinstance(answer.body, str):
            try:  # the real helpers' resp.json() parses a JSON text too
                return json.loads(answer.body)
            except ValueError:
                return answer.body
        return answer.body

    def _target(self, method: str, endpoint: str) -> _Target:
        """A request line's _Target, resolved once: the client asks the same few endpoints (its
        orders' status, notifications, trades) over and over."""
        resolved = self._gateway.resolve(method, urlsplit(endpoint).path)
        target = _NOWHERE
        if resolved is not None:
            route, path_params = resolved
            target = (route, tuple(path_params.items()), self._gateway.needs_auth(route))
        if len(self._targets) >= 4096:
            self._targets.clear()
        self._targets[(method, endpoint)] = target
        return target

    def _get(self, endpoint, headers=None, params=None):
        return self._request("GET", endpoint, params=params)

    def _post(self, endpoint, headers=None, data=None, params=None):
        return self._request("POST", endpoint, data=data, params=params)

    def _delete(self, endpoint, headers=None, data=None, params=None):
        return self._request("DELETE", endpoint, data=data, params=params)
