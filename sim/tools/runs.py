"""Run folders: what `clobsim run` writes for each scenario, and the marker that makes a folder one.

<out>/run.json               the marker: paths, seed, mode, bot, protocol (the override), scenarios, failures
                             (sim.tools.folders.RUN_MARKER; the folder is put in place by sim.tools.runfolder)
<out>/<scenario>/audit.log   the human audit log (and audit.jsonl, its structured twin)
<out>/<scenario>/trace.jsonl every request, response, venue event and fault, in time order
<out>/<scenario>/result.json the verdict, the checks with evidence, and the scenario itself
"""

from __future__ import annotations

import json
import logging
import os

from clobsim.sim.checks import run
from clobsim.sim.checks.facts import bot_orders
from clobsim.sim.exchange.protocol import V1
from clobsim.sim.explore.search import reproduce_out
from clobsim.sim.runner.harness import RunResult
from clobsim.sim.runner.scenario import Scenario
from clobsim.sim.tools.folders import LEVEL_NAMES
from clobsim.sim.trace import TRACE_FORMAT, fault_records, fires_per_fault

__all__ = ["execute", "result_record", "write_run"]


def reproduce_command(
    scenario: Scenario, seed: int, mode: str, bot: str, protocol: str | None = None, log_level: int = logging.INFO
) -> str:
    """The command that re-runs one scenario as it ran, into its own run folder (never over the
    one it came from). It names --protocol exactly when the run's protocol is not the one the
    scenario file gives by itself (its market.protocol, v2 when absent): a library scenario run
    under `--protocol v1` reproduces only with `--protocol v1`; --log-level when not info."""
    command = f"clobsim run {scenario.source} --seed {seed} --mode {mode} --bot {bot}"
    if protocol is not None and protocol != scenario.protocol:
        command += f" --protocol {protocol}"
    if log_level != logging.INFO:
        command += f" --log-level {LEVEL_NAMES[log_level]}"
    return command + f" --out {reproduce_out(scenario.name)}"


def result_record(result: RunResult, log_level: int = logging.INFO) -> dict:
    scenario = result.scenario
    fired = fault_records(result.trace)
    fires = fires_per_fault([f.to_dict() for f in scenario.faults], fired)
    fills = sum(1 for t in result.venue.trades.values() for leg in t.makers if leg.owner == result.owner) + sum(
        1 for t in result.venue.trades.values() if t.taker_owner == result.owner
    )
    record = {
        "scenario": scenario.name,
        "file": scenario.source,
        "description": scenario.description,
        "seed": result.seed,
        "mode": result.mode,
        "bot": result.bot,
        "verdict": "pass" if result.passed else "fail",
        "simulated_seconds": result.simulated_seconds,
        "orders": len(bot_orders(result)),
        "fills": fills,
        "faults": [f.kind for f in scenario.faults],
        "faults_fired": len(fired),
        # a fault that never acted tests nothing: `clobsim run` warns, --strict fails
        "faults_silent": [f"faults[{i}] ({f.kind})" for i, f in enumerate(scenario.faults) if not fires[i]],
        "bots_started": result.bots_started,
        "audit_lines": len(result.events),
        "checks": [c.to_dict() for c in result.checks],
        "reproduce": reproduce_command(scenario, result.seed, result.mode, result.bot, result.protocol, log_level),
        "scenario_data": scenario.raw,
    }
    if result.protocol != V1:  # a v1 record keeps the fields records had before protocols existed
        record["protocol"] = result.protocol
    if log_level != logging.INFO:  # replay writes audit.log at the level it was recorded at
        record["log_level"] = LEVEL_NAMES[log_level]
    record["trace_format"] = TRACE_FORMAT
    return record


def write_run(result, folder: str, log_level: int = logging.INFO) -> dict:
    record = result_record(result, log_level)
    with open(os.path.join(folder, "trace.jsonl"), "w", encoding="utf-8") as handle:
        handle.write(result.trace_jsonl())
    with open(os.path.join(folder, "result.json"), "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2, ensure_ascii=False, default=str)
        handle.write("\n")
    return record


def execute(
    scenario: Scenario,
    *,
    seed: int | None,
    mode: str,
    bot: str,
    out: str,
    protocol: str | None = None,
    log_level: int = logging.INFO,
):
    folder = os.path.join(out, scenario.name)
    os.makedirs(folder, exist_ok=True)
    result = run(scenario, seed=seed, mode=mode, bot=bot, out_dir=folder, protocol=protocol, log_level=log_level)
    return result, write_run(result, folder, log_level)
