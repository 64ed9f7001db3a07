"""A foreign bot's threads, sleeps, locks and queues as cooperative tasks on virtual time.

A user's bot is written for real threads: it starts a Thread or a Timer, sleeps, takes locks,
waits on Events and Conditions, and hands work over queue.Queue with timeouts. While it runs,
`Cooperative.installed()` puts stand-ins for those names into `threading`, `time` and `queue`:
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
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import simpy

from sim.runner.kernel import Kernel, Task, TaskKilled

# Real clocks and threads, kept in a tuple where freezegun's module scan does not swap them.
_REAL = (time.perf_counter, threading.Thread, threading.Event, time.sleep)
SPIN_LIMIT = 5.0  # wall seconds a task may run without blocking before the bot is stopped
_WATCH_EVERY = 0.02
MIN_WAIT = 1e-6  # the shortest timed wait, in virtual seconds


class BotStopped(BaseException):
    """Raised inside a bot task to stop it (it spun too long): a BaseException, so a bot's
    `except Exception` cannot swallow it."""


class Unsupported(RuntimeError):
    """An API a foreign bot may not use on virtual time."""


_current: Cooperative | None = None


def _coop() -> Cooperative | None:
    """The run's scheduler when called from inside one of its tasks, else None."""
    coop = _current
    if coop is not None and coop.active():
        return coop
    return None


# ---- primitives ----------------------------------------------------------------------------


class Lock:
    """threading.Lock: handed to waiters first come, first served."""

    def __init__(self) -> None:
        self._locked = False
        self._owner: Any = None
        self._waiters: deque[simpy.Event] = deque()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = _me()
        if not self._locked:
            self._locked, self._owner = True, me
            return True
        if not blocking or timeout == 0:
            return False
        coop = _blocking("acquire a lock held by another thread")
        event = coop.env.event()
        event.owner = me  # type: ignore[attr-defined]
        self._waiters.append(event)
        if coop.block(event, None if timeout is None or timeout < 0 else timeout):
            return True  # release() handed the lock over
        self._waiters.remove(event)
        return False

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("release unlocked lock")
        if self._waiters:
            event = self._waiters.popleft()
            self._owner = event.owner  # type: ignore[attr-defined]
            event.succeed()
        else:
            self._locked, self._owner = False, None

    def locked(self) -> bool:
        return self._locked

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _is_owned(self) -> bool:
        return self._locked and self._owner is _me()

    def _release_save(self) -> Any:
        self.release()
        return None

    def _acquire_restore(self, state: Any) -> None:
        self.acquire()


class RLock(Lock):
    """threading.RLock: the owner may take it again; released when the count drops to zero."""

    def __init__(self) -> None:
        super().__init__()
        self._count = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._locked and self._owner is _me():
            self._count += 1
            return True
        got = super().acquire(blocking, timeout)
        if got:
            self._count = 1
        return got

    __enter__ = acquire

    def release(self) -> None:
        if not self._locked or self._owner is not _me():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            super().release()
            if self._locked:  # handed over: the new owner holds it once
                self._count = 1

    def _release_save(self) -> Any:
        count, self._count = self._count, 1
        self.release()
        return count

    def _acquire_restore(self, state: Any) -> None:
        self.acquire()
        self._count = state


class Event:
    def __init__(self) -> None:
        self._flag = False
        self._waiters: list[simpy.Event] = []

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set  # noqa: N815 - threading's old name

    def set(self) -> None:
        self._flag = True
        waiters, self._waiters = self._waiters, []
        for event in waiters:
            if not event.triggered:
                event.succeed()

    def clear(self) -> None:
        self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        if self._flag:
            return True
        coop = _blocking("wait for an Event")
        event = coop.env.event()
        self._waiters.append(event)
        coop.block(event, timeout)
        return self._flag


class Condition:
    def __init__(self, lock: Any = None) -> None:
        self._lock = lock if lock is not None else RLock()
        self.acquire, self.release = self._lock.acquire, self._lock.release
        self._waiters: deque[simpy.Event] = deque()

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(*exc)

    def wait(self, timeout: float | None = None) -> bool:
        coop = _blocking("wait on a Condition")
        event = coop.env.event()
        self._waiters.append(event)
        state = self._lock._release_save()
        try:
            notified = coop.block(event, timeout)
        finally:
            self._lock._acquire_restore(state)
        if not notified and event in self._waiters:
            self._waiters.remove(event)
        return notified

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        coop = _blocking("wait on a Condition")
        end = None if timeout is None else coop.env.now + timeout
        result = predicate()
        while not result:
            left = None if end is None else end - coop.env.now
            if left is not None and left <= 0:
                break
            self.wait(left)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        for _ in range(min(n, len(self._waiters))):
            self._waiters.popleft().succeed()

    def notify_all(self) -> None:
        self.notify(len(self._waiters))

    notifyAll = notify_all  # noqa: N815 - threading's old name


class Semaphore:
    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._value = value
        self._waiters: deque[simpy.Event] = deque()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if self._value > 0:
            self._value -= 1
            return True
        if not blocking:
            return False
        coop = _blocking("acquire a Semaphore")
        event = coop.env.event()
        self._waiters.append(event)
        if coop.block(event, timeout):
            return True  # release() handed its unit over
        self._waiters.remove(event)
        return False

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self, n: int = 1) -> None:
        for _ in range(n):
            if self._waiters:
                self._waiters.popleft().succeed()
            else:
                self._value += 1


class BoundedSemaphore(Semaphore):
    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._initial = value

    def release(self, n: int = 1) -> None:
        if self._value + n > self._initial:
            raise ValueError("Semaphore released too many times")
        super().release(n)


class Thread:
    """threading.Thread as a kernel task. Names and idents are numbered per run."""

    def __init__(
        self,
        group: None = None,
        target: Callable[..., Any] | None = None,
        name: str | None = None,
        args: tuple = (),
        kwargs: dict | None = None,
        *,
        daemon: bool | None = None,
    ) -> None:
        coop = _current
        number = next(coop.numbers) if coop is not None else 0
        self._target, self._args, self._kwargs = target, args, kwargs or {}
        self._name = name or f"Thread-{number}"
        self.ident: int | None = None
        self.native_id: int | None = None
        self._number = number
        self.daemon = bool(daemon)
        self._started = False
        self._done: simpy.Event | None = None

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    def getName(self) -> str:  # noqa: N802 - threading's old name
        return self._name

    def setName(self, name: str) -> None:  # noqa: N802
        self.name = name

    def isDaemon(self) -> bool:  # noqa: N802
        return self.daemon

    def setDaemon(self, daemonic: bool) -> None:  # noqa: N802
        self.daemon = daemonic

    def start(self) -> None:
        if self._started:
            raise RuntimeError("threads can only be started once")
        coop = _current
        if coop is None:
            raise RuntimeError("a simulated thread started outside its run")
        self._started = True
        self.ident = self.native_id = 1000 + self._number
        coop.start(self)

    def run(self) -> None:
        if self._target is not None:
            self._target(*self._args, **self._kwargs)

    def join(self, timeout: float | None = None) -> None:
        if not self._started:
            raise RuntimeError("cannot join thread before it is started")
        if self is current_thread():
            raise RuntimeError("cannot join current thread")
        if self._done is None or self._done.triggered:
            return
        _blocking("join a thread").block(self._done, timeout)

    def is_alive(self) -> bool:
        return self._started and self._done is not None and not self._done.triggered

    def __repr__(self) -> str:
        return f"<Thread({self._name}, {'started' if self._started else 'initial'})>"


class Timer(Thread):
    def __init__(
        self, interval: float, function: Callable[..., Any], args: tuple | None = None, kwargs: dict | None = None
    ) -> None:
        super().__init__()
        self.interval, self.function = interval, function
        self.args, self.kwargs = args or (), kwargs or {}
        self.finished = Event()

    def cancel(self) -> None:
        self.finished.set()

    def run(self) -> None:
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


class SimpleQueue(queue.Queue):
    """queue.SimpleQueue's interface on queue.Queue (the real one blocks in C)."""

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)

    def put_nowait(self, item: Any) -> None:
        super().put(item, False)


def _in_run() -> bool:
    coop = _current
    return coop is not None and _thread.get_ident() == coop.thread


def _either(ours: type, real: Any) -> Callable[..., Any]:
    """threading's own code (Thread.__init__ builds Events and Conditions) and other threads of
    the process get the real primitive; code on the run's thread gets ours."""

    def make(*args: Any, **kwargs: Any) -> Any:
        return ours(*args, **kwargs) if _in_run() else real(*args, **kwargs)

    make.__name__ = make.__qualname__ = ours.__name__
    return make


def _me() -> Any:
    coop = _coop()
    return coop.kernel._current if coop is not None else None


def _blocking(what: str) -> Cooperative:
    coop = _coop()
    if coop is None:
        raise RuntimeError(f"cannot {what} outside the bot's simulated threads")
    return coop


def current_thread() -> Any:
    coop = _coop()
    if coop is None:
        return _REAL_CURRENT()
    return coop.threads.get(id(coop.kernel._current), coop.main)


def main_thread() -> Any:
    coop = _coop()
    return coop.main if coop is not None else _REAL_MAIN()


def get_ident() -> int:
    coop = _coop()
    if coop is None:  # threading's own functions call it too: the real one, never current_thread()
        return _thread.get_ident()
    thread = coop.threads.get(id(coop.kernel._current), coop.main)
    return thread.ident or _thread.get_ident()


_REAL_CURRENT, _REAL_MAIN = threading.current_thread, threading.main_thread


def sleep(seconds: float) -> None:
    coop = _coop()
    if coop is None:
        return _REAL[3](seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    coop.kernel.sleep(seconds)


def _refuse(name: str) -> Callable[..., Any]:
    real = getattr(asyncio, name)

    def refused(*args: Any, **kwargs: Any) -> Any:
        coop = _coop()
        if coop is None:
            return real(*args, **kwargs)
        if args and asyncio.iscoroutine(args[0]):
            args[0].close()  # never awaited: say so once, here, not as a warning later
        message = (
            f"asyncio.{name}: a foreign bot's asyncio loop is not supported on virtual time "
            "(run threads, time.sleep and the blocking clients; docs/own-bot.md)"
        )
        coop.stop(message)
        raise Unsupported(message)

    return refused


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
        global _current
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
        previous, _current = _current, self
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
            _current = previous
            for module, patch in saved.items():
                for name, value in patch.items():
                    setattr(module, name, value)


__all__ = ["BotStopped", "Cooperative", "TaskKilled", "Unsupported"]
