"""Exploration: search fault schedules for invariant violations, shrink, write a scenario file.

Hypothesis draws scenarios (sim.explore.strategies.aimed_scenarios: a scenario, and faults to
aim at the bot's own requests, placed by a pilot run of it: resolve_aims), runs each against the
bot in fast mode and fails the property when an invariant fails. It then shrinks the failing scenario to a
minimal one and that is written as a YAML scenario file (scenarios/regressions/ by default),
which `clobsim run` reproduces.

Reproducible: the search is seeded (`--seed`) with no example database, so the same seed,
example count and code explore the same scenarios. `--budget SECONDS` bounds wall time
instead, a hard bound on the whole search, shrinking and writing included: an example is
started only if one as long as the longest so far (its pilot run and core's run included) would
still end before the deadline, and a shrink cut short keeps the smallest failing case so far.
How many examples fit then depends on the machine, but each example, and a found scenario, is
still reproducible by itself. Progress (runs, runs per second, the moment a violation is found
and shrinking starts) goes to the `progress` stream.

Parallel (`--workers N`, `searches=N`): the search is N independent seeded sub-searches, the
k-th with seed `sub_seed(seed, k)` (sub-search 0 keeps `seed` itself, so N = 1 is the plain
search) and an N-th of the examples (the first ones take the remainder). They run in N worker
processes (sim.parallel) or, `workers=1`, one after another in this process; either way the
outcome is the same, by construction: the finding of the first sub-search, by index, that found
a violation (shrunk within that sub-search), and the runs counted up to and including it. So the
same seed, examples and N give the same scenario file and the same output, serial or parallel;
only the wall time differs. A different N is a different search.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import yaml
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from clobsim.sim.bots import bot_name, bot_slug
from clobsim.sim.bots.foreign import ForeignBot
from clobsim.sim.checks import run
from clobsim.sim.explore.aims import Memo, Pilot, resolve_aims
from clobsim.sim.explore.strategies import aimed_scenarios
from clobsim.sim.runner import collector, wallclock
from clobsim.sim.runner.scenario import Scenario, from_dict


class BudgetSpent(BaseException):
    """Raised inside the property when the wall-time budget is spent, generating or shrinking.

    A BaseException on purpose: hypothesis treats Exception (and SystemExit) as a failure of the
    property and would shrink it; anything else propagates out of the engine at once, so the
    search ends within one run of the deadline. The smallest failing example seen so far is
    kept by the caller (hypothesis only ever moves to smaller failing examples while shrinking)."""


class InvariantViolation(Exception):
    def __init__(self, data: dict, failures: list):
        super().__init__(", ".join(f.id for f in failures))
        self.data = data
        self.failures = failures


@dataclass
class Exploration:
    bot: str
    seed: int
    examples: int = 0  # runs made, shrinking included (parallel: up to the sub-search that found)
    found: dict | None = None  # the minimal failing scenario's data
    failures: list = field(default_factory=list)
    path: str | None = None
    seconds: float = 0.0
    searches: int = 1  # seeded sub-searches (--workers)

    def summary(self) -> str:
        """What the search found, for a test failure or a terminal: the invariant, its evidence,
        the scenario file and how to run it again; or that it found nothing."""
        if self.found is None:
            return f"explore [{bot_name(self.bot)}]: no invariant violation in {self.examples} runs (seed {self.seed})"
        lines = [f"explore [{bot_name(self.bot)}] found a violation in {self.examples} runs (seed {self.seed}):"]
        for check in self.failures:
            lines.append(f"  {check.id}: {check.message}")
            lines.extend(f"    {item}" for item in check.evidence)
        if self.path is not None:
            lines.append(f"  minimal scenario: {self.path}")
            lines.append(f"  reproduce: {reproduce_hint(self.path, self.bot)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        # pytest prints the repr of `state` under `assert state.path is None`: make it the finding
        return self.summary()


REPRODUCE_ROOT = os.path.join("reports", "reproduce")


def reproduce_out(name: str) -> str:
    """The run folder a reproduce command writes: its own, named after the scenario, so running
    a printed command never replaces the run folder it came from (reports/latest)."""
    return os.path.join(REPRODUCE_ROOT, name)


def reproduce_hint(path: str, bot: object) -> str:
    """How to run a scenario file again against a bot: the CLI for a named bot (into its own
    run folder); for a Bot subclass of the caller's own (which the CLI cannot name), the plugin's call."""
    if isinstance(bot, str):
        stem = os.path.splitext(os.path.basename(path))[0]
        return f"clobsim run {path}" + ("" if bot == "core" else f" --bot {bot}") + f" --out {reproduce_out(stem)}"
    if isinstance(bot, ForeignBot):
        stem = os.path.splitext(os.path.basename(path))[0]
        return f"clobsim run {path} --bot {bot.name} --out {reproduce_out(stem)}"
    return f"clob_sim.run({path!r}, bot={getattr(bot, '__qualname__', bot_name(bot))})"


def _progress(state: Exploration, started: float, stream) -> None:
    if stream is None:
        return
    elapsed = max(time.perf_counter() - started, 1e-9)
    status = "shrinking" if state.found else "searching"
    stream.write(
        f"\rexplore [{state.bot}] {status}: {state.examples} runs, {state.examples / elapsed:.1f}/s, {elapsed:.0f}s   "
    )
    stream.flush()


def _found(state: Exploration, broken: list, started: float, stream) -> None:
    if stream is None:
        return
    elapsed = time.perf_counter() - started
    stream.write(
        f"\rexplore [{state.bot}] found {', '.join(c.id for c in broken)} after {state.examples} runs, "
        f"{elapsed:.0f}s; shrinking\n"
    )
    stream.flush()


def sub_seed(seed: int, index: int) -> int:
    """The seed of sub-search `index` of a search seeded `seed` (index 0: the seed itself)."""
    if index == 0:
        return seed
    return int.from_bytes(hashlib.sha256(f"clobsim-explore:{seed}:{index}".encode()).digest()[:4], "big")


def split_examples(examples: int | None, searches: int) -> list[int | None]:
    if examples is None:
        return [None] * searches
    share, extra = divmod(examples, searches)
    return [share + (1 if k < extra else 0) for k in range(searches)]


def explore(
    *,
    bot: str = "core",
    seed: int = 0,
    examples: int | None = None,
    budget: float | None = None,
    out: str = os.path.join("scenarios", "regressions"),
    mode: str = "fast",
    progress=sys.stderr,
    searches: int = 1,
    workers: int | None = None,
    started: float | None = None,
) -> Exploration:
    """Search, shrink, write the minimal failing scenario (if any) into `out`.

    searches: seeded sub-searches (module docstring); workers: processes to run them on
    (default: one per sub-search; 1: one after another in this process); started: the
    perf_counter moment the budget counts from (default now; the CLI passes its own start, so
    `--budget` bounds the whole command, imports, shrinking and writing included)."""
    if searches < 1:
        raise ValueError(f"searches must be >= 1, got {searches}")
    started = time.perf_counter() if started is None else started
    jobs = [
        (bot, sub_seed(seed, k), share, None if budget is None else budget - (time.perf_counter() - started), mode)
        for k, share in enumerate(split_examples(examples, searches))
        if share != 0
    ]
    if len(jobs) == 1:
        outcomes = [_search(jobs[0], progress=progress, started=started)]
    else:
        outcomes = _search_all(jobs, workers if workers is not None else len(jobs), bot, progress, started)
    state = Exploration(bot=bot, seed=seed, searches=searches)
    for runs, found, failures in outcomes:  # in sub-search order: the first finding wins
        state.examples += runs
        if found is not None:
            state.found, state.failures = found, failures
            break
    if state.found is not None:
        state.path = write_regression(
            InvariantViolation(state.found, state.failures), bot=bot, seed=seed, out=out, searches=searches
        )
    state.seconds = time.perf_counter() - started
    return state


def _search_all(jobs: list[tuple], workers: int, bot: str, progress, started: float) -> list[tuple]:
    if workers == 1:
        return [_search(job, progress=progress, started=started) for job in jobs]
    from clobsim.sim.runner.pool import map_ordered  # noqa: PLC0415

    if progress is not None:
        progress.write(f"explore [{bot}]: {len(jobs)} sub-searches on {min(workers, len(jobs))} worker processes\n")
        progress.flush()
    outcomes = map_ordered(_search, jobs, workers)
    if progress is not None:
        runs = sum(o[0] for o in outcomes)
        progress.write(f"explore [{bot}]: {runs} runs in all, {time.perf_counter() - started:.0f}s\n")
        progress.flush()
    return outcomes


def _search(job: tuple, *, progress=None, started: float | None = None) -> tuple[int, dict | None, list]:
    """One seeded hypothesis search: (runs made, the minimal failing data or None, its failures)."""
    bot, seed, examples, budget, mode = job
    state = Exploration(bot=bot, seed=seed)
    deadline = time.perf_counter() + budget if budget is not None else None  # budget: what is left
    started = time.perf_counter() if started is None else started
    reserve = 0.0  # the longest run seen: a run that would end past the deadline is not started
    max_examples = examples if examples is not None else 100_000
    # Hypothesis often draws a scenario it has drawn before (a mutation that changed nothing the
    # scenario keeps, an aim that resolves to no fault, a shrink step): a run is a function of its
    # scenario, seed and code, so a scenario's pilot requests and verdict are looked up, not rerun.
    pilots: Memo[Pilot] = Memo(PILOTS_KEPT)
    verdicts: Memo[list] = Memo(VERDICTS_KEPT)

    @hypothesis_seed(seed)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @given(aimed_scenarios())
    def property_holds(drawn: tuple[dict, list[dict]]) -> None:
        nonlocal reserve
        if deadline is not None and time.perf_counter() + reserve > deadline:
            raise BudgetSpent
        state.examples += 1
        if state.examples % 5 == 0:
            _progress(state, started, progress)
        began = time.perf_counter()
        data = resolve_aims(*drawn, bot=bot, mode=mode, pilots=pilots)
        checks = _own_checks(pilots, *drawn, data)
        broken = verdicts.get_or_make(data, lambda: violations(data, bot, mode, checks))
        # the reserve is a whole example's time (pilot, the bot's run, core's run): the next
        # one is started only if one as long would still end before the deadline
        reserve = max(reserve, time.perf_counter() - began)
        if broken:
            if state.found is None:
                _found(state, broken, started, progress)
            state.found, state.failures = data, broken
            raise InvariantViolation(data, broken)

    try:
        with (
            wallclock.session(),
            collector.quiet(),
            _strategies_alone(),
        ):  # one freezegun start for the whole search
            property_holds()
    except InvariantViolation as violation:
        state.found, state.failures = violation.data, violation.failures
    except BudgetSpent:
        pass  # state holds the smallest failing example seen, if any
    if progress is not None:
        _progress(state, started, progress)
        progress.write("\n")
    return state.examples, state.found, list(state.failures)


def _own_checks(pilots: Memo[Pilot], drawn: dict, aims: list[dict], data: dict) -> list | None:
    """The checks of the run of `data` when its pilot was that run: it ran to its end and
    placed none of the aimed faults (they aimed at requests the bot never made)."""
    if not aims or data != drawn:
        return None
    pilot = pilots.get(drawn)
    return None if pilot is None else pilot.checks


@contextmanager
def _strategies_alone() -> Iterator[None]:
    """Hypothesis draws about one integer in twenty from constants it parses out of every "local"
    module the process has imported (anything outside site-packages: the checkout in an editable
    install, a user's bot file, pytest's test modules). Which modules those are depends on the
    process, so the same seed explored different scenarios in `clobsim explore`, under pytest and
    in a wheel install. The search draws from its strategies (and Hypothesis' fixed constants)
    alone. Hypothesis releases without the feature have nothing to turn off."""
    from hypothesis.internal.conjecture import providers  # noqa: PLC0415

    local = getattr(providers, "_get_local_constants", None)
    constants = getattr(providers, "Constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if local is None or constants is None or cache is None:
        yield
        return
    cache.cache.clear()  # pools made with the process's local constants
    providers._get_local_constants = constants  # type: ignore[attr-defined]  # an empty pool
    try:
        yield
    finally:
        providers._get_local_constants = local  # type: ignore[attr-defined]
        cache.cache.clear()


# The pilots and verdicts a search remembers (the latest). Nearly every repeat of a pilot comes
# within four examples of it; a verdict is a few kilobytes, and repeats come from further back.
PILOTS_KEPT = 4
VERDICTS_KEPT = 1024


def violations(data: dict, bot: str, mode: str, checks: list | None = None) -> list:
    """The invariants the bot breaks on a scenario (`checks`: those of its run, if made already).
    For a zoo variant a break counts only if core keeps every invariant on the same scenario:
    the finding (and the shrunk scenario) is then the variant's bug, never a fault core fails too."""
    scenario = from_dict(data)
    if checks is None:
        checks = _checks(scenario, mode, bot)
    broken = [c for c in checks if c.kind == "invariant" and not c.passed]
    if (
        broken
        and bot != "core"
        and any(c.kind == "invariant" and not c.passed for c in _checks(scenario, mode, "core"))
    ):
        return []
    return broken


def _checks(scenario: Scenario, mode: str, bot: str) -> list:
    result = run(scenario, mode=mode, bot=bot)
    result.release()  # only the verdict is kept
    return result.checks


def write_regression(violation: InvariantViolation, *, bot: str, seed: int, out: str, searches: int = 1) -> str:
    data = dict(violation.data)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]
    invariant = violation.failures[0].id
    data["name"] = f"{bot_slug(bot)}-{invariant}-{digest}"
    if isinstance(bot, str):
        how = f"clobsim explore --bot {bot} --seed {seed}" + (f" --workers {searches}" if searches > 1 else "")
    else:
        how = f"clob_sim.explore(bot={bot_name(bot)}, seed={seed})"
    data["description"] = (
        f"Found by `{how}`: {invariant} failed ({violation.failures[0].message}). Minimal case after shrinking."
    )
    ordered = {
        key: data[key]
        for key in ("name", "description", "seed", "market", "bot", "trades", "events", "faults")
        if key in data and data[key] not in ([], None)
    }
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"{data['name']}.yaml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"# {violation.failures[0].id}: " + "; ".join(violation.failures[0].evidence)[:300] + "\n")
        yaml.safe_dump(ordered, handle, sort_keys=False, allow_unicode=True, default_flow_style=None, width=110)
    return path
