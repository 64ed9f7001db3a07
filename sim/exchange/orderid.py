"""Order ids as the exchange derives them: the EIP-712 hash of the signed order struct.

Under protocol v1 the id is the typed-data digest py_order_utils signs (`keccak(0x1901 || domain || struct)`), with
domain "Polymarket CTF Exchange", version "1", the chain id and, as verifying contract, the
exchange address for the market's neg_risk flag (docs/venue-shapes.md). Rebuilding it from the
posted JSON (not trusting a client-sent id) is what lets wire mode and fast mode agree: the fast
client's dummy signature never enters the hash.

Under protocol v2 it is the digest py-clob-client-v2 signs: the 11-field V2 struct (salt, maker,
signer, tokenId, makerAmount, takerAmount, side, signatureType, timestamp, metadata, builder;
expiration is posted but not signed) under domain "Polymarket CTF Exchange", version "2", with
the V2 exchange (or the neg-risk V2 exchange) as verifying contract. The struct hash is encoded
with eth_abi as the client's own ExchangeOrderBuilderV2 does for POLY_1271 orders, which is the
EIP-712 hashStruct of the struct (tests/sim/test_protocol.py checks it against the client's
build_order_hash).
"""

from __future__ import annotations

from functools import cache

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak
from poly_eip712_structs import make_domain
from py_clob_client.config import get_contract_config
from py_clob_client_v2.config import get_contract_config as get_contract_config_v2
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ORDER_TYPE_HASH as V2_ORDER_TYPE_HASH
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_order_utils.model import Order
from py_order_utils.utils import normalize_address

from clobsim.sim.exchange.protocol import V1, V2

DOMAIN_NAME = "Polymarket CTF Exchange"
DOMAIN_VERSION = "1"
SIDES = {"BUY": 0, "SELL": 1}


class MalformedOrder(ValueError):
    """The posted order JSON cannot be turned into a struct."""


@cache
def exchange_domain(chain_id: int, neg_risk: bool):
    exchange = get_contract_config(chain_id, neg_risk).exchange
    # chainId as a string, exactly as py_order_utils' BaseBuilder builds it
    return make_domain(
        name=DOMAIN_NAME, version=DOMAIN_VERSION, chainId=str(chain_id), verifyingContract=normalize_address(exchange)
    )


@cache
def _domain_separator(chain_id: int, neg_risk: bool) -> bytes:
    return exchange_domain(chain_id, neg_risk).hash_struct()


def order_struct(order: dict) -> Order:
    """The signed struct from the JSON py_clob_client posts (SignedOrder.dict())."""
    # addresses go in as posted: EIP-712 encodes them as numbers, so checksum casing (costly
    # to compute) cannot change the hash
    try:
        side = order["side"]
        return Order(
            salt=int(order["salt"]),
            maker=order["maker"],
            signer=order["signer"],
            taker=order["taker"],
            tokenId=int(order["tokenId"]),
            makerAmount=int(order["makerAmount"]),
            takerAmount=int(order["takerAmount"]),
            expiration=int(order["expiration"]),
            nonce=int(order["nonce"]),
            feeRateBps=int(order["feeRateBps"]),
            side=SIDES[side] if isinstance(side, str) else int(side),
            signatureType=int(order["signatureType"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedOrder(str(exc)) from exc


def order_id(order: dict, chain_id: int, neg_risk: bool, protocol: str = V1) -> str:
    """keccak(0x1901 || domain separator || struct hash): Order.signable_bytes(domain), with
    the domain separator hashed once per exchange instead of on every order."""
    if protocol == V2:
        return "0x" + keccak(b"\x19\x01" + _v2_domain_separator(chain_id, neg_risk) + _v2_struct_hash(order)).hex()
    struct_hash = order_struct(order).hash_struct()
    return "0x" + keccak(b"\x19\x01" + _domain_separator(chain_id, neg_risk) + struct_hash).hex()


# the fields that exist only in a V1 order: one of them in a posted order means it was signed for V1
V1_ONLY_FIELDS = ("taker", "nonce", "feeRateBps")
V2_ONLY_FIELDS = ("timestamp", "metadata", "builder")


def signed_version(order: dict) -> str:
    """Which protocol's struct a posted order JSON carries (V2 fields win when both appear)."""
    return V2 if any(k in order for k in V2_ONLY_FIELDS) else V1


def v2_exchanges(chain_id: int) -> tuple[str, str]:
    """The V2 exchange contracts (standard, neg-risk): the spenders a V2 allowance names."""
    config = get_contract_config_v2(chain_id)
    return config.exchange_v2, config.neg_risk_exchange_v2


@cache
def _v2_domain_separator(chain_id: int, neg_risk: bool) -> bytes:
    config = get_contract_config_v2(chain_id)
    exchange = config.neg_risk_exchange_v2 if neg_risk else config.exchange_v2
    # the builder hashes its domain in __init__ and never touches the signer there
    return ExchangeOrderBuilderV2(exchange, chain_id, signer=None).app_domain_separator


def _bytes32(value: object) -> bytes:
    text = str(value)
    raw = bytes.fromhex(text[2:] if text.startswith("0x") else text)
    if len(raw) > 32:
        raise ValueError("bytes32 field longer than 32 bytes")
    return raw.rjust(32, b"\0")


def _v2_struct_hash(order: dict) -> bytes:
    try:
        side = order["side"]
        values = [
            V2_ORDER_TYPE_HASH,
            int(order["salt"]),
            str(order["maker"]),
            str(order["signer"]),
            int(order["tokenId"]),
            int(order["makerAmount"]),
            int(order["takerAmount"]),
            SIDES[side] if isinstance(side, str) else int(side),
            int(order["signatureType"]),
            int(order["timestamp"]),
            _bytes32(order["metadata"]),
            _bytes32(order["builder"]),
        ]
        types = ["bytes32", "uint256", "address", "address", "uint256", "uint256", "uint256", "uint8", "uint8"]
        return keccak(abi_encode([*types, "uint256", "bytes32", "bytes32"], values))
    except Exception as exc:  # eth_abi raises its own encoding errors for out-of-range values
        raise MalformedOrder(str(exc)) from exc


def recover_signer(digest: str, signature: str) -> str | None:
    """The address that produced `signature` over `digest`, or None if it is not a signature."""
    try:
        return Account._recover_hash(digest, signature=signature)
    except Exception:  # eth_keys raises several unrelated types for malformed input
        return None
