"""The regression suite: every scenario file (scenarios/ and scenarios/regressions/) is a test.

All run in fast mode; a representative subset also runs in wire mode, through the real
ClobClient over the in-process transport.
"""

from __future__ import annotations

import os

import pytest

from clobsim import sim
from clobsim.sim.runner.scenario import discover

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = discover([os.path.join(ROOT, "scenarios")])
WIRE_SUBSET = [
    "scale-in-immediate-fill",
    "cancel-race-fill-before-cancel",
    "timeout-after-apply-no-duplicate",
    "engine-restart-425-then-post-only",
    "bot-crash-during-scale-in-cancel",
    "latency-spikes-and-html-403",
]


def _id(path: str) -> str:
    return os.path.relpath(path, os.path.join(ROOT, "scenarios"))


def explain(result) -> str:
    lines = [f"{result.scenario.name}: {len(result.failures)} failed check(s)"]
    for check in result.failures:
        lines.append(f"  {check.id}: {check.message}")
        lines.extend(f"    {item}" for item in check.evidence)
    return "\n".join(lines)


def test_the_library_has_every_audit_sample_situation_and_failure_mode():
    names = {os.path.splitext(os.path.basename(f))[0] for f in FILES}
    assert len([f for f in FILES if "regressions" not in f]) >= 15
    assert {
        "scale-in-immediate-fill",
        "scale-in-delayed-fill",
        "race-detected-skips-cancellation",
        "inconclusive-verification-after-cancel",
        "five-notifications-in-one-batch",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_scenario_passes_in_fast_mode(path):
    result = sim.run(sim.load(path), mode="fast")
    assert result.passed, explain(result)
    assert len(result.checks) >= 7  # the invariants ran, whatever the scenario expects


@pytest.mark.parametrize("name", WIRE_SUBSET)
def test_scenario_passes_in_wire_mode_with_the_same_audit_log(name):
    path = os.path.join(ROOT, "scenarios", f"{name}.yaml")
    scenario = sim.load(path)
    wire = sim.run(scenario, mode="wire")
    assert wire.passed, explain(wire)
    assert wire.audit_log(0) == sim.run(scenario, mode="fast").audit_log(0)
