"""Parallel sweeps: independent runs spread over worker processes (sim.runner.pool), merged in a
fixed order.

`clobsim run --workers N` writes the same run folders and prints the same table as a serial
run, and `clobsim explore --workers N` runs the same sub-searches (sim.explore) and reports the
same finding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from clobsim.sim.runner import collector, wallclock
from clobsim.sim.runner.pool import WorkerPool, map_ordered

# ---- clobsim run ------------------------------------------------------------------------------


def _execute(job: tuple) -> dict:
    from clobsim.sim.tools.runs import execute  # noqa: PLC0415 - the CLI's own per-scenario step

    scenario, seed, mode, bot, out, protocol, log_level = job
    return execute(scenario, seed=seed, mode=mode, bot=bot, out=out, protocol=protocol, log_level=log_level)[1]


def run_records(
    scenarios: list,
    *,
    seed: int | None,
    mode: str,
    bot: str,
    out: str,
    workers: int = 1,
    protocol: str | None = None,
    log_level: int = logging.INFO,
    done: Callable[[Any], None] | None = None,
) -> list[dict]:
    """Run each scenario into out/<name>/ (sim.tools.runs.execute) and return the result records, in
    scenario order. Each run writes only its own folder, so workers never share a file. done(record)
    is called as each scenario finishes (the progress display)."""
    jobs = [(s, seed, mode, bot, out, protocol, log_level) for s in scenarios]
    if workers > 1:
        return map_ordered(_execute, jobs, workers, done)
    import clobsim.sim.tools.runs  # noqa: F401, PLC0415 - imported before the session (sim.runner.wallclock)

    records = []
    with wallclock.session(), collector.quiet():
        for job in jobs:
            records.append(_execute(job))
            if done is not None:
                done(records[-1])
    return records


# ---- the benchmark ----------------------------------------------------------------------------


def _summary(job: tuple) -> tuple:
    from clobsim.sim.checks import run  # noqa: PLC0415

    scenario, seed = job
    result = run(scenario, seed=seed)
    return (result.scenario.name, result.seed, result.passed, len(result.events), len(result.trace))


def run_summaries(jobs: list[tuple], workers: int = 1, pool: WorkerPool | None = None) -> list[tuple]:
    """(scenario, seed) runs without files; a small summary of each (sim.bench). On `pool`, a warm
    pool the caller started, when given."""
    if pool is not None:
        return pool.map(_summary, jobs)
    if workers > 1:
        return map_ordered(_summary, jobs, workers)
    import clobsim.sim.checks  # noqa: F401, PLC0415 - imported before the session (sim.runner.wallclock)

    with wallclock.session(), collector.quiet():
        return [_summary(job) for job in jobs]
