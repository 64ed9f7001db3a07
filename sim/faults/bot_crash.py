"""bot_crash: the bot's process dies at `at` and a new one starts `restart_after` seconds later
on the same SQLite database; requests already in flight still land (they are the network's).

One bot process at a time: a crash while the bot is already down kills nothing and schedules no
second restart (two bots on one database is not a failure mode of the venue, but of the test).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from sim.faults.kind import SECONDS, BotHost, Draws, Fault, FaultKind, T
from sim.trace import TraceType


class BotCrash(FaultKind):
    def begin_bot(self, host: BotHost, fault: Fault, index: int) -> None:
        host.env.process(self._crash(host, fault, index))

    def _crash(self, host: BotHost, fault: Fault, index: int) -> Any:
        yield host.env.timeout(max(0.0, host.window_start + float(fault.get("at")) - host.env.now))
        if not host.bot_is_up():
            host.record(TraceType.FAULT, kind=self.name, index=index, phase="already down")
            return
        host.kill_bot()
        host.record(TraceType.FAULT, kind=self.name, index=index, phase="killed")
        yield host.env.timeout(float(fault.get("restart_after")))
        host.replace_bot()
        host.record(TraceType.FAULT, kind=self.name, index=index, phase="restarted")
        host.start_bot()

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return st.fixed_dictionaries({"at": draws.times, "restart_after": st.sampled_from([1, 5, 30])})


KIND = BotCrash(
    "bot_crash",
    "The bot's tasks die at `at`; a new bot starts `restart_after` s later on the same SQLite database.",
    {"at": T, "restart_after": SECONDS},
    ("at",),
    {"restart_after": 5},
    precedence=200,
)
