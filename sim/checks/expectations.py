"""A scenario's own expectations (its `expect` section), checked against the run.

Audit patterns are Python regular expressions matched (re.search) against the INFO-and-above
lines of the run, i.e. exactly the lines of audit.log without the time and level prefix. A key
of `expect.protocols.<protocol>` replaces the shared one for a run under that protocol.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from clobsim.core.audit import render
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import FinalLedger, bot_orders
from clobsim.sim.runner.harness import RunResult


def quoted(pattern: str) -> str:
    """A pattern as the scenario file spells it, in quotes: repr() would double every backslash."""
    return f"'{pattern}'"


# the expectations check_lines reads: the only ones that need the audit lines
LINE_EXPECTATIONS = ("audit_in_order", "audit_absent", "counts")


def info_lines(result: RunResult) -> list[str]:
    return [render(e) for e in result.events if e.level >= logging.INFO]


def check_expectations(result: RunResult) -> list[Check]:
    expect = result.scenario.expectations(result.protocol)
    # rendering a run's audit lines costs more than all its other expectations: only for a
    # scenario that has some about them (a drawn one, exploration's, has none)
    lines = info_lines(result) if any(key in expect for key in LINE_EXPECTATIONS) else []
    checks = check_lines(expect, lines)
    outcomes = expect.get("outcomes", {})
    if outcomes:
        checks.extend(_outcomes(result, outcomes))
    return checks


def check_lines(expect: dict, lines: list[str]) -> list[Check]:
    """The audit-line expectations (in order, absent, counts) against any lines: core's audit
    lines, or the output of a bot process (sim.checks.bot_process)."""
    checks: list[Check] = []
    if "audit_in_order" in expect:
        checks.append(_in_order(expect["audit_in_order"], lines))
    for pattern in expect.get("audit_absent", []):
        found = [line for line in lines if re.search(pattern, line)]
        checks.append(
            fail(
                "expect.audit_absent",
                f"pattern {quoted(pattern)} must not appear but matched {len(found)} line(s)",
                found[:3],
                kind="expectation",
            )
            if found
            else ok("expect.audit_absent", "expectation")
        )
    for pattern, wanted in expect.get("counts", {}).items():
        found = [line for line in lines if re.search(pattern, line)]
        checks.append(
            fail(
                "expect.counts",
                f"pattern {quoted(pattern)}: expected {wanted} line(s), found {len(found)}",
                found[:5],
                kind="expectation",
            )
            if len(found) != wanted
            else ok("expect.counts", "expectation")
        )
    return checks


def _in_order(patterns: list[str], lines: list[str]) -> Check:
    position, last = 0, None
    for index, pattern in enumerate(patterns, start=1):  # numbered as a reader counts the file's list
        regex = re.compile(pattern)
        while position < len(lines) and not regex.search(lines[position]):
            position += 1
        if position == len(lines):
            before = (
                f"last line matched before it (pattern #{index - 1}): {last}" if last else "no earlier pattern matched"
            )
            anywhere = [line for line in lines if regex.search(line)]
            evidence = [before] + ([f"the pattern does match earlier, out of order: {anywhere[0]}"] if anywhere else [])
            return fail(
                "expect.audit_in_order", f"missing pattern #{index} {quoted(pattern)}", evidence, kind="expectation"
            )
        last = lines[position]
        position += 1
    return ok("expect.audit_in_order", "expectation")


def _outcomes(result: RunResult, outcomes: dict) -> list[Check]:
    checks = []
    if "trades" not in outcomes:
        return open_orders(result, outcomes)
    with FinalLedger(result) as ledger:
        for trade_key, wanted in outcomes.get("trades", {}).items():
            if ledger is None:  # a foreign bot keeps its own books: no trade outcome to read
                checks.append(
                    fail(
                        "expect.outcomes",
                        f"trade #{trade_key}: outcomes.trades reads core's ledger; a foreign bot has none "
                        "(expect open_orders, audit lines, or give a positions hook)",
                        kind="expectation",
                    )
                )
                continue
            trade_id = int(trade_key)
            trade = ledger.trade(trade_id)
            actual = {
                "position": ledger.position(trade_id),
                "state": trade.state.value,
                "pnl": trade.pnl,
                "scale_ins": len([o for o in ledger.orders(trade_id) if o.role.value == "scale-in"]),
                "winner": None if trade.winner is None else ("WIN" if trade.winner == trade.token_id else "LOSS"),
            }
            for key, value in wanted.items():
                got = actual[key]
                same = (
                    (got is not None and Decimal(str(got)) == Decimal(str(value)))
                    if key in ("position", "pnl")
                    else got == value
                )
                checks.append(
                    ok("expect.outcomes", "expectation")
                    if same
                    else fail(
                        "expect.outcomes", f"trade #{trade_id} {key}: expected {value}, got {got}", kind="expectation"
                    )
                )
    return checks + open_orders(result, outcomes)


def open_orders(result: RunResult, outcomes: dict) -> list[Check]:
    """`outcomes.open_orders`: the bot's orders live at the venue at the end (the venue's records alone)."""
    checks = []
    if "open_orders" in outcomes:
        live = [o.id for o in bot_orders(result) if o.is_open]
        wanted = outcomes["open_orders"]
        checks.append(
            ok("expect.outcomes", "expectation")
            if len(live) == wanted
            else fail(
                "expect.outcomes",
                f"open orders at the end: expected {wanted}, got {len(live)}",
                live,
                kind="expectation",
            )
        )
    return checks
