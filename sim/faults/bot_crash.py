"""bot_crash: the bot's process dies at `at` and a new one starts `restart_after` seconds later
on the same SQLite database; requests already in flight still land (they are the network's).

With `point` (a core.ports.CodePoint name, e.g. `post-answered`: a placement's answer is in hand
and nothing of it is written yet) the bot dies the first time it reaches that point in its code
at or after `at`: a crash at a moment of the code, not of the clock, which a time can only hit
by luck. core tells its Probe port when it reaches one; the harness stops the task right there.

One bot process at a time: a crash while the bot is already down kills nothing and schedules no
second restart (two bots on one database is not a failure mode of the venue, but of the test).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobsim.core.ports import CodePoint
from clobsim.sim.faults.kind import SECONDS, BotHost, Draws, Fault, FaultKind, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


NAME = "bot_crash"


def downtime(trace: list[dict]) -> list[tuple[float, float]]:
    """The excuse this kind gives checks that bound a reaction time: the (killed, restarted)
    intervals, from the trace; a bot never restarted is down until the end (inf). No bot can
    react while it is not running, so a bound counts only time the bot was up."""
    intervals: list[tuple[float, float]] = []
    killed = None
    for record in trace:
        if record.get("type") == TraceType.FAULT and record.get("kind") == NAME:
            if record.get("phase") == "killed":
                killed = record["t"]
            elif record.get("phase") == "restarted" and killed is not None:
                intervals.append((killed, record["t"]))
                killed = None
    if killed is not None:
        intervals.append((killed, float("inf")))
    return intervals


def restarts(trace: list[dict]) -> list[float]:
    """The excuse this kind gives checks of a state the bot must keep (an exit covering the
    position): the moments a crashed bot came back. It could not act while down, so a stretch
    counts against it only from its restart."""
    return [back for _, back in downtime(trace) if back != float("inf")]


def unread_answers(trace: list[dict]) -> list[tuple[dict, float]]:
    """(request, restarted) for each request the bot sent before a crash whose answer it never
    read: the answer came at or after the kill (a crash at `post-answered` dies the moment the
    answer is in hand), or never. The restarted bot cannot know the request's outcome: for a
    placement, it is in the same state as after a lost answer (an order it may have placed)."""
    crashes = [(killed, back) for killed, back in downtime(trace) if back != float("inf")]
    if not crashes:
        return []
    answered = {r["seq"]: r["t"] for r in trace if r.get("type") == TraceType.RESPONSE}
    requests = [r for r in trace if r.get("type") == TraceType.REQUEST]
    unread = []
    for killed, back in crashes:
        for request in requests:
            if request["t"] <= killed <= answered.get(request["seq"], float("inf")):
                unread.append((request, back))
    return unread


class BotCrash(FaultKind):
    def begin_bot(self, host: BotHost, fault: Fault, index: int) -> None:
        if fault.get("point") is None:
            host.env.process(self._crash(host, fault, index))
            return
        due = host.window_start + float(fault.get("at"))
        done: list[str] = []

        def reached(point: str) -> None:
            if done or point != fault.get("point") or host.env.now < due or not host.bot_is_up():
                return
            done.append(point)
            host.record(TraceType.FAULT, kind=self.name, index=index, phase="killed", point=point)
            host.env.process(self._down_and_back(host, fault, index))
            host.crash_here()

        host.on_code_point(reached)

    def _down_and_back(self, host: BotHost, fault: Fault, index: int) -> Any:
        host.kill_bot()  # the other tasks and the ledger, at the same instant
        yield host.env.timeout(float(fault.get("restart_after")))
        host.replace_bot()
        host.record(TraceType.FAULT, kind=self.name, index=index, phase="restarted")
        host.start_bot()

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
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries({"at": draws.times, "restart_after": st.sampled_from([1, 5, 30])})


KIND = BotCrash(
    NAME,
    "The bot's tasks die at `at` (with `point`: the first time at or after `at` its code reaches that "
    "point); a new bot starts `restart_after` s later on the same SQLite database.",
    {"at": T, "restart_after": SECONDS, "point": {"enum": [point.value for point in CodePoint]}},
    ("at",),
    {"restart_after": 5},
    precedence=200,
)
