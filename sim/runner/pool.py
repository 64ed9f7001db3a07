"""Worker processes for independent runs: fresh processes, results in job order.

A run is a function of its inputs (scenario, seed, mode, bot, code version), never of the
process it runs in, so N workers give the results of one. Workers are fresh processes from the
"forkserver" context (spawn where there is none): never a fork of the caller, whose greenlets,
freezegun patches and logging handlers must not leak into a run. The fork server imports the
simulator once (`PRELOAD`), so each worker starts in milliseconds rather than re-importing
py-clob-client. Every job carries the caller's working directory (relative scenario paths and
run folders mean the same in the worker).

A worker is warm before its first job (`_warm`): it holds a wall-clock session for its whole
life (sim.runner.wallclock: freezegun's module scan once per process, not once per run), keeps
the garbage collector quiet for it (sim.runner.collector), and has made one short run, which
pays the one-time costs of a process (lazy imports, first SQLite database, the signing key's
address, caches). Jobs go out in chunks, a few per worker, so a window's ~0.1 s is not spent on
one round trip per job. `WorkerPool` keeps the warm workers for
many maps (bench, a caller with several batches); `map_ordered` starts one for a single map.

`workers=1` runs the jobs one after another in the calling process: the serial reference.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from clobsim.sim.runner import collector, wallclock

PRELOAD = [
    "clobsim.sim.runner.harness",
    "clobsim.sim.checks",
    "clobsim.sim.tools.runs",
    "clobsim.sim.explore.search",
    "clobsim.sim.bots",
    "py_clob_client.client",
    "py_clob_client_v2.client",
]
CHUNKS_PER_WORKER = 4  # enough chunks to balance uneven jobs, few enough to amortize a round trip


def context():
    """A start method that gives fresh processes (never "fork")."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


# a minute's window with one position: the first run of a process costs about three later ones
WARM_UP = {
    "name": "warm-up",
    "description": "a worker's first run, before its first job",
    "market": {"window_length": 60},
    "trades": [{"id": 1, "at": 10, "side": "UP", "price": 0.74, "size": 12, "confidence": 0.85}],
}


def _warm() -> None:
    """A new worker's set-up, before its first job (the pool's initializer)."""
    from clobsim.sim.runner.harness import run  # noqa: PLC0415 - preloaded by the fork server
    from clobsim.sim.runner.scenario import from_dict  # noqa: PLC0415

    wallclock.hold_for_process()
    run(from_dict(WARM_UP, "<worker warm-up>"))
    collector.hold_for_process()  # after the warm-up: its imports and caches are furniture too


def _call(cwd: str, fn: Callable[[Any], Any], job: Any) -> Any:
    if os.getcwd() != cwd:
        os.chdir(cwd)
    return fn(job)


def _call_chunk(cwd: str, fn: Callable[[Any], Any], chunk: list) -> list:
    return [_call(cwd, fn, job) for job in chunk]


def chunked(items: list, chunks: int) -> list[list]:
    """`items` in at most `chunks` consecutive slices of near-equal length (order kept)."""
    chunks = max(1, min(chunks, len(items)))
    size, extra = divmod(len(items), chunks)
    out, start = [], 0
    for i in range(chunks):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return [c for c in out if c]


class WorkerPool:
    """`workers` warm worker processes, kept for as many maps as the caller makes."""

    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=context(), initializer=_warm)

    def warm(self) -> None:
        """Start every worker and wait until each is warm (else the first map does it)."""
        for future in [self.executor.submit(os.getpid) for _ in range(self.workers)]:
            future.result()

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any], done: Callable[[Any], None] | None = None) -> list:
        """[fn(job) for job in jobs] on the workers, in chunks; results in job order. An exception
        in a job is raised here, as in a serial loop, and the jobs not started yet are dropped.
        done(result), if given, is called here for each result as its chunk finishes."""
        jobs = list(jobs)
        cwd = os.getcwd()
        futures = [
            self.executor.submit(_call_chunk, cwd, fn, chunk)
            for chunk in chunked(jobs, CHUNKS_PER_WORKER * self.workers)
        ]
        try:
            if done is not None:
                for future in as_completed(futures):
                    for result in future.result():
                        done(result)
            return [result for future in futures for result in future.result()]
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pool(workers: int) -> WorkerPool:
    return WorkerPool(workers)


def map_ordered(
    fn: Callable[[Any], Any], jobs: Iterable[Any], workers: int = 1, done: Callable[[Any], None] | None = None
) -> list:
    """[fn(job) for job in jobs], on `workers` processes; results in job order.

    fn must be importable by name (a module-level function) and jobs and results picklable.
    An exception in a job is raised here, as in a serial loop. Serially (workers=1, or a single
    job) the jobs run in this process. done(result), if given, is called in this process as each
    job finishes (in finishing order: for a progress display only).
    """
    jobs = list(jobs)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers == 1 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(fn(job))
            if done is not None:
                done(results[-1])
        return results
    with WorkerPool(min(workers, len(jobs))) as workers_pool:
        return workers_pool.map(fn, jobs, done)
