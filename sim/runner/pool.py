"""Worker processes for independent runs: fresh processes, results in job order.

A run is a function of its inputs (scenario, seed, mode, bot, code version), never of the
process it runs in, so N workers give the results of one. Workers are fresh processes from the
"forkserver" context (spawn where there is none): never a fork of the caller, whose greenlets,
freezegun patches and logging handlers must not leak into a run. The fork server imports the
simulator once (`PRELOAD`), so each worker starts in milliseconds rather than re-importing
py-clob-client. Every job carries the caller's working directory (relative scenario paths and
run folders mean the same in the worker).

`workers=1` runs the jobs one after another in the calling process: the serial reference.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

PRELOAD = [
    "sim.runner.harness",
    "sim.checks",
    "sim.tools.runs",
    "sim.explore.search",
    "sim.bots",
    "py_clob_client.client",
]


def context():
    """A start method that gives fresh processes (never "fork")."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def _call(cwd: str, fn: Callable[[Any], Any], job: Any) -> Any:
    if os.getcwd() != cwd:
        os.chdir(cwd)
    return fn(job)


def pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=context())


def map_ordered(
    fn: Callable[[Any], Any], jobs: Iterable[Any], workers: int = 1, done: Callable[[Any], None] | None = None
) -> list:
    """[fn(job) for job in jobs], on `workers` processes; results in job order.

    fn must be importable by name (a module-level function) and jobs and results picklable.
    An exception in a job is raised here, as in a serial loop. done(result), if given, is called
    in this process as each job finishes (in finishing order: for a progress display only).
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
    cwd = os.getcwd()
    executor = pool(min(workers, len(jobs)))
    try:
        futures = [executor.submit(_call, cwd, fn, job) for job in jobs]
        if done is not None:
            for future in as_completed(futures):
                done(future.result())
        return [future.result() for future in futures]
    except BaseException:
        executor.shutdown(wait=True, cancel_futures=True)  # a failed job: the rest are not started
        raise
    finally:
        executor.shutdown(wait=True)
