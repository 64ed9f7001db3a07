"""A bot that uses every threading primitive a live bot does; it logs what happened and when
(seconds since it started, on the simulated clock)."""

import logging
import queue
import threading
import time
from datetime import datetime

log = logging.getLogger("threads_bot")


def main() -> None:
    start = time.time()

    def say(text: str) -> None:
        log.info("t=%.2f %s: %s", time.time() - start, threading.current_thread().name, text)

    lock = threading.Lock()
    ready = threading.Event()
    jobs: queue.Queue = queue.Queue()
    cond = threading.Condition()
    gate = threading.Semaphore(1)
    done: list[str] = []

    def worker() -> None:
        with lock:  # held across a sleep: main must wait for it
            say("holds the lock")
            time.sleep(2.0)
        ready.set()
        for _ in range(2):
            say(f"got job {jobs.get(timeout=10)}")
        with cond:
            done.append("worker")
            cond.notify_all()

    thread = threading.Thread(target=worker, name="worker")
    thread.start()
    time.sleep(0.5)
    with lock:
        say("took the lock after the worker")
    say(f"ready={ready.wait(timeout=5)}")
    jobs.put("a")
    time.sleep(1.0)
    jobs.put("b")
    with cond:
        cond.wait_for(lambda: done, timeout=30)
    thread.join()
    say(f"worker alive={thread.is_alive()}")
    try:
        jobs.get(timeout=3)
    except queue.Empty:
        say("queue empty after 3s")
    timer = threading.Timer(4.0, lambda: say("timer fired"))
    timer.start()
    cancelled = threading.Timer(1.0, lambda: say("cancelled timer fired"))
    cancelled.start()
    cancelled.cancel()
    with gate:
        say(f"semaphore busy={not gate.acquire(blocking=False)}")
    say(f"event wait timed out={not threading.Event().wait(timeout=2.5)}")
    timer.join()
    say(f"monotonic advanced {time.monotonic() - start:.2f}s, perf {time.perf_counter() > 0}")
    say(f"date {datetime.now().isoformat(timespec='seconds')}")
