"""`clobsim`: the command line (design.md, "Commands").

Exit codes: 0 all good; 1 an expectation or invariant failed (or a replay diverged, or, under
`run --strict`, a fault never fired); 2 bad input or usage (one clear message, never a
traceback); 3 an internal error of clobsim itself (one line naming the command; the traceback
with CLOBSIM_TRACEBACK=1); 130 interrupted (SIGINT), the previous run folder intact.

  clobsim run PATH... [--seed N] [--mode fast|wire] [--bot NAME] [--out DIR] [--report] [--workers N]
  clobsim replay RUN_DIR_OR_TRACE [--bot NAME]
  clobsim report RUN_DIR [--alerts FILE]
  clobsim explore [--budget SECONDS | --examples N] [--seed N] [--bot NAME] [--out DIR] [--workers N]
  clobsim sweep PATH... [--seeds N | --seed-range A:B] [--bots NAME,...] [--mode fast|wire]
                [--scheduler tcp://HOST:PORT | --workers N] [--out DIR]
  clobsim bench [--json] [--workers N] [--repeat N] [--memory-examples N]
  clobsim list bots|faults|invariants|scenarios
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from typing import Any

from tabulate import tabulate

from sim.bots import bot_name
from sim.bots import foreign as foreign_bot
from sim.bots import names as bot_names
from sim.bots import resolve as resolve_bot
from sim.bots.foreign import ForeignBot, is_entry_point, parse_env
from sim.exchange.protocol import PROTOCOLS, V1
from sim.faults import names as fault_names
from sim.runner.inputs import clip
from sim.runner.scenario import MAX_SEED, ScenarioError, from_dict
from sim.tools import STARTED
from sim.tools.errors import UsageError
from sim.tools.folders import read_result, read_text_file, scenario_folders
from sim.tools.runs import DEFAULT_OUT, RUN_MARKER, RunFolder, load_all


def cmd_run(args) -> int:
    args.bot = chosen_bot(args)
    workers = check_workers(args.workers)
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed: must be a whole number from 0 to {MAX_SEED}, got {args.seed}")
    scenarios = load_all(args.paths)
    folder = RunFolder(args.out)
    try:
        records = _run_into(folder.partial, scenarios, args, workers)
    except BaseException:
        folder.discard()
        raise
    folder.commit()
    return _report_run(records, args)


def chosen_bot(args) -> Any:
    """--bot (with --bot-env and --bot-positions) as a run takes it: a known name, or a foreign
    bot whose entry point (and hook) load, checked before any run starts (exit 2 otherwise)."""
    try:
        bot = foreign_bot(args.bot, parse_env(args.bot_env or ()), args.bot_positions, args.bot_stubs)
    except ValueError as exc:
        flag = "--bot-env" if args.bot_env and "KEY=VALUE" in str(exc) else "--bot"
        raise UsageError(f"{flag}: {exc}") from None
    try:
        if isinstance(bot, ForeignBot):
            bot.check()
        else:
            resolve_bot(bot)
    except ValueError as exc:
        raise UsageError(f"--bot: {exc}") from None
    return bot


def _run_into(out: str, scenarios: list, args, workers: int) -> list[dict]:
    from sim.tools.parallel import run_records  # noqa: PLC0415

    records = run_records(
        scenarios, seed=args.seed, mode=args.mode, bot=args.bot, out=out, workers=workers, protocol=args.protocol
    )
    with open(os.path.join(out, RUN_MARKER), "w", encoding="utf-8") as handle:
        json.dump(
            {
                "paths": args.paths,
                "seed": args.seed,
                "mode": args.mode,
                "bot": bot_name(args.bot),
                # the --protocol override; null: each scenario spoke its own market.protocol
                # (each record in result.json names a protocol other than v1)
                "protocol": args.protocol,
                "scenarios": [r["scenario"] for r in records],
                "failed": [r["scenario"] for r in records if r["verdict"] == "fail"],
            },
            handle,
            indent=2,
        )
        handle.write("\n")
    return records


def _report_run(records: list[dict], args) -> int:
    print(results_table(records))
    silent = [r for r in records if r.get("faults_silent")]
    for record in silent:
        print(f"warning: {record['scenario']}: {', '.join(record['faults_silent'])} never fired; it tests nothing")
    failed = [r for r in records if r["verdict"] == "fail"]
    for record in failed:
        print(failure_text(record))
    print(
        f"\n{len(records) - len(failed)} passed, {len(failed)} failed  ({records[0]['mode'] if records else args.mode} "
        f"mode, bot {bot_name(args.bot)}); "
        f"run folder: {args.out}"
    )
    if getattr(args, "report", False):
        from sim.tools.report import summary, write_reports  # noqa: PLC0415

        print(summary(write_reports(args.out), args.out))
    if args.strict and silent:
        print(f"--strict: {len(silent)} scenario(s) have faults that never fired")
        return 1
    return 1 if failed else 0


def results_table(records: list[dict]) -> str:
    rows = []
    for r in records:
        failed = [c["id"] for c in r["checks"] if not c["passed"]]
        rows.append(
            [
                r["scenario"],
                r["verdict"].upper(),
                r["seed"],
                r["mode"],
                f"{r['simulated_seconds']:.0f}",
                r["orders"],
                r["fills"],
                f"{len(r['faults'])} ({len(r['faults_silent'])} silent)"
                if r.get("faults_silent")
                else len(r["faults"]),
                ", ".join(dict.fromkeys(failed)) or "-",
            ]
        )
    return tabulate(
        rows,
        headers=["scenario", "verdict", "seed", "mode", "sim s", "orders", "fills", "faults", "failed checks"],
        tablefmt="github",
    )


def _faults_cell(record: dict) -> str | int:
    silent = record.get("faults_silent")
    return f"{len(record['faults'])} ({len(silent)} silent)" if silent else len(record["faults"])


def failure_text(record: dict) -> str:
    lines = [f"\nFAIL {record['scenario']} ({record['file']})"]
    for check in record["checks"]:
        if check["passed"]:
            continue
        lines.append(f"  {check['id']}: {check['message']}")
        lines.extend(f"    {item}" for item in check["evidence"])
    lines.append(f"  reproduce: {record['reproduce']}")
    return "\n".join(lines)


# ---- report --------------------------------------------------------------------------------


def cmd_report(args) -> int:
    """Write report.md and report.html (and the timeline PNGs) into a run folder; 0 once written."""
    from sim.tools.report import summary, write_reports  # noqa: PLC0415 - matplotlib, only when reporting

    print(summary(write_reports(args.run_dir, args.alerts), args.run_dir))
    return 0


# ---- replay --------------------------------------------------------------------------------


def replay_targets(path: str) -> list[str]:
    if os.path.isfile(path):
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.exists(os.path.join(folder, "result.json")):
            raise UsageError(f"{path}: no result.json beside the trace; replay needs the recorded run's folder")
        return [folder]
    return scenario_folders(path)


REPLAYED = ("trace.jsonl", "audit.log")  # the recorded files a replay compares, in this order


def first_difference(recorded: list[str], replayed: list[str]) -> tuple[int, str, str] | None:
    for index in range(max(len(recorded), len(replayed))):
        a = recorded[index] if index < len(recorded) else "(end of file)"
        b = replayed[index] if index < len(replayed) else "(end of file)"
        if a != b:
            return index + 1, a, b
    return None


def cmd_replay(args) -> int:
    from sim.checks import run  # noqa: PLC0415 - heavy import, only when replaying

    if args.bot is not None:
        try:
            resolve_bot(args.bot)
        except ValueError as exc:
            raise UsageError(f"--bot: {exc}") from None
    # every recorded run is read and checked before the first is replayed: bad input costs nothing
    recorded_runs = []
    for folder in replay_targets(args.path):
        record = read_result(folder)
        if "scenario_data" not in record:
            raise UsageError(f"{folder}/result.json: field 'scenario_data' is missing")
        scenario = from_dict(record["scenario_data"], f"{folder}/result.json: scenario_data")
        if is_entry_point(str(args.bot or record["bot"])):
            again = record.get("reproduce")
            raise UsageError(f"{folder}: replay takes clobsim's own bots; run a bot of your own again with: {again}")
        try:
            resolve_bot(args.bot or record["bot"])
        except ValueError as exc:
            raise UsageError(f"{folder}/result.json: bot: {exc}") from None
        recorded = {name: read_text_file(os.path.join(folder, name)).splitlines() for name in REPLAYED}
        recorded_runs.append((record, scenario, recorded))
    diverged = 0
    for record, scenario, recorded_files in recorded_runs:
        bot = args.bot or record["bot"]
        with tempfile.TemporaryDirectory(prefix="clobsim-replay-") as tmp:
            # a record without a protocol was written by a v1 run (or before protocols existed)
            protocol = record.get("protocol", V1)
            result = run(scenario, seed=record["seed"], mode=record["mode"], bot=bot, out_dir=tmp, protocol=protocol)
            replayed = {"trace.jsonl": result.trace_jsonl().splitlines()}
            with open(os.path.join(tmp, "audit.log"), encoding="utf-8") as handle:
                replayed["audit.log"] = handle.read().splitlines()
        verdict = "identical"
        for name in REPLAYED:
            difference = first_difference(recorded_files[name], replayed[name])
            if difference is not None:
                line, a, b = difference
                verdict = f"DIVERGED at {name} line {line}"
                print(
                    f"{record['scenario']}: first differing event, {name} line {line}:\n"
                    f"  recorded: {a}\n  replayed: {b}"
                )
                break
        if verdict != "identical":
            diverged += 1
        checks = (
            ""
            if bot == record["bot"]
            else f"; checks with bot {bot}: "
            f"{'pass' if result.passed else 'FAIL ' + ', '.join(c.id for c in result.failures)}"
        )
        print(f"{record['scenario']}: {verdict} (seed {record['seed']}, {record['mode']} mode, bot {bot}){checks}")
    return 1 if diverged else 0


# ---- explore -------------------------------------------------------------------------------


MAX_BUDGET = 7 * 86_400.0  # a week of searching; NaN and inf fail the range check too


def cmd_explore(args) -> int:
    from sim.explore.search import explore  # noqa: PLC0415

    try:
        resolve_bot(args.bot)
    except ValueError as exc:
        raise UsageError(f"--bot: {exc}") from None
    if args.budget is not None and not 0 < args.budget <= MAX_BUDGET:
        raise UsageError(f"--budget: must be a positive number of seconds up to {MAX_BUDGET}, got {args.budget}")
    if not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed: must be a whole number from 0 to {MAX_SEED}, got {args.seed}")
    if args.examples is not None and args.examples <= 0:
        raise UsageError("--examples: must be a positive number")
    workers = check_workers(args.workers)
    examples = args.examples if args.examples is not None or args.budget is not None else 200
    state = explore(
        bot=args.bot,
        seed=args.seed,
        examples=examples,
        budget=args.budget,
        out=args.out,
        progress=sys.stderr,
        searches=workers,
        workers=workers,
        started=args.started,
    )
    if state.path is None:
        print(
            f"no invariant violation in {state.examples} runs ({state.seconds:.1f}s, seed {args.seed}, bot {args.bot})"
        )
        return 0
    failure = state.failures[0]
    print(f"invariant violated: {failure.id}: {failure.message}")
    for item in failure.evidence:
        print(f"  {item}")
    print(f"found and shrunk in {state.examples} runs ({state.seconds:.1f}s); minimal scenario, {state.path}:")
    with open(state.path, encoding="utf-8") as handle:  # printed whole, as hypothesis prints its example
        print("    " + handle.read().rstrip("\n").replace("\n", "\n    "))
    print(f"reproduce: clobsim run {state.path} --bot {args.bot}")
    return 1


# ---- sweep ---------------------------------------------------------------------------------


def cmd_sweep(args) -> int:
    """seeds x scenarios x bots, on a Dask cluster (--scheduler) or locally (sim.tools.sweep)."""
    from sim.tools import sweep  # noqa: PLC0415

    bots = [b.strip() for b in args.bots.split(",") if b.strip()]
    if not bots:
        raise UsageError("--bots: name at least one bot (core, or a zoo variant: clobsim list bots)")
    for bot in bots:
        try:
            resolve_bot(bot)
        except ValueError as exc:
            raise UsageError(f"--bots: {exc}") from None
    seeds = sweep.parse_seeds(args.seeds, args.seed_range)
    workers = check_workers(args.workers)
    if args.scheduler is not None and not args.scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise UsageError(
            f"--scheduler: expected a Dask scheduler address such as tcp://HOST:8786, got {args.scheduler!r}"
        )
    scenarios = load_all(args.paths)
    if os.path.isdir(args.out) and os.listdir(args.out) and not os.path.exists(os.path.join(args.out, sweep.SUMMARY)):
        raise UsageError(
            f"--out {args.out}: folder exists and is not a sweep folder (no {sweep.SUMMARY}); refusing to write into it"
        )
    summary = sweep.sweep(
        scenarios,
        seeds=seeds,
        bots=bots,
        mode=args.mode,
        scheduler=args.scheduler,
        workers=workers,
        progress=lambda text: print(text, file=sys.stderr),
    )
    if os.path.isdir(os.path.join(args.out, sweep.FAILING)):
        import shutil  # noqa: PLC0415

        shutil.rmtree(os.path.join(args.out, sweep.FAILING))  # a previous sweep's cases
    paths = sweep.write(summary, scenarios, args.out)
    print(sweep.report(summary, paths), end="")
    print(f"summary: {os.path.join(args.out, sweep.SUMMARY)}; report: {os.path.join(args.out, sweep.REPORT)}")
    return 1 if summary["failed"] else 0


# ---- bench and --workers -------------------------------------------------------------------


def check_workers(workers: int) -> int:
    if workers < 1:
        raise UsageError(f"--workers: must be a positive number of processes, got {workers}")
    return workers


def cmd_bench(args) -> int:
    """The speed ratios of design.md ("Speed"), measured now on this machine (sim.bench)."""
    from sim.tools.bench import bench, render  # noqa: PLC0415

    workers = check_workers(args.workers)
    if args.repeat < 1:
        raise UsageError(f"--repeat: must be a positive number, got {args.repeat}")
    if args.memory_examples < 1:
        raise UsageError(f"--memory-examples: must be a positive number, got {args.memory_examples}")
    report = bench(repeat=args.repeat, workers=workers, memory_examples=args.memory_examples, progress=sys.stderr)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


# ---- list ----------------------------------------------------------------------------------


def cmd_list(args) -> int:
    if args.what == "bots":
        names = bot_names()
    elif args.what == "faults":
        names = fault_names()
    elif args.what == "invariants":
        from sim.checks import REGISTRY  # noqa: PLC0415

        # the id first (the name a scenario or a script greps for), then which bots it judges
        width = max(len(invariant.id) for invariant in REGISTRY)
        names = [f"{invariant.id:<{width}}  {invariant.reach.label}" for invariant in REGISTRY]
    else:
        names = [s.name for s in load_all([args.dir])]
    print("\n".join(names))
    return 0


# ---- entry point ---------------------------------------------------------------------------


def add_workers(command: argparse.ArgumentParser, text: str) -> None:
    command.add_argument(
        "--workers",
        type=int,
        nargs="?",
        const=os.cpu_count() or 1,
        default=1,
        metavar="N",
        help=f"{text}; --workers alone: every core ({os.cpu_count() or 1}); default 1",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="clobsim",
        description="Race-condition harness for a Polymarket "
        "position manager: scenarios on a simulated CLOB, on virtual time.",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run scenario files or folders and check them")
    run.add_argument("paths", nargs="+", metavar="PATH", help="scenario files (*.yaml) or folders of them")
    run.add_argument("--seed", type=int, default=None, help="override every scenario's seed")
    run.add_argument(
        "--mode",
        choices=["fast", "wire"],
        default="fast",
        help="fast: look-alike client; wire: the real ClobClient over HTTP (default fast)",
    )
    run.add_argument(
        "--protocol",
        choices=list(PROTOCOLS),
        default=None,
        help="the CLOB protocol of every scenario (default: each scenario's market.protocol, itself v2 by default)",
    )
    run.add_argument(
        "--bot",
        default="core",
        help="core, a zoo variant (clobsim list bots), or your own bot: FILE.py:FUNC or module:func (docs/own-bot.md)",
    )
    run.add_argument(
        "--bot-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable for your own bot (repeatable)",
    )
    run.add_argument(
        "--bot-positions",
        default=None,
        metavar="FILE.py:FUNC",
        help="your bot's positions hook: what it believes it holds, {token id: shares}",
    )
    run.add_argument(
        "--bot-stubs",
        default=None,
        metavar="FILE.py:FUNC",
        help="your bot's stubs hook: (method, url) -> (status, JSON body) or None, for hosts it calls",
    )
    run.add_argument("--out", default=DEFAULT_OUT, help=f"run folder (default {DEFAULT_OUT})")
    run.add_argument(
        "--report",
        action="store_true",
        help="also write report.md and report.html into the run folder (clobsim report)",
    )
    run.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 1) when a scenario's fault never fired: a scenario that tests nothing must not pass",
    )
    add_workers(run, "run the scenarios on N worker processes; same files and table as a serial run")
    run.set_defaults(func=cmd_run)

    replay = sub.add_parser("replay", help="re-execute a recorded run and compare it event by event")
    replay.add_argument("path", metavar="RUN_DIR_OR_TRACE")
    replay.add_argument("--bot", default=None, help="replay the same exchange history against other code")
    replay.set_defaults(func=cmd_replay)

    report = sub.add_parser("report", help="write report.md and report.html for a run folder")
    report.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of clobsim run")
    report.add_argument(
        "--alerts",
        default=None,
        metavar="FILE",
        help="alert thresholds (YAML or JSON mapping rule: threshold) over the defaults",
    )
    report.set_defaults(func=cmd_report)

    explore = sub.add_parser("explore", help="search fault schedules for invariant violations and shrink them")
    limit = explore.add_mutually_exclusive_group()
    limit.add_argument("--budget", type=float, default=None, metavar="SECONDS", help="stop searching after this long")
    limit.add_argument(
        "--examples", type=int, default=None, metavar="N", help="scenarios to try (default 200 when no --budget)"
    )
    explore.add_argument("--seed", type=int, default=0, help="the search's seed (default 0)")
    explore.add_argument("--bot", default="core", help="core, or a zoo variant")
    explore.add_argument(
        "--out",
        default=os.path.join("scenarios", "regressions"),
        help="where the minimal failing scenario is written (default scenarios/regressions)",
    )
    add_workers(
        explore,
        "split the search into N seeded sub-searches on N worker processes (the same "
        "--seed, --examples and N find the same scenario; sim.explore)",
    )
    explore.set_defaults(func=cmd_explore)

    sweeper = sub.add_parser("sweep", help="run seeds x scenarios x bots, on a Dask cluster or locally")
    sweeper.add_argument("paths", nargs="+", metavar="PATH", help="scenario files (*.yaml) or folders of them")
    seeds = sweeper.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=int, default=None, metavar="N", help="seeds 1..N (default 10)")
    seeds.add_argument("--seed-range", default=None, metavar="A:B", help="seeds A..B, inclusive")
    sweeper.add_argument("--bots", default="core", metavar="NAME,...", help="comma-separated bots (default core)")
    sweeper.add_argument("--mode", choices=["fast", "wire"], default="fast", help="default fast")
    sweeper.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="a Dask distributed scheduler; its workers need clobsim installed (start them with --nthreads 1)",
    )
    sweeper.add_argument("--out", default=os.path.join("reports", "sweep"), help="default reports/sweep")
    add_workers(sweeper, "without --scheduler: run the cases on N local worker processes")
    sweeper.set_defaults(func=cmd_sweep)

    bench = sub.add_parser("bench", help="measure the speed ratios (fast, wire, bare, explore, parallel)")
    bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="worker processes for the parallel sweep (default: every core)",
    )
    bench.add_argument(
        "--repeat",
        type=int,
        default=7,
        metavar="N",
        help="timed repetitions per figure, the median reported (default 7)",
    )
    bench.add_argument(
        "--memory-examples",
        type=int,
        default=2000,
        metavar="N",
        help="exploration examples over which memory is sampled (default 2000)",
    )
    bench.set_defaults(func=cmd_bench)

    lister = sub.add_parser("list", help="print names, one per line")
    lister.add_argument("what", choices=["bots", "faults", "invariants", "scenarios"])
    lister.add_argument("--dir", default="scenarios", help="where `list scenarios` looks (default scenarios)")
    lister.set_defaults(func=cmd_list)
    return top


EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
TRACEBACK_ENV = "CLOBSIM_TRACEBACK"  # set to 1: an internal error prints its traceback too


def main(argv: list[str] | None = None) -> int:
    """argv None: the process's own command line, whose clock started with the process (a
    budget counts the imports); a list (tests, embedding): the clock starts now."""
    args = parser().parse_args(argv)
    args.started = STARTED if argv is None else time.perf_counter()
    try:
        return args.func(args)
    except (ScenarioError, UsageError) as exc:
        print(f"clobsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        # SIGINT: `run` writes into a temporary folder and renames it at the end, so nothing of
        # the previous run folder is lost (sim.tools.runs.RunFolder)
        print(f"clobsim: interrupted; `clobsim {args.command}` stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the one place a bug in clobsim becomes exit 3
        if os.environ.get(TRACEBACK_ENV) == "1":
            traceback.print_exc()
        print(
            f"clobsim: internal error in `clobsim {args.command}`: {type(exc).__name__}: {clip(str(exc), 200)} "
            f"(a bug in clobsim, not in your input: rerun with {TRACEBACK_ENV}=1 for the traceback and report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
