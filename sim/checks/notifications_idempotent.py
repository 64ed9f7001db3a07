"""notifications-idempotent: delivering every notification the bot received a second time, to a
bot on a copy of the final ledger, changes nothing (positions, live and void fills). Exact: one
replay of the whole delivered set, no tolerance."""

from __future__ import annotations

import functools
import logging
import os
import shutil

from py_clob_client.order_builder.builder import OrderBuilder
from py_clob_client.signer import Signer

from clobsim.core.bot import Bot
from clobsim.core.clob_adapter import ClobExchange
from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import exchanges
from clobsim.sim.clients.fast import FastClobClient
from clobsim.sim.exchange.gateway import Gateway
from clobsim.sim.runner.harness import BOT_CREDS, BOT_KEY, CHAIN_ID, HOST, RunResult, scratch_dir
from clobsim.sim.runner.kernel import ManualClock

ID = "notifications-idempotent"


class _RecordedNotifications(FastClobClient):
    """Answers GET /notifications with what the bot was given during the run; reads go to the
    final venue; drops do nothing."""

    def __init__(self, notes: list, gateway: Gateway):
        super().__init__(HOST, chain_id=CHAIN_ID, gateway=gateway)
        self.signer, self.builder = _bot_signing()
        self.set_api_creds(BOT_CREDS)
        self._notes = notes

    def get_notifications(self):
        return list(self._notes)

    def drop_notifications(self, params=None):
        return "OK"


@functools.cache
def _bot_signing() -> tuple[Signer, OrderBuilder]:
    """The bot's signer and order builder (as a client given its key makes them), once a process:
    deriving the key's address is most of the cost of a client, and neither changes or keeps state."""
    signer = Signer(BOT_KEY, CHAIN_ID)
    return signer, OrderBuilder(signer)


def check(result: RunResult, ledger: Ledger) -> Check:
    delivered = []
    for request, record in exchanges(result):
        if request is not None and request["route"] == "GET /notifications" and isinstance(record.get("body"), list):
            delivered.extend(record["body"])
    if not delivered:
        return ok(ID)
    before = _ledger_state(ledger)
    workdir = scratch_dir("clobsim-idem-")
    try:
        copy = os.path.join(workdir, "ledger.sqlite")
        shutil.copyfile(result.ledger_path, copy)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(result.ledger_path + suffix):
                shutil.copyfile(result.ledger_path + suffix, copy + suffix)
        clock = ManualClock(result.scenario.window_start + result.simulated_seconds)
        exchange = ClobExchange(_RecordedNotifications(delivered, Gateway(result.venue)), chain_id=CHAIN_ID)
        logger = logging.getLogger("clobsim.oracle.idempotency")
        logger.propagate = False
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
        replica = Ledger(copy, synchronous="OFF")  # thrown away after the replay: no sync is owed
        try:
            Bot(clock, exchange, replica, logger=logger).notifications.poll()
            after = _ledger_state(replica)
        finally:
            replica.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if before != after:
        changed = [
            f"{key}: {before.get(key)} -> {after.get(key)}"
            for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)
        ]
        return fail(ID, f"delivering the {len(delivered)} notifications a second time changed the ledger", changed)
    return ok(ID)


def _ledger_state(ledger: Ledger) -> dict[str, str]:
    state = {f"position #{t.trade_id}": f"{ledger.position(t.trade_id):.2f}" for t in ledger.trades()}
    state["live fills"] = str(sum(1 for f in ledger.fills() if not f["void"]))
    state["void fills"] = str(sum(1 for f in ledger.fills() if f["void"]))
    return state
