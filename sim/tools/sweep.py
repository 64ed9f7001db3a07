"""`clobsim sweep`: seeds x scenarios x bots, on a Dask distributed cluster or on this machine.

    clobsim sweep PATH... [--seeds N | --seed-range A:B] [--bots core,NAME...] [--mode fast|wire]
                          [--scheduler tcp://HOST:PORT | --workers N] [--out DIR]

Every case is one run (sim.checks.run, no files): a case is a function of (scenario, seed, mode,
bot, code), never of the process or machine it runs on, so a sweep's verdicts equal those of the
same cases run one after another (tests/test_sweep.py checks it on a Dask LocalCluster). Each
case comes back as a small record: its verdict, the failed checks, and digests of its audit log
and trace, which let a serial re-run prove byte-identity without moving whole traces around.

Where the cases run:
- `--scheduler tcp://HOST:PORT`: on the Dask distributed cluster behind that scheduler. Its
  workers need this project installed (the same code: the records carry no code, only names).
  Cases go out in chunks (a few per worker) so that the scheduler's per-task overhead stays small
  against the ~0.1 s of a run. A run owns its process's global state while it runs (freezegun's
  clock, the global `random` py-order-utils draws salts from, the run logger), so a worker
  process runs one case at a time: start workers with `--nthreads 1` (with more threads, cases in
  one process wait for each other, still correctly).
- no scheduler: `--workers N` worker processes of sim.runner.pool (the pool of `run --workers`),
  or this process alone (N = 1).

The results, in case order (scenario, then seed, then bot; independent of where cases ran): a
summary `sweep.json` and `report.md` in `--out`, and each failing case as a scenario file in
`--out/failing/` (the scenario with the case's seed; its description names the bot and the failed
checks) that `clobsim run FILE --bot BOT` reproduces.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import yaml

from clobsim.sim.explore.search import reproduce_hint
from clobsim.sim.runner import collector, wallclock
from clobsim.sim.runner.pool import chunked, map_ordered
from clobsim.sim.runner.scenario import Scenario
from clobsim.sim.tools.errors import UsageError
from clobsim.sim.tools.sweepfolder import FAILING, REPORT, SUMMARY

CONNECT_TIMEOUT = "5s"  # a wrong address is a user's mistake: say so soon
CHUNKS_PER_WORKER = 4  # enough chunks to balance uneven runs, few enough to amortize a task's overhead

# one run at a time per process: a run owns the process's global clock and random state
_ONE_RUN = threading.RLock()
# A Dask worker runs a case in a thread beside its event loop. A run freezes wall-clock time for
# the whole process (freezegun), so the loop's heartbeats and timeouts would stop with it and the
# worker would hang: these modules keep reading real time (they are never part of a run).
EVENT_LOOP_MODULES = ["asyncio", "tornado", "distributed", "dask", "concurrent.futures"]


@dataclass(frozen=True)
class Case:
    scenario: Scenario
    seed: int
    bot: str
    mode: str = "fast"

    @property
    def key(self) -> str:
        return f"{self.scenario.name} seed {self.seed} bot {self.bot}"


def cases(scenarios: Sequence[Scenario], seeds: Sequence[int], bots: Sequence[str], mode: str = "fast") -> list[Case]:
    """Every combination, in the sweep's fixed order: scenario, then seed, then bot."""
    return [Case(s, seed, bot, mode) for s in scenarios for seed in seeds for bot in bots]


def _keep_event_loops_on_real_time() -> None:
    import freezegun  # noqa: PLC0415

    freezegun.configure(extend_ignore_list=EVENT_LOOP_MODULES)  # before any freeze is made


def run_case(case: Case) -> dict:
    """One case, judged; the record the summary keeps."""
    from clobsim.sim.checks import run  # noqa: PLC0415 - the heavy part, imported where the case runs

    _keep_event_loops_on_real_time()
    with _ONE_RUN:
        result = run(case.scenario, seed=case.seed, mode=case.mode, bot=case.bot)
        audit, trace = result.audit_log(), result.trace_jsonl()
    return {
        "scenario": case.scenario.name,
        "file": case.scenario.source,
        "seed": case.seed,
        "bot": case.bot,
        "mode": case.mode,
        "verdict": "pass" if result.passed else "fail",
        "failed": list(dict.fromkeys(c.id for c in result.failures)),
        "audit_sha256": hashlib.sha256(audit.encode()).hexdigest(),
        "trace_sha256": hashlib.sha256(trace.encode()).hexdigest(),
        "evidence": [f"{c.id}: {c.message}" for c in result.failures],
    }


def run_chunk(chunk: list[Case]) -> list[dict]:
    """Cases one after another, in one wall-clock session (sim.runner.wallclock) held under the
    one-run lock: freezegun's clocks are one stack per process, shared by its threads."""
    import clobsim.sim.checks  # noqa: F401, PLC0415 - imported before the session (sim.runner.wallclock)

    _keep_event_loops_on_real_time()
    with _ONE_RUN, wallclock.session(), collector.quiet():
        return [run_case(case) for case in chunk]


def on_dask(
    every: list[Case],
    scheduler: str | object,
    progress: Callable[[str], None] | None = None,
    done: Callable[[list[dict]], None] | None = None,
) -> list[dict]:
    """The cases on a Dask distributed cluster (an address, or a distributed.Client); in order."""
    from distributed import Client  # noqa: PLC0415 - only sweeps on a cluster need it

    own = not isinstance(scheduler, Client)
    if isinstance(scheduler, Client):
        client = scheduler
    else:
        try:
            client = Client(str(scheduler), timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})") from None
    try:
        # chunking only: the results never depend on how many workers there are
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        chunks = chunked(every, CHUNKS_PER_WORKER * workers)
        if progress:
            progress(f"sweep: {len(every)} cases in {len(chunks)} chunks on {workers} Dask worker(s) at {scheduler}")
        # pure=False: each chunk is submitted once; Dask's content hashing would only cost time
        futures = client.map(run_chunk, chunks, pure=False)
        if done is not None:
            from distributed import as_completed  # noqa: PLC0415

            for future in as_completed(futures):
                done(future.result())
        return [record for chunk in client.gather(futures) for record in chunk]
    finally:
        if own:
            client.close()


def sweep(
    scenarios: Sequence[Scenario],
    *,
    seeds: Sequence[int],
    bots: Sequence[str] = ("core",),
    mode: str = "fast",
    scheduler: str | object | None = None,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
    done: Callable[[list[dict]], None] | None = None,
) -> dict:
    """Run every case (on the cluster when `scheduler` is given) and return the summary.
    done(records) is called as each chunk of cases finishes (the progress display)."""
    every = cases(scenarios, seeds, bots, mode)
    if scheduler is not None:
        where = f"dask {scheduler}" if isinstance(scheduler, str) else "dask"
        records = on_dask(every, scheduler, progress, done)
    else:
        chunks = chunked(every, CHUNKS_PER_WORKER * workers) if workers > 1 else [every]
        if progress:
            progress(f"sweep: {len(every)} cases on {workers} local process(es)")
        records = [r for chunk in map_ordered(run_chunk, chunks, workers, done) for r in chunk]
        where = f"local, {workers} process(es)"
    failed = [r for r in records if r["verdict"] == "fail"]
    by_bot: dict[str, dict[str, int]] = {}
    for r in records:
        counts = by_bot.setdefault(r["bot"], {"pass": 0, "fail": 0})
        counts[r["verdict"]] += 1
    return {
        "cases": len(records),
        "passed": len(records) - len(failed),
        "failed": len(failed),
        "scenarios": [s.name for s in scenarios],
        "seeds": list(seeds),
        "bots": list(bots),
        "mode": mode,
        "where": where,
        "by_bot": by_bot,
        "records": records,
    }


def verdicts(summary: dict) -> list[tuple]:
    """What must not depend on where a sweep ran: per case, its verdict, failures and digests."""
    return [
        (r["scenario"], r["seed"], r["bot"], r["verdict"], tuple(r["failed"]), r["audit_sha256"], r["trace_sha256"])
        for r in summary["records"]
    ]


# ---- the outputs ------------------------------------------------------------------------------


def write(summary: dict, scenarios: Sequence[Scenario], out: str) -> list[str]:
    """sweep.json, report.md and failing/<case>.yaml into `out`; the failing files' paths."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, SUMMARY), "w", encoding="utf-8") as handle:
        json.dump({k: v for k, v in summary.items() if k != "where"}, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    raw = {s.name: s.raw for s in scenarios}
    paths = [
        _write_failing(record, raw[record["scenario"]], os.path.join(out, FAILING)) for record in _failing(summary)
    ]
    with open(os.path.join(out, REPORT), "w", encoding="utf-8") as handle:
        handle.write(report(summary, paths))
    return paths


def _failing(summary: dict) -> list[dict]:
    return [r for r in summary["records"] if r["verdict"] == "fail"]


def _write_failing(record: dict, raw: dict, folder: str) -> str:
    data = dict(raw)
    name = f"{record['scenario']}-seed{record['seed']}-{record['bot']}"
    data["name"] = name
    data["seed"] = record["seed"]
    data["description"] = (
        f"Failed in `clobsim sweep` with --bot {record['bot']} ({record['mode']} mode): "
        f"{', '.join(record['failed'])}. From {record['file']}."
    )
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.yaml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"# reproduce: {reproduce_hint(path, record['bot'])} --mode {record['mode']}\n")
        yaml.safe_dump(data, handle, sort_keys=False, allow_unicode=True, default_flow_style=None, width=110)
    return path


def report(summary: dict, failing_paths: Sequence[str]) -> str:
    lines = [
        "# clobsim sweep",
        "",
        f"{summary['cases']} cases: {len(summary['scenarios'])} scenarios x {len(summary['seeds'])} seeds x "
        f"{len(summary['bots'])} bots ({summary['mode']} mode); "
        f"{summary['passed']} passed, {summary['failed']} failed.",
        "",
        "| bot | passed | failed |",
        "|---|---|---|",
    ]
    lines += [f"| {bot} | {c['pass']} | {c['fail']} |" for bot, c in summary["by_bot"].items()]
    failing = _failing(summary)
    if failing:
        lines += [
            "",
            "## Failing cases",
            "",
            "| scenario | seed | bot | failed checks | scenario file |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['scenario']} | {r['seed']} | {r['bot']} | {', '.join(r['failed'])} | {path} |"
            for r, path in zip(failing, failing_paths, strict=True)
        ]
    return "\n".join(lines) + "\n"
