"""CLOB V2's operator fee as core derives it: what a fill delivered, from what the trade states."""

from __future__ import annotations

from decimal import Decimal

from clobsim.core.fees import fee_in_shares, shares_withheld, taker_fee
from clobsim.core.model import MakerFill, Side, TradeSnapshot

D = Decimal


def taker_buy(fee_rate_bps: str = "700", exponent: int | None = 1, size: str = "10.5") -> TradeSnapshot:
    return TradeSnapshot(
        trade_id="t-1",
        status="MATCHED",
        asset_id="btc-up",
        side=Side.BUY,
        size=D(size),
        price=D("0.79"),
        taker_order_id="0xours",
        maker_orders=(MakerFill("0xcrowd", D(size), D("0.79")),),
        fee_rate_bps=D(fee_rate_bps),
        fee_exponent=exponent,
    )


def test_the_fee_is_cut_to_whole_base_units_and_paid_in_shares_cut_again():
    # 10.5 x 0.07 x 0.79 x 0.21 = 0.1219365 pUSD, cut (never rounded up) to 0.121936
    assert taker_fee(D("10.5"), D("0.79"), D("0.07"), 1) == D("0.121936")
    # 0.121936 / 0.79 = 0.15434936..., cut to 0.154349 shares
    assert fee_in_shares(D("0.121936"), D("0.79")) == D("0.154349")
    assert shares_withheld(D("10.5"), D("0.79"), D("700"), 1) == D("0.154349")


def test_the_exponent_bends_the_fee_curve_as_the_market_states_it():
    # 15-minute crypto markets: rate 0.25, exponent 2: 100 x 0.25 x (0.5 x 0.5)^2 = 1.5625 pUSD
    assert taker_fee(D("100"), D("0.5"), D("0.25"), 2) == D("1.5625")
    assert shares_withheld(D("100"), D("0.5"), D("2500"), 2) == D("3.125")


def test_a_fee_free_trade_withholds_nothing():
    assert shares_withheld(D("10.5"), D("0.79"), D("0"), 1) == D("0")
    assert taker_buy(fee_rate_bps="0").fill_of("0xours").withheld == D("0")


def test_a_buy_taker_is_delivered_its_matched_shares_less_the_fee_in_shares():
    fill = taker_buy().fill_of("0xours")
    assert (fill.size, fill.withheld) == (D("10.5"), D("0.154349"))


def test_a_maker_pays_no_fee_whatever_rate_the_trade_states():
    assert taker_buy().fill_of("0xcrowd").withheld == D("0")


def test_a_sell_taker_pays_in_pusd_so_every_matched_share_leaves():
    sell = TradeSnapshot("t-2", "MATCHED", "btc-up", Side.SELL, D("10"), D("0.6"), "0xours", fee_rate_bps=D("700"))
    assert sell.fill_of("0xours").withheld == D("0")


def test_a_trade_whose_exponent_could_not_be_read_leaves_what_it_delivered_unknown():
    assert taker_buy(exponent=None).fill_of("0xours").withheld is None
