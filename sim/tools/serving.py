"""`clobsim serve` and `clobsim run --bot-cmd`: the command-line side of server mode (sim.server).

    clobsim serve SCENARIO [--port N] [--speed X] [--protocol v1|v2] [--seed N]
    clobsim run SCENARIO --bot-cmd "CMD" [--bot-log FILE] [--speed X] [--connect-timeout S]
                [--protocol v1|v2] [--seed N] [--out DIR]

Server-mode runs happen in wall time: they are not byte-identical from one run to the next
(sim.server.session says why); everything else about them (the market's history from the seed,
the faults, the checks) is as in an in-process run.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shlex
import shutil
import tempfile

from clobsim.sim.runner.scenario import MAX_SEED
from clobsim.sim.server.session import MAX_SPEED, MIN_SPEED
from clobsim.sim.tools.errors import UsageError
from clobsim.sim.tools.folders import RUN_MARKER
from clobsim.sim.tools.runfolder import RunFolder
from clobsim.sim.tools.selection import load_all

MAX_CONNECT_TIMEOUT = 3600.0


def check_speed(speed: float) -> float:
    if not (math.isfinite(speed) and MIN_SPEED <= speed <= MAX_SPEED):
        raise UsageError(f"--speed: must be a number from {MIN_SPEED:g} to {MAX_SPEED:g}, got {speed}")
    return speed


def _one_scenario(paths: list[str], command: str):
    scenarios = load_all(paths)
    if len(scenarios) != 1:
        raise UsageError(f"{command}: give exactly one scenario file, got {len(scenarios)} scenarios")
    return scenarios[0]


DEFAULT_SPEED, DEFAULT_CONNECT_TIMEOUT = 1.0, 30.0


def _check_common(args) -> None:
    if args.speed is None:
        args.speed = DEFAULT_SPEED
    check_speed(args.speed)
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed: must be a whole number from 0 to {MAX_SEED}, got {args.seed}")


def cmd_serve(args) -> int:
    _check_common(args)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: must be from 0 (any free port) to 65535, got {args.port}")
    scenario = _one_scenario([args.scenario], "serve")
    # the server, once the input is good (aiohttp, and the harness with the real clients)
    from clobsim.sim.server.app import PortUnavailable, serve  # noqa: PLC0415
    from clobsim.sim.server.botproc import bot_environment  # noqa: PLC0415
    from clobsim.sim.server.session import Session  # noqa: PLC0415

    workdir = tempfile.mkdtemp(prefix="clobsim-serve-")
    try:
        session = Session(scenario, seed=args.seed, protocol=args.protocol, speed=args.speed, workdir=workdir)
        try:
            server = asyncio.run(
                serve(
                    session,
                    port=args.port,
                    say=lambda line: print(line, flush=True),
                    environment=lambda port: bot_environment(session, port),
                )
            )
        except PortUnavailable as exc:
            raise UsageError(str(exc)) from None
        if server.failure is not None:
            raise server.failure
        print(f"the scenario's horizon is reached; {server.requests} requests served", flush=True)
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_bot_command(args) -> tuple[dict, str]:
    """`clobsim run SCENARIO --bot-cmd CMD` into its run folder: the scenario's record and a summary
    line (a setup error raises UsageError: exit 2)."""
    _check_common(args)
    if not args.bot_cmd.strip():
        raise UsageError("--bot-cmd: give the command that starts the bot")
    if args.connect_timeout is None:
        args.connect_timeout = DEFAULT_CONNECT_TIMEOUT
    if not 0 < args.connect_timeout <= MAX_CONNECT_TIMEOUT:
        raise UsageError(
            f"--connect-timeout: must be from 0 to {MAX_CONNECT_TIMEOUT:g} seconds, got {args.connect_timeout}"
        )
    if args.bot != "core":
        raise UsageError("--bot and --bot-cmd: give one bot, not both")
    scenario = _one_scenario(args.paths, "run --bot-cmd")
    # the server and the checks, once the input is good (aiohttp, and the harness with the real clients)
    from clobsim.sim.checks.bot_process import bot_process_checks, unjudgeable  # noqa: PLC0415
    from clobsim.sim.server.botproc import BotSetupError, run_bot  # noqa: PLC0415
    from clobsim.sim.server.session import Session  # noqa: PLC0415
    from clobsim.sim.tools.runs import result_record  # noqa: PLC0415

    problem = unjudgeable(scenario)
    if problem:
        raise UsageError(f"{scenario.source}: {problem}")
    folder = RunFolder(args.out)
    try:
        scenario_dir = os.path.join(folder.partial, scenario.name)
        os.makedirs(scenario_dir)
        session = Session(
            scenario,
            seed=args.seed,
            protocol=args.protocol,
            speed=args.speed,
            workdir=tempfile.mkdtemp(dir=folder.partial),
        )
        try:
            result, outcome = asyncio.run(
                run_bot(session, args.bot_cmd, folder=scenario_dir, connect_timeout=args.connect_timeout)
            )
        except BotSetupError as exc:
            raise UsageError(str(exc)) from None
        lines = _output_lines(args.bot_log or outcome.stdout, args.bot_log)
        result.checks = bot_process_checks(result, lines)
        shutil.rmtree(session.run.workdir, ignore_errors=True)  # the empty ledger the checks opened
        record = result_record(result)
        record["mode"] = "serve"
        record["bot_process"] = {
            "command": args.bot_cmd,
            "exit_code": outcome.exit_code,
            "requests": outcome.requests,
            "wall_seconds": round(outcome.wall_seconds, 3),
            "speed": args.speed,
            "output": args.bot_log or os.path.basename(outcome.stdout),
        }
        record["reproduce"] = (
            f"clobsim run {scenario.source} --bot-cmd {shlex.quote(args.bot_cmd)} --speed {args.speed:g}"
            + (f" --seed {args.seed}" if args.seed is not None else "")
            + (f" --bot-log {shlex.quote(args.bot_log)}" if args.bot_log else "")
        )
        with open(os.path.join(scenario_dir, "trace.jsonl"), "w", encoding="utf-8") as handle:
            handle.write(result.trace_jsonl())
        with open(os.path.join(scenario_dir, "result.json"), "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2, ensure_ascii=False, default=str)
            handle.write("\n")
        with open(os.path.join(folder.partial, RUN_MARKER), "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "paths": args.paths,
                    "seed": args.seed,
                    "mode": "serve",
                    "bot": record["bot"],
                    "protocol": args.protocol,
                    "scenarios": [scenario.name],
                    "failed": [scenario.name] if record["verdict"] == "fail" else [],
                },
                handle,
                indent=2,
            )
            handle.write("\n")
    except BaseException:
        folder.discard()
        raise
    folder.commit()
    ended = "was stopped at the horizon" if outcome.exit_code is None else f"exited with code {outcome.exit_code}"
    return record, (
        f"\n{'passed' if record['verdict'] == 'pass' else 'FAILED'}: the bot process {ended} "
        f"after {outcome.requests} requests in {outcome.wall_seconds:.1f} s (speed {args.speed:g}); "
        f"run folder: {args.out} (server-mode runs are not byte-identical from run to run)"
    )


def _output_lines(path: str, named: str | None) -> list[str]:
    """The lines the scenario's audit expectations are matched against."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError as exc:
        if named:
            raise UsageError(f"--bot-log {named}: cannot read it after the run: {exc.strerror or exc}") from None
        raise
