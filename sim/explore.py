"""Exploration: search fault schedules for invariant violations, shrink, write a scenario file.

Hypothesis draws scenarios (sim.strategies.scenarios), runs each against the bot in fast mode
and fails the property when an invariant fails. It then shrinks the failing scenario to a
minimal one and that is written as a YAML scenario file (scenarios/regressions/ by default),
which `clobsim run` reproduces.

Reproducible: the search is seeded (`--seed`) with no example database, so the same seed,
example count and code explore the same scenarios. `--budget SECONDS` bounds wall time
instead; how many examples fit then depends on the machine, but each example, and a found
scenario, is still reproducible by itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field

import yaml
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from .harness import run
from .scenario import from_dict
from .strategies import scenarios


class InvariantViolation(Exception):
    def __init__(self, data: dict, failures: list):
        super().__init__(", ".join(f.id for f in failures))
        self.data = data
        self.failures = failures


@dataclass
class Exploration:
    bot: str
    seed: int
    examples: int = 0  # runs made, shrinking included
    found: dict | None = None  # the minimal failing scenario's data
    failures: list = field(default_factory=list)
    path: str | None = None
    seconds: float = 0.0


def _progress(state: Exploration, started: float, stream) -> None:
    if stream is None:
        return
    elapsed = max(time.perf_counter() - started, 1e-9)
    status = "shrinking" if state.found else "searching"
    stream.write(f"\rexplore [{state.bot}] {status}: {state.examples} runs, {state.examples / elapsed:.1f}/s, "
                 f"{elapsed:.0f}s   ")
    stream.flush()


def explore(*, bot: str = "core", seed: int = 0, examples: int | None = None, budget: float | None = None,
            out: str = os.path.join("scenarios", "regressions"), mode: str = "fast",
            progress=sys.stderr) -> Exploration:
    state = Exploration(bot=bot, seed=seed)
    started = time.perf_counter()
    deadline = started + budget if budget is not None else None
    max_examples = examples if examples is not None else 100_000

    @hypothesis_seed(seed)
    @settings(max_examples=max_examples, database=None, deadline=None, derandomize=False,
              phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False, verbosity=Verbosity.quiet, print_blob=False)
    @given(scenarios())
    def property_holds(data: dict) -> None:
        if deadline is not None and state.found is None and time.perf_counter() > deadline:
            return  # budget spent: let hypothesis run out of examples quickly
        state.examples += 1
        if state.examples % 5 == 0:
            _progress(state, started, progress)
        result = run(from_dict(data), mode=mode, bot=bot)
        broken = [c for c in result.checks if c.kind == "invariant" and not c.passed]
        if broken:
            state.found = data
            raise InvariantViolation(data, broken)

    try:
        property_holds()
    except InvariantViolation as violation:
        state.found, state.failures = violation.data, violation.failures
        state.path = write_regression(violation, bot=bot, seed=seed, out=out)
    state.seconds = time.perf_counter() - started
    if progress is not None:
        _progress(state, started, progress)
        progress.write("\n")
    return state


def write_regression(violation: InvariantViolation, *, bot: str, seed: int, out: str) -> str:
    data = dict(violation.data)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]
    invariant = violation.failures[0].id
    data["name"] = f"{bot}-{invariant}-{digest}"
    data["description"] = (f"Found by `clobsim explore --bot {bot} --seed {seed}`: {invariant} failed "
                           f"({violation.failures[0].message}). Minimal case after shrinking.")
    ordered = {key: data[key] for key in ("name", "description", "seed", "market", "trades", "events", "faults")
               if key in data and data[key] not in ([], None)}
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"{data['name']}.yaml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"# {violation.failures[0].id}: " + "; ".join(violation.failures[0].evidence)[:300] + "\n")
        yaml.safe_dump(ordered, handle, sort_keys=False, allow_unicode=True, default_flow_style=None, width=110)
    return path
