"""Virtual time: one simpy Environment per run; the bot's tasks run as greenlets on it.

The bot is plain synchronous code (it sleeps, it calls the exchange and blocks). Each of its
tasks runs in a greenlet that the kernel drives as simpy drives a process: when the task sleeps or
waits for an exchange answer, its greenlet switches back to the simulation, and the kernel hangs
the task's resumption on the corresponding simpy event (the event's callback, where simpy's
Process would hang its own); when the event fires, the kernel switches back into the task with
the event's value. No generator and no Process per task: a window resumes tasks a thousand times.
Everything else (market flow, fills, notification delivery, settlement, in-flight requests)
is ordinary simpy processes, so they interleave with the bot's calls exactly as latency says.

The environment owns the clock: nothing in a run reads any other time. simpy orders events at
the same instant by scheduling order (a counter), so a run is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from heapq import heappop
from typing import Any

import greenlet
import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import URGENT, EventPriority, Timeout

# The watchdog's bounds. A 15-minute window takes about 3,500 simpy events, at most ~10 at one
# instant; a run past these bounds cannot be a sane one and would otherwise never end.
EVENTS_PER_SECOND = 100  # of simulated time (a taker rate of 10/s costs ~30)
MIN_EVENTS = 100_000
MAX_AT_ONE_INSTANT = 10_000  # events without the virtual clock advancing: a zero-length loop


class Runaway(Exception):
    """The watchdog stopped a run that cannot finish: `cause` says why, `at` when (virtual)."""

    def __init__(self, cause: str, at: float):
        super().__init__(cause)
        self.cause, self.at = cause, at

    def __reduce__(self) -> tuple:
        return (type(self), (self.cause, self.at))


class WatchedEnvironment(simpy.Environment):
    """A simpy Environment with a watchdog in its step: a run whose virtual clock stops advancing
    or whose event count explodes raises Runaway instead of spinning (and growing its trace)
    forever. Counting costs a few attribute reads per event; it changes no event's order."""

    def __init__(self, initial_time: float, max_events: int):
        super().__init__(initial_time=initial_time)
        self.max_events = max_events
        self.events_processed = 0
        self._instant = initial_time
        self._at_instant = 0

    def step(self) -> None:
        # simpy's Environment.step inlined after the watchdog (one call per event, not two: a
        # window steps some 3,500 times); the same events in the same order
        self.events_processed += 1
        if self._now == self._instant:
            self._at_instant += 1
            if self._at_instant > MAX_AT_ONE_INSTANT:
                raise Runaway(
                    f"the virtual clock stopped advancing: {MAX_AT_ONE_INSTANT} events at one instant "
                    "(a loop that never waits: an interval of 0?)",
                    self._now,
                )
        else:
            self._instant, self._at_instant = self._now, 0
        if self.events_processed > self.max_events:
            raise Runaway(
                f"the event count exploded: more than {self.max_events} events "
                f"({EVENTS_PER_SECOND} per simulated second; a rate too high?)",
                self._now,
            )
        try:
            self._now, _, _, event = heappop(self._queue)
        except IndexError:
            raise EmptySchedule from None
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            # as simpy: the callbacks not yet called go with the event, rescheduled first
            event.callbacks = callbacks[callbacks.index(callback) + 1 :]
            self.schedule(event, EventPriority(-1))
            raise
        if not event._ok and not hasattr(event, "_defused"):
            # a failed event nobody handled crashes the run, with a copy of its error
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc


def max_events(horizon: float) -> int:
    return max(MIN_EVENTS, int(EVENTS_PER_SECOND * horizon))


class TaskKilled(greenlet.GreenletExit):
    """Thrown into a task's greenlet when the simulation kills it (bot_crash)."""


@dataclass
class Task:
    name: str
    glet: greenlet.greenlet
    error: BaseException | None = None
    error_text: str = ""
    killed: bool = False
    finished: bool = False
    trace: list = field(default_factory=list)
    waiting: simpy.Event | None = None  # the event the suspended task waits for
    wake: Callable[[simpy.Event], None] | None = None  # its callback on that event


class _Soon(simpy.Event):
    """Calls `callback` at this instant ahead of its ordinary events, where simpy processes a
    process's Initialize and Interruption events (URGENT priority, in scheduling order)."""

    def __init__(self, env: simpy.Environment, callback: Callable[[simpy.Event], Any]):
        self.env = env
        self.callbacks = [callback]
        self._ok, self._value = True, None
        env.schedule(self, URGENT)


def _outcome(event: simpy.Event) -> tuple[Any, BaseException | None]:
    """(value, None) of a fired event, or (None, error) for a failed one: as simpy's Process
    does, the failure is defused and the task gets a copy of the error of its own."""
    if event._ok:
        return event._value, None
    event._defused = True
    error = type(event._value)(*event._value.args)
    error.__cause__ = event._value
    return None, error


class Kernel:
    """Runs greenlet tasks on a simpy Environment."""

    def __init__(self, env: simpy.Environment, on_resume: Callable[[float], None] | None = None):
        self.env = env
        self.tasks: list[Task] = []
        self._current: Task | None = None
        # Called with env.now each time a task resumes: wire mode moves freezegun's clock here,
        # so third-party wall-clock reads inside the task see virtual time.
        self.on_resume = on_resume
        # Called inside the task just before it suspends: a foreign bot's spin watchdog ends the
        # stretch it measures here, while the task's own frames are still the ones running.
        self.on_suspend: Callable[[], None] | None = None

    # ---- called from inside a task -----------------------------------------------------------

    def wait(self, event: simpy.Event) -> Any:
        """Suspend the calling task until `event` fires; return its value (or raise its error)."""
        task = self._current
        if task is None:
            raise RuntimeError("Kernel.wait called outside a simulated task")
        if self.on_suspend is not None:
            self.on_suspend()
        outcome = task.glet.parent.switch(event)
        return outcome

    def sleep(self, seconds: float) -> None:
        self.wait(Timeout(self.env, max(0.0, seconds)))

    @property
    def in_task(self) -> bool:
        return self._current is not None

    def die_here(self) -> None:
        """Stop the calling task where it stands (a crash at a code point): it is marked killed,
        so kill() leaves it alone, and unwinds at once, before its next statement."""
        task = self._current
        if task is None:
            raise RuntimeError("Kernel.die_here called outside a simulated task")
        task.killed = True
        raise TaskKilled()

    # ---- called by the harness ---------------------------------------------------------------

    def spawn(self, name: str, fn: Callable[[], None], delay: float = 0.0) -> Task:
        task = Task(name, greenlet.greenlet(fn))
        task.wake = partial(self._wake, task)
        # started by a process of its own, so at the very moment a process would start
        self.env.process(self._start(task, delay))
        self.tasks.append(task)
        return task

    def kill(self, task: Task) -> None:
        """Stop a task where it stands (a crash). Its in-flight requests still reach the venue."""
        if task.finished or task.killed:
            return
        if task is self._current:
            raise RuntimeError("a task cannot kill itself (Kernel.die_here)")
        task.killed = True
        self.soon(lambda event: self._unwind(task))  # where simpy would interrupt a process

    def soon(self, callback: Callable[[simpy.Event], Any]) -> None:
        """Call `callback` at this instant, where simpy would start a process: ahead of the
        instant's ordinary events, after the urgent ones scheduled before it."""
        _Soon(self.env, callback)

    def close(self) -> None:
        """Release every task when the run ends: unwind the greenlets still suspended.

        A greenlet suspended in a sleep or an exchange call holds its frames (the bot, its ledger,
        the run) and, being alive, is never collected, not even as part of a garbage cycle: each
        finished run would stay in memory for the life of the process (an exploration's thousands
        of runs). Unwinding throws TaskKilled where each task stands; the bot's code holds no lock
        and writes nothing across a suspension, so this changes none of the run's outputs.
        """
        for task in self.tasks:
            glet = task.glet
            if glet and not glet.dead:
                previous, self._current = self._current, task
                try:
                    glet.throw(TaskKilled())
                except TaskKilled:
                    pass
                finally:
                    self._current = previous
            task.finished = True
            task.waiting = task.wake = None
        self.on_resume = None

    def _switch(self, task: Task, value: Any = None, throw: BaseException | None = None) -> Any:
        previous, self._current = self._current, task
        if self.on_resume is not None:
            self.on_resume(self.env.now)
        try:
            if throw is not None:
                return task.glet.throw(throw)
            if not task.glet:  # not started yet: the first switch would pass `value` as an argument
                # a task spawned from inside another (a foreign bot's thread) must suspend to the
                # simulation, not to the task that spawned it
                task.glet.parent = greenlet.getcurrent()
                return task.glet.switch()
            return task.glet.switch(value)
        finally:
            self._current = previous

    def _start(self, task: Task, delay: float) -> Any:
        if delay:
            yield Timeout(self.env, delay)
        if not task.killed:
            self._run(task, None, None)
        task.finished = task.finished or task.killed

    def _wake(self, task: Task, event: simpy.Event) -> None:
        task.waiting = None
        if event._ok:
            self._run(task, event._value, None)
        else:
            self._run(task, *_outcome(event))

    def _run(self, task: Task, value: Any, throw: BaseException | None) -> None:
        """Run the task until it waits for an event that has not fired, or ends."""
        while True:
            try:
                event = self._switch(task, value, throw)
            except TaskKilled:
                task.finished = True
                return
            except Exception as exc:  # a bug in the bot: the no-crash invariant reports it
                task.error = exc
                task.error_text = f"{type(exc).__name__}: {exc}"
                task.finished = True
                return
            if task.glet.dead:
                task.finished = True
                return
            callbacks = event.callbacks
            if callbacks is not None:  # not processed yet: resume the task when it is
                task.waiting = event
                callbacks.append(task.wake)
                return
            value, throw = _outcome(event)  # processed already: go on at once, as a process does

    def _unwind(self, task: Task) -> None:
        """A killed task unwinds where it lies suspended, so it cannot run again."""
        if task.finished:
            return
        if task.waiting is not None and task.wake is not None:
            task.waiting.callbacks.remove(task.wake)
            task.waiting = None
        if task.glet:
            try:
                self._switch(task, throw=TaskKilled())
            except TaskKilled:
                pass
        task.finished = True


class SimClock:
    """core's Clock port on virtual time."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self._env = kernel.env  # read at every clock read of the bot (its ledger, its audit lines)

    def now(self) -> float:
        return float(self._env.now)

    def sleep(self, seconds: float) -> None:
        self.kernel.sleep(seconds)


class ManualClock:
    """Time moves only when someone sleeps or advances it."""

    def __init__(self, start: float = 1_764_028_800.0):
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    advance = sleep
