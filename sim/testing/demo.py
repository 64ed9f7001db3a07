"""A scripted session against the in-memory fake exchange, writing the audit logs.

Four trades in four 15-minute windows, each scripted to walk one path of the audit trail:
  BTC  placement, delayed fill landing WHILE the exit process cancels it (race detected)
  ETH  exit fills while the scale-in rests: safe cancellation, verification inconclusive
  SOL  placement refused by a restarting matching engine (425): SCALE-IN ... FAILED
  XRP  the book moved in flight: the maker bid matches on arrival (immediate fill)
The bot's three tasks (monitor, notifications, the trades-listing sweep) are stepped in turn on a
manual clock; the races are scripted with the fake's `before()` hook, which runs just ahead of a
call.

Usage: python -m sim.demo [--out DIR]   (default reports/demo)
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from collections.abc import Callable
from decimal import Decimal

from clobsim.core.audit import AuditLog, attach_file_logs, detach
from clobsim.core.bot import Bot
from clobsim.core.errors import Transient
from clobsim.core.ledger import Ledger
from clobsim.core.model import Role
from clobsim.sim.testing.fake import FakeExchange, ManualClock

WINDOW_START = 1_764_028_800  # 2025-11-25 00:00:00 UTC
WINDOW = 900


def build(out: str):
    clock = ManualClock(WINDOW_START)
    exchange = FakeExchange(clock, collateral=Decimal("1000"))
    logger = logging.getLogger("clobsim.demo")
    logger.propagate = False
    year = 2025
    handlers = attach_file_logs(
        logger,
        master_path=os.path.join(out, "logs", f"trades_{year}.log"),
        window_dir=os.path.join(out, "logs", "windows"),
        jsonl_path=os.path.join(out, "logs", "audit.jsonl"),
    )
    ledger = Ledger(os.path.join(out, "ledger.sqlite"))
    bot = Bot(clock, exchange, ledger, audit=AuditLog(clock, logger))
    return clock, exchange, bot, logger, handlers


def open_trade(bot: Bot, exchange: FakeExchange, symbol: str, token: str, entry: str) -> int:
    slug = f"{symbol.lower()}-updown-15m-{WINDOW_START}"
    exchange.credit(token, entry)
    return bot.open_trade(
        symbol=symbol,
        side="UP",
        market=f"cond-{symbol.lower()}",
        token_id=token,
        window_slug=slug,
        window_end=WINDOW_START + WINDOW,
        entry_price="0.70",
        entry_size=entry,
        confidence="0.85",
    )


def scale_in_of(bot: Bot, trade_id: int) -> str:
    return bot.ledger.orders(trade_id, Role.SCALE_IN)[-1].order_id


def exit_of(bot: Bot, trade_id: int) -> str:
    return bot.ledger.orders(trade_id, Role.EXIT)[-1].order_id


def run(out: str) -> int:
    clock, ex, bot, logger, handlers = build(out)
    for token in ("btc-up", "eth-up", "sol-up", "xrp-up"):
        ex.set_book(token, "0.72", "0.74")
    clock.advance(300)
    btc = open_trade(bot, ex, "BTC", "btc-up", "10.50")
    eth = open_trade(bot, ex, "ETH", "eth-up", "8.00")
    open_trade(bot, ex, "SOL", "sol-up", "6.00")
    open_trade(bot, ex, "XRP", "xrp-up", "5.00")
    script: dict[int, Callable[[], None]] = {}

    def at(t: int, fn: Callable[[], None]) -> None:
        script[WINDOW_START + t] = fn

    def bids_up() -> None:
        for token in ("btc-up", "eth-up", "sol-up"):
            ex.set_book(token, "0.75", "0.77")
        # XRP's ask drops onto the bid while its order is in flight: it matches on arrival
        ex.set_book("xrp-up", "0.75", "0.76")
        # scale-ins are posted in trade order: BTC, ETH, then SOL meets a restarting engine
        ex.before("post_order", lambda: None)
        ex.before("post_order", lambda: None)
        ex.before("post_order", lambda: ex.fail_next("post_order", Transient("matching engine restarting", status=425)))
        ex.before("post_order", lambda: ex.set_book("xrp-up", "0.74", "0.75"))

    at(480, bids_up)

    def btc_exit_fills_and_race() -> None:
        # The exit order fills. While the monitor reads the pending scale-in's status, the
        # scale-in fills too and the notification task processes that fill first: the status
        # the monitor gets back (LIVE) is already stale.
        ex.fill(exit_of(bot, btc), "10.50")
        order_id = scale_in_of(bot, btc)

        def fill_during_status_check() -> None:
            before_fill = ex.orders[order_id].snapshot()
            ex.fill(order_id, "10.50")
            bot.notifications.poll()
            ex.stale(order_id, before_fill)

        ex.before("get_order", lambda: None)  # the scale-in's own tracking read
        ex.before("get_order", lambda: None)  # the exit order's tracking read
        ex.before("get_order", fill_during_status_check)  # the exit process's status check

    at(600, btc_exit_fills_and_race)

    def eth_exit_fills() -> None:
        ex.fill(exit_of(bot, eth), "8.00")
        # the venue answers null to both verification reads after the cancel
        ex.before("cancel_order", lambda: ex.hide(scale_in_of(bot, eth), 2))

    at(700, eth_exit_fills)

    def resolve() -> None:
        for symbol, token in (("btc", "btc-up"), ("eth", "eth-up"), ("sol", "sol-up"), ("xrp", "xrp-up")):
            ex.resolve(f"cond-{symbol}", token)

    at(WINDOW + 30, resolve)

    bot.start()
    while clock.now() < WINDOW_START + WINDOW + 120 and not bot.idle:
        for due in sorted(t for t in script if t <= clock.now()):
            script.pop(due)()
        bot.monitor.cycle()
        bot.notifications.poll()
        bot.reconciler.sweep_listings()
        clock.advance(5)
    detach(logger, handlers)
    bot.ledger.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("reports", "demo"))
    args = parser.parse_args(argv)
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    code = run(args.out)
    master = os.path.join(args.out, "logs", "trades_2025.log")
    with open(master, encoding="utf-8") as handle:
        sys.stdout.write(handle.read())
    print(
        f"\nmaster log: {master}\nwindow logs: {os.path.join(args.out, 'logs', 'windows')}"
        f"\nstructured twin: {os.path.join(args.out, 'logs', 'audit.jsonl')}"
    )
    return code


if __name__ == "__main__":
    raise SystemExit(main())
