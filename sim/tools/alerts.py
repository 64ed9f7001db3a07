"""Alert rules for unusual patterns in a run (audit-trail.md, "Future Enhancements": alerting).

Each rule compares one figure of sim.metrics with a threshold. The defaults below are set so that, on
the scenario library, the core bot raises warnings only for the library's stress scenarios (an
engine restart, a run of timeouts) and a zoo variant raises critical alerts; `clobsim report --alerts FILE`
overrides any of them with a YAML or JSON mapping `{rule: threshold}` (a rule left out keeps its default; `null` turns
it off). A value above a `_max` threshold, or below a `_min` one, raises the alert.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clobsim.sim.runner.inputs import InputError, clip, load_yaml, shorten
from clobsim.sim.tools.errors import UsageError
from clobsim.sim.tools.metrics import Run, Scenario, cancel_success, rate, scale_in_fill_rate


@dataclass(frozen=True)
class Rule:
    name: str
    default: float | None
    severity: str  # critical | warning
    scope: str  # run | scenario | event
    meaning: str


RULES: list[Rule] = [
    Rule(
        "failed_scenarios_max",
        0,
        "critical",
        "run",
        "scenarios whose verdict is FAIL (an invariant or expectation failed)",
    ),
    Rule("task_errors_max", 0, "critical", "scenario", "`Task ... error` lines: an exception escaped a bot task"),
    Rule(
        "extra_terminal_lines_max",
        0,
        "critical",
        "scenario",
        "terminal scale-in lines (FILLED + CANCELLED + FAILED greps) beyond one per scale-in placement: "
        "a fill or cancel reported twice",
    ),
    Rule("scale_in_fill_rate_min", 0.25, "warning", "run", "scale-in orders that filled / scale-in placements"),
    Rule(
        "cancel_success_rate_min",
        0.75,
        "warning",
        "run",
        "safe cancellations verified complete / started (inconclusive or cut short do not count)",
    ),
    Rule("time_to_fill_max_s", 300, "warning", "event", "seconds from a scale-in's PLACEMENT line to its FILLED line"),
    Rule(
        "cancel_latency_max_s",
        10,
        "warning",
        "event",
        "seconds from `Starting safe cancellation` to `Safe cancellation complete`",
    ),
    Rule("race_detections_max", 1, "warning", "scenario", "`RACE CONDITION.*DETECTED` lines in one scenario"),
    Rule("failed_placements_max", 1, "warning", "scenario", "`SCALE-IN.*FAILED` lines in one scenario"),
    Rule("reconciliation_interventions_max", 50, "warning", "scenario", "`RECONCILIATION` lines in one scenario"),
    Rule(
        "inconclusive_verifications_max",
        3,
        "warning",
        "scenario",
        "cancellations whose verification stayed inconclusive, in one scenario",
    ),
    Rule(
        "http_errors_max",
        25,
        "warning",
        "scenario",
        "error answers (status >= 400) and timeouts from the venue, in one scenario",
    ),
    Rule(
        "silent_faults_max",
        0,
        "warning",
        "scenario",
        "faults of the scenario that never fired (the scenario tests nothing with them; `run --strict` fails)",
    ),
]
RULES_BY_NAME = {rule.name: rule for rule in RULES}
DEFAULTS: dict[str, float | None] = {rule.name: rule.default for rule in RULES}


@dataclass(frozen=True)
class Alert:
    severity: str
    rule: str
    where: str
    value: str
    threshold: str
    detail: str


def load_thresholds(path: str | None) -> dict[str, float | None]:
    """The defaults, overridden by the YAML/JSON mapping in `path`; bad input raises UsageError."""
    thresholds = dict(DEFAULTS)
    if path is None:
        return thresholds
    try:
        data = load_yaml(path)  # the caps of sim.runner.inputs: no alias bomb, no duplicate key
    except InputError as exc:
        raise UsageError(f"--alerts {path}: {exc}") from None
    if data is None:
        return thresholds
    if not isinstance(data, dict):
        raise UsageError(f"--alerts {path}: expected a mapping of rule: threshold, got {type(data).__name__}")
    for key, value in data.items():
        if key not in RULES_BY_NAME:
            raise UsageError(f"--alerts {path}: {clip(str(key))}: unknown rule; known rules: {', '.join(DEFAULTS)}")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise UsageError(f"--alerts {path}: {key}: must be a number or null, got {shorten(value)}")
        if value is not None and not math.isfinite(value):
            raise UsageError(f"--alerts {path}: {key}: must be a finite number, got {value}")
        if value is not None and value < 0:
            raise UsageError(f"--alerts {path}: {key}: must be >= 0, got {value}")
        if value is not None and key.endswith("_rate_min") and value > 1:
            raise UsageError(f"--alerts {path}: {key}: a rate is between 0 and 1, got {value}")
        thresholds[key] = value
    return thresholds


def show(value: Any) -> str:
    if value is None:
        return "off"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def evaluate(run: Run, thresholds: dict[str, float | None]) -> list[Alert]:
    """Every alert the run raises: critical first, then in rule order, then in scenario order."""
    alerts: list[Alert] = []

    def over(rule: str, where: str, value: float, detail: str, render: Callable[[float], str] = show) -> None:
        limit = thresholds.get(rule)
        if limit is None:
            return
        below = rule.endswith("_min")
        if (value < limit) if below else (value > limit):
            alerts.append(Alert(RULES_BY_NAME[rule].severity, rule, where, render(value), render(limit), detail))

    failed = run.failed
    names = ", ".join(s.name for s in failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
    over("failed_scenarios_max", "run", len(failed), f"failed: {names}" if failed else "")
    filled, placed = scale_in_fill_rate(run.scenarios)
    if placed:
        over("scale_in_fill_rate_min", "run", filled / placed, f"{filled} of {placed} scale-in orders filled", percent)
    complete, started = cancel_success(run.scenarios)
    success = rate(complete, started)  # None when none started
    if success is not None:
        over(
            "cancel_success_rate_min",
            "run",
            success,
            f"{complete} of {started} safe cancellations verified complete",
            percent,
        )
    for scenario in run.scenarios:
        _scenario_alerts(scenario, over)
    order = {rule.name: index for index, rule in enumerate(RULES)}
    severity = {"critical": 0, "warning": 1}
    return sorted(alerts, key=lambda a: (severity[a.severity], order[a.rule]))  # stable: scenario order kept


def _scenario_alerts(scenario: Scenario, over) -> None:
    name = scenario.name
    silent = scenario.record.get("faults_silent") or []
    over("silent_faults_max", name, len(silent), f"never fired: {', '.join(silent)}")
    over("task_errors_max", name, scenario.count("bot.task_error"), "an exception escaped a bot task")
    greps = scenario.greps
    terminal = greps["scale-in fills"] + greps["scale-in cancellations"] + greps["failed placements"]
    placements = scenario.count("scale_in.placement")
    over(
        "extra_terminal_lines_max",
        name,
        max(0, terminal - placements),
        f"{terminal} terminal scale-in lines for {placements} placement(s)",
    )
    for item in scenario.scale_ins:
        if item.time_to_fill is not None:
            over(
                "time_to_fill_max_s",
                name,
                item.time_to_fill,
                f"trade {item.trade} scale-in {item.order_id or ''} placed at t+{item.placed:.3f}s".strip(),
            )
    for cancel in scenario.cancels:
        if cancel.latency is not None:
            over(
                "cancel_latency_max_s",
                name,
                cancel.latency,
                f"[{cancel.label}] {cancel.order_id} from t+{cancel.started:.3f}s",
            )
    over("race_detections_max", name, greps["race preventions"], "RACE CONDITION.*DETECTED lines")
    over("failed_placements_max", name, greps["failed placements"], "SCALE-IN.*FAILED lines")
    over("reconciliation_interventions_max", name, greps["reconciliation interventions"], "RECONCILIATION lines")
    inconclusive = sum(1 for c in scenario.cancels if c.outcome == "inconclusive")
    over("inconclusive_verifications_max", name, inconclusive, "safe cancellations left unverified")
    answers = sorted(
        ((count, pattern) for (source, pattern), count in scenario.failures.items() if source == "response"),
        key=lambda item: (-item[0], item[1]),
    )
    over(
        "http_errors_max",
        name,
        scenario.http_errors,
        f"most frequent: {answers[0][1]} ({answers[0][0]}x)" if answers else "error answers and timeouts",
    )
