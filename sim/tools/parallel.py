"""Parallel sweeps: independent runs spread over worker processes, merged in a fixed order.

A run is a function of its inputs (scenario, seed, mode, bot, code version), never of the
process it runs in, so N workers give the results of one: `clobsim run --workers N` writes the
same run folders and prints the same table as a serial run, and `clobsim explore --workers N`
runs the same sub-searches (sim.explore) and reports the same finding.

Workers are fresh processes from the "forkserver" context (spawn where there is none): never a
fork of the caller, whose greenlets, freezegun patches and logging handlers must not leak into a
run. The fork server imports the simulator once (`PRELOAD`), so each worker starts in
milliseconds rather than re-importing py-clob-client. Every job carries the caller's working
directory (relative scenario paths and run folders mean the same in the worker) and results
come back in job order, whatever order the workers finish in.

`workers=1` runs the jobs one after another in the calling process: the serial reference.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable

PRELOAD = ["sim.runner.harness", "sim.checks", "sim.tools.runs", "sim.explore.search", "sim.bots", "py_clob_client.client"]


def default_workers() -> int:
    return os.cpu_count() or 1


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


def map_ordered(fn: Callable[[Any], Any], jobs: Iterable[Any], workers: int = 1) -> list:
    """[fn(job) for job in jobs], on `workers` processes; results in job order.

    fn must be importable by name (a module-level function) and jobs and results picklable.
    An exception in a job is raised here, as in a serial loop.
    """
    jobs = list(jobs)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers == 1 or len(jobs) <= 1:
        return [fn(job) for job in jobs]
    cwd = os.getcwd()
    executor = pool(min(workers, len(jobs)))
    try:
        futures = [executor.submit(_call, cwd, fn, job) for job in jobs]
        return [future.result() for future in futures]
    except BaseException:
        executor.shutdown(wait=True, cancel_futures=True)  # a failed job: the rest are not started
        raise
    finally:
        executor.shutdown(wait=True)


# ---- clobsim run ------------------------------------------------------------------------------

def _execute(job: tuple) -> dict:
    from sim.tools.runs import execute  # noqa: PLC0415 - the CLI's own per-scenario step

    scenario, seed, mode, bot, out = job
    return execute(scenario, seed=seed, mode=mode, bot=bot, out=out)[1]


def run_records(scenarios: list, *, seed: int | None, mode: str, bot: str, out: str,
                workers: int = 1) -> list[dict]:
    """Run each scenario into out/<name>/ (sim.tools.runs.execute) and return the result records, in
    scenario order. Each run writes only its own folder, so workers never share a file."""
    return map_ordered(_execute, [(s, seed, mode, bot, out) for s in scenarios], workers)


# ---- the benchmark ----------------------------------------------------------------------------

def _summary(job: tuple) -> tuple:
    from sim.checks import run  # noqa: PLC0415

    scenario, seed = job
    result = run(scenario, seed=seed)
    return (result.scenario.name, result.seed, result.passed, len(result.events), len(result.trace))


def run_summaries(jobs: list[tuple], workers: int) -> list[tuple]:
    """(scenario, seed) runs without files; a small summary of each (sim.bench)."""
    return map_ordered(_summary, jobs, workers)
