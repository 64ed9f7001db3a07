"""`clobsim bench`: its figures and their structure. Speed itself is measured by the bench, never
asserted by a test (these check keys, positive numbers and the comparability of the baseline)."""

from __future__ import annotations

import json

import pytest

from clobsim.sim.runner.harness import run
from clobsim.sim.tools import bench as bench_module
from clobsim.sim.tools import cli
from clobsim.sim.tools.bench import bare_script, bench, render, run_bare, workload

RATIOS = [
    "fast_sim_per_wall",
    "fast_checked_sim_per_wall",
    "wire_sim_per_wall",
    "fast_over_bare",
    "fast_checked_over_bare",
    "wire_over_fast",
    "explore_examples_per_second",
    "parallel_speedup",
    "parallel_efficiency",
]


pytestmark = pytest.mark.processes  # the bench's parallel figure starts a worker pool


@pytest.fixture(scope="module")
def report():
    return bench(repeat=1, explore_examples=2, memory_examples=4, trade_counts=(2, 8), parallel_runs=2, workers=2)


def test_bench_reports_every_ratio_as_a_positive_number(report):
    assert set(report) >= {"machine", "workload", "seconds", "ratios", "goals", "explore", "parallel", "memory"}
    assert set(report["ratios"]) == set(RATIOS)
    assert all(isinstance(v, float) and v > 0 for v in report["ratios"].values())
    assert all(v > 0 for v in report["seconds"].values())
    assert set(report["seconds"]) == {"bare_window", "fast_window", "fast_window_checked", "wire_window"}
    assert all(isinstance(v, bool) for v in report["goals"].values())
    assert report["machine"]["cpus"] >= 1 and report["machine"]["python"]
    assert report["workload"]["simulated_seconds"] == 1050 and report["workload"]["passed"]
    assert report["parallel"]["workers"] == 2 and report["parallel"]["identical"]
    assert report["explore"]["examples"] == 2
    json.dumps(report)  # the --json form


def test_bench_reports_the_per_trade_cost_at_each_size_and_memory_over_exploration(report):
    scaling = report["trade_scaling"]
    assert list(scaling["per_trade_seconds"]) == ["2", "8"]
    assert all(v > 0 for v in scaling["per_trade_seconds"].values())
    per_trade = list(scaling["per_trade_seconds"].values())
    assert scaling["largest_over_smallest"] == per_trade[-1] / per_trade[0]
    memory = report["memory"]
    assert memory["examples"] == 4 and memory["step"] == 1
    assert len(memory["rss_mb"]) == 5 and all(x is None or x > 0 for x in memory["rss_mb"])
    assert set(report["goals"]) >= {
        "fast_over_bare_at_most_1.3",
        "fast_sim_per_wall_at_least_15000",
        "explore_at_least_25_per_second",
        "per_trade_cost_flat_within_1.5",
        "memory_flat",
        "parallel_speedup_at_least_1.7",
    }


def test_bench_command_prints_the_ratios_and_the_json(report, monkeypatch, capsys):
    asked = {}

    def measured(**options):
        asked.update(options)
        return report

    monkeypatch.setattr(bench_module, "bench", measured)
    assert cli.main(["bench", "--workers", "3", "--repeat", "2"]) == 0
    text = capsys.readouterr().out
    assert asked["workers"] == 3 and asked["repeat"] == 2 and asked["memory_examples"] == 2000
    for label in (
        "fast mode",
        "with the checks",
        "wire mode",
        "bare",
        "fast / bare",
        "wire / fast",
        "explore",
        "parallel",
        "per-trade cost",
        "memory",
        "x real time",
        report["machine"]["cpu"],
    ):
        assert label in text
    assert text.strip() == render(report)
    assert cli.main(["bench", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(report))


def test_bench_rejects_a_repeat_below_one(capsys):
    assert cli.main(["bench", "--repeat", "0"]) == 2
    assert capsys.readouterr().err.strip() == "clobsim: error: --repeat: must be a positive number, got 0"


def test_the_bare_baseline_replays_the_fast_runs_window_cycle_for_cycle_and_sweep_for_sweep():
    scenario = workload()
    script = bare_script(scenario)
    actions = [a[2][0] for a in script["actions"]]
    assert actions.count("cycle") == script["cycles"] > 150  # one per 5 s over 1050 s, less the latency
    assert actions.count("poll") == script["polls"] > 150
    assert actions.count("sweep") == script["sweeps"] > 150  # the listing task wakes every 5 s too
    assert actions.count("open") == 2 and actions.count("resolve") == 1
    assert script["fills"] >= 2 and "book" in actions
    times = [a[0] for a in script["actions"]]
    assert times == sorted(times)
    fast = run(scenario)
    done = run_bare(scenario, script)
    # the same bot logic saw a similar window: a comparable audit trail and exchange traffic
    assert abs(done["events"] - len(fast.events)) <= 0.2 * len(fast.events)
    requests = sum(1 for r in fast.trace if r["type"] == "request")
    assert abs(done["calls"] - requests) <= 0.2 * requests
