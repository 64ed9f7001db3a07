"""Order ids as the exchange derives them: the EIP-712 hash of the signed order struct.

The id is the typed-data digest py_order_utils signs (`keccak(0x1901 || domain || struct)`), with
domain "Polymarket CTF Exchange", version "1", the chain id and, as verifying contract, the
exchange address for the market's neg_risk flag (docs/venue-shapes.md). Rebuilding it from the
posted JSON (not trusting a client-sent id) is what lets wire mode and fast mode agree: the fast
client's dummy signature never enters the hash.
"""

from __future__ import annotations

from functools import cache

from eth_account import Account
from eth_utils import keccak
from poly_eip712_structs import make_domain
from py_clob_client.config import get_contract_config
from py_order_utils.model import Order
from py_order_utils.utils import normalize_address

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


def order_id(order: dict, chain_id: int, neg_risk: bool) -> str:
    """keccak(0x1901 || domain separator || struct hash): Order.signable_bytes(domain), with
    the domain separator hashed once per exchange instead of on every order."""
    struct_hash = order_struct(order).hash_struct()
    return "0x" + keccak(b"\x19\x01" + _domain_separator(chain_id, neg_risk) + struct_hash).hex()


def recover_signer(digest: str, signature: str) -> str | None:
    """The address that produced `signature` over `digest`, or None if it is not a signature."""
    try:
        return Account._recover_hash(digest, signature=signature)
    except Exception:  # eth_keys raises several unrelated types for malformed input
        return None
