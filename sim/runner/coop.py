"""A foreign bot's threads, sleeps, locks and queues as cooperative tasks on virtual time.

A user's bot is written for real threads: it starts a Thread or a Timer, sleeps, takes locks,
waits on Events and Conditions, and hands work over queue.Queue with timeouts. While it runs,
`Cooperative.installed()` puts stand-ins for those names (sim.runner.threads) into `threading`,
`time`, `queue` and `asyncio`:
a Thread is a kernel task (a greenlet), a sleep or a wait is a simpy event the task waits for,
and a lock hands itself to its waiters in the order they came (FIFO), so a run is deterministic
and its threads interleave only where the bot's code blocks. Clocks (time.time, monotonic,
perf_counter, datetime.now) are freezegun's, moved to the virtual time at every task resume by
the harness; queue.Queue's own deadline clock is the virtual one here.

Why hand-written: gevent (the well-kept library that makes threading cooperative) schedules its
greenlets on a real-time event loop (libev/libuv); a run needs them on simpy's virtual clock,
next to the venue's own events. Only the primitives' blocking paths are ours; queue.Queue stays
the standard library's (it builds its Condition from `threading` when created: ours, in a run).

The stand-ins act only in the run's OS thread and inside a kernel task; anywhere else (the
simulator's own code between tasks, another thread of the process) they behave as the real
ones would without contention, and raise where they would have to block.

A task that runs too long without blocking (a loop that never sleeps) cannot be preempted by a
cooperative scheduler: a watchdog thread measures each stretch a task runs in wall time and,
past `spin_limit` seconds, raises BotStopped inside it (CPython's PyThreadState_SetAsyncExc,
delivered between two bytecodes even in `while True: pass`). The run records one message and
stops the bot's tasks; the simulation runs on to its horizon.
"""

from __future__ import annotations

import _thread
import asyncio
import ctypes
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import simpy

from clobsim.sim.runner import threads as standins
from clobsim.sim.runner.kernel import Kernel, Task, TaskKilled
from clobsim.sim.runner.threads import (
    _REAL,
    BoundedSemaphore,
    Condition,
    Event,
    Lock,
    RLock,
    Semaphore,
    SimpleQueue,
    Thread,
    Timer,
    Unsupported,
    _either,
    _refuse,
    current_thread,
    get_ident,
    main_thread,
    sleep,
)

SPIN_LIMIT = 5.0  # wall seconds a task may run without blocking before the bot is stopped
_WATCH_EVERY = 0.02
MIN_WAIT = 1e-6  # the shortest timed wait, in virtual seconds


class BotStopped(BaseException):
    """Raised inside a bot task to stop it (it spun too long): a BaseException, so a bot's
    `except Exception` cannot swallow it."""


# ---- the scheduler -------------------------------------------------------------------------


class Cooperative:
    """One run's threads on its kernel; `installed()` puts the stand-ins in place for the run."""

    def __init__(self, kernel: Kernel, spin_limit: float = SPIN_LIMIT):
        self.kernel, self.env = kernel, kernel.env
        self.spin_limit = spin_limit
        self.numbers = itertools.count(1)
        self.thread = _thread.get_ident()
        self.tasks: list[Task] = []
        self.threads: dict[int, Thread] = {}  # id(task) -> its Thread
        self.main = Thread(name="MainThread")
        self.main._started = True
        self.main.ident = self.main.native_id = 1000
        self.stopped: list[str] = []  # why the bot was stopped (spinning, an unsupported API)
        self._running = False
        self._guard = _thread.allocate_lock()
        self._segment = 0
        self._started_at = 0.0
        self._injected = False
        self._quit = _REAL[2]()
        self._task_ids: set[int] = set()

    def active(self) -> bool:
        return _thread.get_ident() == self.thread and id(self.kernel._current) in self._task_ids

    # ---- blocking ----------------------------------------------------------------------------

    def block(self, event: simpy.Event, timeout: float | None) -> bool:
        """Wait for `event` at most `timeout` virtual seconds; whether it fired."""
        if timeout is None:
            self.kernel.wait(event)
            return True
        if timeout <= 0:
            return bool(event.triggered)
        # At epoch-sized times a float's step is ~2e-7 s: a deadline loop (queue.Queue.get) that
        # waits out a remainder below that would wake at the same instant forever.
        timeout = max(timeout, MIN_WAIT)
        self.kernel.wait(self.env.any_of([event, self.env.timeout(timeout)]))
        return bool(event.triggered)

    # ---- tasks -------------------------------------------------------------------------------

    def spawn_main(self, name: str, fn: Callable[[], None]) -> Task:
        task = self._spawn(name, fn, self.main)
        return task

    def start(self, thread: Thread) -> None:
        self._spawn(thread.name, thread.run, thread)

    def _spawn(self, name: str, fn: Callable[[], None], thread: Thread) -> Task:
        thread._done = self.env.event()

        def body() -> None:
            try:
                fn()
            except SystemExit as exc:  # sys.exit() in a bot ends its program, never the simulator
                if exc.code not in (0, None):
                    raise RuntimeError(f"the bot exited with status {exc.code!r}") from None
            except BotStopped:
                self.stop_others()
            finally:
                try:
                    self._segment_ends()
                except BotStopped:
                    self.stop_others()
                if thread._done is not None and not thread._done.triggered:
                    thread._done.succeed()

        task = self.kernel.spawn(name, body)
        self.tasks.append(task)
        self._task_ids.add(id(task))
        self.threads[id(task)] = thread
        return task

    def stop(self, message: str) -> None:
        """Stop every task of the bot (the one calling this unwinds on its own)."""
        if message not in self.stopped:
            self.stopped.append(message)
        self.stop_others()

    def stop_others(self) -> None:
        for task in self.tasks:
            if task is not self.kernel._current:
                self.kernel.kill(task)

    def kill_all(self) -> None:
        for task in self.tasks:
            self.kernel.kill(task)

    # ---- the spin watchdog -----------------------------------------------------------------

    def _segment_begins(self, now: float) -> None:
        with self._guard:
            self._segment += 1
            self._running = True
            self._injected = False
            self._started_at = _REAL[0]()

    def _segment_ends(self) -> None:
        with self._guard:
            self._running = False
            injected, self._injected = self._injected, False
        if injected:
            # the watchdog's exception may still be pending: take it back, raise it here, in the task
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread), None)
            raise BotStopped()

    def _watch(self) -> None:
        while not self._quit.wait(_WATCH_EVERY):
            with self._guard:
                if not self._running or self._injected:
                    continue
                if _REAL[0]() - self._started_at < self.spin_limit:
                    continue
                self._injected = True
                task = self.kernel._current
                name = task.name if task is not None else "?"
                message = (
                    f"the bot's thread {name!r} ran {self.spin_limit:g} s without sleeping or waiting "
                    f"(a loop that never yields?); the bot was stopped at t={self.env.now:.3f}"
                )
                if message not in self.stopped:
                    self.stopped.append(message)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread), ctypes.py_object(BotStopped))

    # ---- installation ----------------------------------------------------------------------

    @contextmanager
    def installed(self) -> Iterator[None]:
        names: dict[Any, dict[str, Any]] = {
            threading: {
                "Thread": Thread,
                "Timer": Timer,
                "Lock": _either(Lock, threading.Lock),
                "RLock": _either(RLock, threading.RLock),
                "Event": _either(Event, threading.Event),
                "Condition": _either(Condition, threading.Condition),
                "Semaphore": _either(Semaphore, threading.Semaphore),
                "BoundedSemaphore": _either(BoundedSemaphore, threading.BoundedSemaphore),
                "current_thread": current_thread,
                "currentThread": current_thread,
                "main_thread": main_thread,
                "get_ident": get_ident,
            },
            time: {"sleep": sleep},
            queue: {"SimpleQueue": SimpleQueue, "time": lambda: float(self.env.now)},
            asyncio: {name: _refuse(name) for name in ("run", "new_event_loop", "get_event_loop", "Runner")},
        }
        watchdog = _REAL[1](target=self._watch, name="clobsim-spin-watchdog", daemon=True)
        watchdog.start()  # before the patches: a real thread, built from threading's real parts
        saved = {module: {name: getattr(module, name) for name in patch} for module, patch in names.items()}
        previous = standins.activate(self)
        for module, patch in names.items():
            for name, value in patch.items():
                setattr(module, name, value)
        kernel_hooks = self.kernel.on_resume, self.kernel.on_suspend
        resume = kernel_hooks[0]

        def on_resume(now: float) -> None:
            if resume is not None:
                resume(now)
            if id(self.kernel._current) in self._task_ids:
                self._segment_begins(now)

        self.kernel.on_resume = on_resume
        self.kernel.on_suspend = self._segment_ends
        try:
            yield
        finally:
            self._quit.set()
            watchdog.join()
            self.kernel.on_resume, self.kernel.on_suspend = kernel_hooks
            standins.activate(previous)
            for module, patch in saved.items():
                for name, value in patch.items():
                    setattr(module, name, value)


__all__ = ["BotStopped", "Cooperative", "TaskKilled", "Unsupported"]
