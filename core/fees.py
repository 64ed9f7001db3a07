"""CLOB V2's operator fee: what a taker pays at match time, and what a BUY taker is delivered.

Polymarket's fee page: fee = C x feeRate x (p x (1 - p)) ^ exponent in pUSD for C shares taken at
price p; makers pay nothing. The taker pays it in what it receives: a SELL gets its pUSD less the
fee, a BUY its shares less the fee converted to shares at the trade's price. So a BUY taker holds
fewer shares than its order's size_matched says (clob-reference failure mode 7), and the venue
pays at resolution what was delivered, not what was matched.

Both amounts are cut to whole base units (6 decimals), never rounded up: the exchange contract
divides in integers. This module is the one derivation of the formula: the simulated venue
charges with it, and core computes from it what a fill delivered, from what the venue states
(the trade's `fee_rate_bps`, the rate that applied, and the market's exponent, GET /clob-markets
`fd.e`).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

BASE_UNIT = Decimal("0.000001")  # pUSD and conditional tokens both have 6 decimals
BASIS_POINTS = Decimal(10_000)
ZERO = Decimal(0)

FeeExponent = int | Decimal  # the venue's exponent: a whole number on every market listed so far


def taker_fee(shares: Decimal, price: Decimal, rate: Decimal, exponent: FeeExponent) -> Decimal:
    """The fee in pUSD on `shares` taken at `price` (rate as a fraction: 0.07, not 700)."""
    return (shares * rate * (price * (1 - price)) ** exponent).quantize(BASE_UNIT, rounding=ROUND_DOWN)


def fee_in_shares(fee: Decimal, price: Decimal) -> Decimal:
    """A BUY taker pays its fee in the shares it receives, converted at the trade's price."""
    return (fee / price).quantize(BASE_UNIT, rounding=ROUND_DOWN)


def rate_of(fee_rate_bps: Decimal | int) -> Decimal:
    """The fee rate as a fraction from the basis points a trade states ("700" -> 0.07)."""
    return Decimal(fee_rate_bps) / BASIS_POINTS


def shares_withheld(shares: Decimal, price: Decimal, fee_rate_bps: Decimal | int, exponent: FeeExponent) -> Decimal:
    """The shares a BUY taker's fill of `shares` at `price` does not deliver: its fee, in shares."""
    if not fee_rate_bps or not shares:
        return ZERO
    return min(shares, fee_in_shares(taker_fee(shares, price, rate_of(fee_rate_bps), exponent), price))
