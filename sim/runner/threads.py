"""The stand-ins a foreign bot's code gets for threading's primitives, time.sleep, queue's
clock and asyncio's loops while it runs (installed by sim.runner.coop.Cooperative, which is the
scheduler they block on).

Each blocking call waits for a simpy event through the scheduler: a lock is handed to its waiters
first come, first served; an Event, a Condition and a Semaphore wake their waiters in the order
they came; a Thread is a kernel task. Outside the run's OS thread, or outside the bot's tasks,
they behave as the real ones would without contention and raise where they would have to block
(a factory gives threading's own code and other threads the real primitive).
"""

from __future__ import annotations

import _thread
import asyncio
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import simpy

# Real functions and classes, kept in a tuple where freezegun's module scan does not swap them.
_REAL = (time.perf_counter, threading.Thread, threading.Event, time.sleep)
_REAL_CURRENT, _REAL_MAIN = threading.current_thread, threading.main_thread


class Unsupported(RuntimeError):
    """An API a foreign bot may not use on virtual time."""


# The run's scheduler (sim.runner.coop.Cooperative) while a foreign bot runs: env, kernel,
# numbers, thread, threads, main, active(), block(event, timeout), start(thread), stop(message).
_current: Any = None


def activate(scheduler: Any) -> Any:
    """Make `scheduler` the one the stand-ins block on (None: none); returns the previous one."""
    global _current
    previous, _current = _current, scheduler
    return previous


def _coop() -> Any:
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


def _blocking(what: str) -> Any:
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
