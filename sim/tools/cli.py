"""`clobsim`: the command line (design.md, "Commands").

Exit codes: 0 all good; 1 an expectation or invariant failed (or a replay diverged, or, under
`run --strict`, a fault never fired); 2 bad input or usage (one clear message, never a
traceback); 3 an internal error of clobsim itself (one line naming the command; the traceback
with CLOBSIM_TRACEBACK=1); 130 interrupted (SIGINT), the previous run folder intact.

  clobsim --version
  clobsim run PATH... [-k PATTERN] [--seed N] [--mode fast|wire] [--bot NAME] [--out DIR] [--report]
              [--junit-xml FILE] [--log-level LEVEL] [--strict] [--workers N]
  clobsim replay RUN_DIR_OR_TRACE [--bot NAME] [--log-level LEVEL]
  clobsim report RUN_DIR [--alerts FILE]
  clobsim explore [--budget SECONDS | --examples N] [--seed N] [--bot NAME] [--out DIR] [--workers N]
  clobsim sweep PATH... [-k PATTERN] [--seeds N | --seed-range A:B] [--bots NAME,...] [--mode fast|wire]
                [--scheduler tcp://HOST:PORT | --workers N] [--out DIR]
  clobsim bench [--json] [--workers N] [--repeat N] [--memory-examples N]
  clobsim list bots|faults|invariants|scenarios [--names]
  clobsim serve SCENARIO [--port N] [--speed X] [--protocol v1|v2] [--seed N]
  clobsim run SCENARIO --bot-cmd "CMD" [--bot-log FILE] [--speed X] [--connect-timeout S] [--out DIR]

Bad input is answered before the simulator is loaded: this module imports only what parsing and
validation need (the scenario schema, the bot names, the run folder), and each command imports the
heavy parts (the harness, the real clients, hypothesis, aiohttp, matplotlib) where it uses them,
so a wrong path, field or flag gets its exit 2 in a fraction of the seconds those imports take
(tests/test_cli_imports.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from typing import Any, NoReturn

from clobsim.sim.bots import bot_name
from clobsim.sim.bots import foreign as foreign_bot
from clobsim.sim.bots import resolve as resolve_bot
from clobsim.sim.bots.foreign import ForeignBot, parse_env
from clobsim.sim.exchange.protocol import PROTOCOLS
from clobsim.sim.runner.inputs import clip
from clobsim.sim.runner.scenario import MAX_SEED, ScenarioError, check_protocol
from clobsim.sim.tools import STARTED, sweepfolder
from clobsim.sim.tools.errors import UsageError
from clobsim.sim.tools.folders import LOG_LEVELS, RUN_MARKER, check_report_folder
from clobsim.sim.tools.runfolder import DEFAULT_OUT, RunFolder
from clobsim.sim.tools.selection import load_all, select

DISTRIBUTION = "clobsim"


def cmd_run(args) -> int:
    if args.bot_cmd is not None:
        return _run_bot_process(args)
    for option, given in (
        ("--bot-log", args.bot_log),
        ("--speed", args.speed),
        ("--connect-timeout", args.connect_timeout),
    ):
        if given is not None:
            raise UsageError(f"{option}: only with --bot-cmd (server mode)")
    args.bot = chosen_bot(args)
    workers = check_workers(args.workers)
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed: must be a whole number from 0 to {MAX_SEED}, got {args.seed}")
    scenarios = select(load_all(args.paths), args.k)
    if args.protocol:  # the override must suit every scenario (a V2 tick size under v1 is bad input)
        for scenario in scenarios:
            check_protocol(scenario, args.protocol, scenario.source)
    junit = _junit_path(args.junit_xml)
    folder = RunFolder(args.out)
    try:
        from clobsim.sim.tools import progress  # noqa: PLC0415 - rich, once the input is good

        with progress.bar(f"run [{args.bot}]", len(scenarios)) as shown:
            records = _run_into(folder.partial, scenarios, args, workers, lambda _record: shown.advance())
    except BaseException:
        folder.discard()
        raise
    folder.commit()
    if junit is not None:
        from clobsim.sim.tools import junit as junit_xml  # noqa: PLC0415 - only when asked for

        junit_xml.write(records, junit, strict=args.strict)
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


def _run_bot_process(args) -> int:
    """`run SCENARIO --bot-cmd CMD` (sim.tools.serving): a bot process against the served scenario."""
    for option, given in (("--mode", args.mode != "fast"), ("--workers", args.workers != 1), ("--report", args.report)):
        if given:
            raise UsageError(f"{option}: not with --bot-cmd (one bot process, over sockets; no core audit log)")
    from clobsim.sim.tools.results import failure_text, results_table  # noqa: PLC0415 - tabulate
    from clobsim.sim.tools.serving import run_bot_command  # noqa: PLC0415 - server mode only

    record, summary = run_bot_command(args)
    print(results_table([record]))
    for silent in record["faults_silent"]:
        print(f"warning: {record['scenario']}: {silent} never fired; it tests nothing")
    if record["verdict"] == "fail":
        print(failure_text(record))
    print(summary)
    if args.strict and record["faults_silent"]:
        print("--strict: the scenario has faults that never fired")
        return 1
    return 0 if record["verdict"] == "pass" else 1


def _junit_path(path: str | None) -> str | None:
    """--junit-xml FILE is checked before anything runs: a run must not end unable to write it."""
    if path is None:
        return None
    if os.path.isdir(path):
        raise UsageError(f"--junit-xml {path}: is a folder; name the XML file to write")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"--junit-xml {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"--junit-xml {path}: cannot write into {parent}")
    return path


def _run_into(out: str, scenarios: list, args, workers: int, done) -> list[dict]:
    from clobsim.sim.tools.parallel import run_records  # noqa: PLC0415

    records = run_records(
        scenarios,
        seed=args.seed,
        mode=args.mode,
        bot=args.bot,
        out=out,
        workers=workers,
        protocol=args.protocol,
        log_level=LOG_LEVELS[args.log_level],
        done=done,
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
                **({"k": args.k} if args.k is not None else {}),
                "scenarios": [r["scenario"] for r in records],
                "failed": [r["scenario"] for r in records if r["verdict"] == "fail"],
            },
            handle,
            indent=2,
        )
        handle.write("\n")
    return records


def _report_run(records: list[dict], args) -> int:
    from clobsim.sim.tools.results import failure_text, results_table  # noqa: PLC0415 - tabulate, after the run

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
        from clobsim.sim.tools.report import summary, write_reports  # noqa: PLC0415

        print(summary(write_reports(args.out), args.out))
    if args.strict and silent:
        print(f"--strict: {len(silent)} scenario(s) have faults that never fired")
        return 1
    return 1 if failed else 0


# ---- report --------------------------------------------------------------------------------


def cmd_report(args) -> int:
    """Write report.md and report.html (and the timeline PNGs) into a run folder; 0 once written."""
    check_report_folder(args.run_dir)
    from clobsim.sim.tools.report import summary, write_reports  # noqa: PLC0415 - matplotlib, only when reporting

    print(summary(write_reports(args.run_dir, args.alerts), args.run_dir))
    return 0


# ---- replay --------------------------------------------------------------------------------


def cmd_replay(args) -> int:
    from clobsim.sim.tools.replay import replay  # noqa: PLC0415 - heavy import, only when replaying

    return replay(args.path, bot=args.bot, log_level=args.log_level)


# ---- explore -------------------------------------------------------------------------------


MAX_BUDGET = 7 * 86_400.0  # a week of searching; NaN and inf fail the range check too


def cmd_explore(args) -> int:
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
    from clobsim.sim.explore.search import explore, reproduce_hint  # noqa: PLC0415 - once the input is good
    from clobsim.sim.tools import progress  # noqa: PLC0415 - rich, once the input is good

    with progress.status(f"explore [{args.bot}]: starting") as stream:
        state = explore(
            bot=args.bot,
            seed=args.seed,
            examples=examples,
            budget=args.budget,
            out=args.out,
            progress=stream,
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
    print(f"reproduce: {reproduce_hint(state.path, args.bot)}")
    return 1


# ---- sweep ---------------------------------------------------------------------------------


def cmd_sweep(args) -> int:
    """seeds x scenarios x bots, on a Dask cluster (--scheduler) or locally (sim.tools.sweep)."""
    bots = [b.strip() for b in args.bots.split(",") if b.strip()]
    if not bots:
        raise UsageError("--bots: name at least one bot (core, or a zoo variant: clobsim list bots)")
    for bot in bots:
        try:
            resolve_bot(bot)
        except ValueError as exc:
            raise UsageError(f"--bots: {exc}") from None
    workers = check_workers(args.workers)
    if args.scheduler is not None and not args.scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise UsageError(
            f"--scheduler: expected a Dask scheduler address such as tcp://HOST:8786, got {args.scheduler!r}"
        )
    seeds = sweepfolder.parse_seeds(args.seeds, args.seed_range)
    scenarios = select(load_all(args.paths), args.k)
    sweepfolder.check_out(args.out)
    from clobsim.sim.tools import sweep  # noqa: PLC0415 - the worker pools and exploration's hints

    total = len(scenarios) * len(seeds) * len(bots)
    from clobsim.sim.tools import progress  # noqa: PLC0415 - rich, once the input is good

    with progress.bar("sweep", total) as shown:
        summary = sweep.sweep(
            scenarios,
            seeds=seeds,
            bots=bots,
            mode=args.mode,
            scheduler=args.scheduler,
            workers=workers,
            progress=lambda text: print(text, file=sys.stderr),
            done=lambda records: shown.advance(len(records)),
        )
    if os.path.isdir(os.path.join(args.out, sweepfolder.FAILING)):
        import shutil  # noqa: PLC0415

        shutil.rmtree(os.path.join(args.out, sweepfolder.FAILING))  # a previous sweep's cases
    paths = sweep.write(summary, scenarios, args.out)
    print(sweep.report(summary, paths), end="")
    written = os.path.join(args.out, sweepfolder.SUMMARY), os.path.join(args.out, sweepfolder.REPORT)
    print(f"summary: {written[0]}; report: {written[1]}")
    return 1 if summary["failed"] else 0


# ---- bench and --workers -------------------------------------------------------------------


def check_workers(workers: int) -> int:
    if workers < 1:
        raise UsageError(f"--workers: must be a positive number of processes, got {workers}")
    return workers


def cmd_bench(args) -> int:
    """The speed ratios of design.md ("Speed"), measured now on this machine (sim.bench)."""
    workers = check_workers(args.workers)
    if args.repeat < 1:
        raise UsageError(f"--repeat: must be a positive number, got {args.repeat}")
    if args.memory_examples < 1:
        raise UsageError(f"--memory-examples: must be a positive number, got {args.memory_examples}")
    from clobsim.sim.tools.bench import bench, render  # noqa: PLC0415 - once the input is good

    report = bench(repeat=args.repeat, workers=workers, memory_examples=args.memory_examples, progress=sys.stderr)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


# ---- list ----------------------------------------------------------------------------------


def cmd_list(args) -> int:
    from clobsim.sim.tools import listing  # noqa: PLC0415 - the checks' registry loads the harness

    if args.what == "bots":
        entries = listing.bots()
    elif args.what == "faults":
        entries = listing.faults()
    elif args.what == "invariants":
        entries = listing.invariants()
    else:
        entries = listing.scenarios(select(load_all([args.dir]), args.k))
    print(listing.render(entries, names_only=args.names))
    return 0


# ---- entry point ---------------------------------------------------------------------------


def add_server_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--speed",
        type=float,
        default=None,
        metavar="X",
        help="server mode: simulated seconds per wall second (default 1: real time)",
    )


def cmd_serve(args) -> int:
    from clobsim.sim.tools.serving import cmd_serve as serve  # noqa: PLC0415 - aiohttp, only in server mode

    return serve(args)


def version() -> str:
    """The installed distribution's version (its metadata, as pip installed it)."""
    from importlib import metadata  # noqa: PLC0415 - tens of milliseconds; only for --version

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "(not installed: run from a source tree)"


class VersionAction(argparse.Action):
    """argparse's --version, with the version read when the option is given rather than each time
    the parser is built (every command, bad input included)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show program's version number and exit")
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None) -> None:
        print(f"{parser.prog} {version()}")
        parser.exit()


def add_select(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "-k",
        dest="k",
        default=None,
        metavar="PATTERN",
        help="only scenarios whose name or path matches, as pytest -k: substrings joined by and/or/not, "
        "e.g. -k 'race and not regressions'",
    )


def add_log_level(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--log-level",
        choices=list(LOG_LEVELS),
        default="info",
        type=str.lower,
        help="the lowest level written to audit.log and audit.jsonl (default info; debug adds the "
        "audit trail's 'Starting notification retrieval process' lines)",
    )


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


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag gets one line (exit 2), as every other bad input does: not the
    whole usage block above it. Subcommands' parsers are of the same class (add_subparsers)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="clobsim",
        description="Race-condition harness for a Polymarket "
        "position manager: scenarios on a simulated CLOB, on virtual time.",
    )
    top.add_argument("--version", action=VersionAction)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run scenario files or folders and check them")
    run.add_argument("paths", nargs="+", metavar="PATH", help="scenario files (*.yaml) or folders of them")
    add_select(run)
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
    run.add_argument(
        "--junit-xml",
        default=None,
        metavar="FILE",
        help="also write the results as JUnit XML (one test case per scenario) for CI",
    )
    add_log_level(run)
    add_workers(run, "run the scenarios on N worker processes; same files and table as a serial run")
    run.add_argument(
        "--bot-cmd",
        default=None,
        metavar="CMD",
        help="run this shell command as the bot, against the scenario served on 127.0.0.1 (server mode; "
        "one scenario file; the bot finds the server and its credentials in CLOBSIM_* variables)",
    )
    run.add_argument(
        "--bot-log",
        default=None,
        metavar="FILE",
        help="with --bot-cmd: match the scenario's audit expectations against this file the bot writes "
        "(default: its stdout)",
    )
    add_server_options(run)
    run.add_argument(
        "--connect-timeout",
        type=float,
        default=None,
        metavar="S",
        help="with --bot-cmd: wall seconds the bot has to reach the server (default 30)",
    )
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="serve a scenario's venue on 127.0.0.1: REST and WebSocket channels")
    serve.add_argument("scenario", metavar="SCENARIO", help="a scenario file")
    serve.add_argument("--port", type=int, default=8080, help="the port on 127.0.0.1 (0: any free port; default 8080)")
    serve.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    serve.add_argument(
        "--protocol", choices=list(PROTOCOLS), default=None, help="the CLOB protocol (default: the scenario's)"
    )
    add_server_options(serve)
    serve.set_defaults(func=cmd_serve)

    replay = sub.add_parser("replay", help="re-execute a recorded run and compare it event by event")
    replay.add_argument("path", metavar="RUN_DIR_OR_TRACE")
    replay.add_argument("--bot", default=None, help="replay the same exchange history against other code")
    replay.add_argument(
        "--log-level",
        choices=list(LOG_LEVELS),
        default=None,
        type=str.lower,
        help="the audit level of the replayed run (default: the level the run was recorded at)",
    )
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
    add_select(sweeper)
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

    lister = sub.add_parser("list", help="print the names, each with a one-line description")
    lister.add_argument("what", choices=["bots", "faults", "invariants", "scenarios"])
    lister.add_argument("--names", action="store_true", help="the names alone, one per line (for scripts)")
    lister.add_argument("--dir", default="scenarios", help="where `list scenarios` looks (default scenarios)")
    add_select(lister)
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
