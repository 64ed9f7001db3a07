"""`clobsim sweep`: seeds x scenarios x bots on a Dask LocalCluster give the verdicts of serial runs."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from clobsim.sim.runner.scenario import from_dict, load
from clobsim.sim.tools import cli
from clobsim.sim.tools.sweep import chunked, sweep, verdicts
from clobsim.sim.tools.sweepfolder import parse_seeds

LIBRARY = os.path.join(os.path.dirname(__file__), os.pardir, "scenarios")
NAMES = ["scale-in-immediate-fill.yaml", "cancel-race-fill-before-cancel.yaml"]
BOTS = ["core", "double-count"]  # the zoo variant fails the library: the sweep has both verdicts


@pytest.fixture(scope="module")
def scenarios():
    return [load(os.path.join(LIBRARY, name)) for name in NAMES]


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    # worker processes, one thread each: the shape the CLI's help asks of a real cluster
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as local:
        yield local


@pytest.fixture(scope="module")
def serial(scenarios):
    return sweep(scenarios, seeds=[1, 2], bots=BOTS)


def test_a_sweep_on_a_dask_cluster_gives_every_case_the_verdict_and_bytes_of_its_serial_run(scenarios, cluster, serial):
    on_cluster = sweep(scenarios, seeds=[1, 2], bots=BOTS, scheduler=cluster.scheduler_address)
    assert on_cluster["where"] == f"dask {cluster.scheduler_address}"
    assert verdicts(on_cluster) == verdicts(serial)
    assert [(r["scenario"], r["seed"], r["bot"]) for r in serial["records"]] == [
        (name, seed, bot)
        for name in ("scale-in-immediate-fill", "cancel-race-fill-before-cancel")
        for seed in (1, 2)
        for bot in BOTS
    ]
    assert serial["by_bot"]["core"] == {"pass": 4, "fail": 0}
    assert serial["by_bot"]["double-count"]["fail"] >= 2


# A thousand short cases: a two-minute window (resolution 5 s later, then the 120 s of settlement)
# with taker flow on a random walk, a cancel race and a lost notification; 250 seeds x core and
# three zoo variants, so both verdicts occur and each case's market differs.
SHORT_RACE = {
    "name": "short-cancel-race",
    "description": "tests/test_sweep.py: a short window for a thousand-case sweep",
    "seed": 1,
    "market": {
        "window_length": 120,
        "resolution_delay": 5,
        "price_model": {"kind": "random_walk", "start": 0.80, "depth": 50, "volatility": 0.01},
        "taker_flow": {"rate": 0.2},
    },
    "trades": [{"id": 1, "at": 5, "side": "UP", "price": 0.80, "size": 10.5, "confidence": 0.85}],
    "events": [{"at": 60, "kind": "take", "token": "UP", "side": "BUY", "size": 210.5, "price": 0.99}],
    "faults": [
        {"kind": "cancel_race", "trade": 1, "order": "scale-in"},
        {"kind": "notification_drop", "from": 60, "to": 80},
    ],
}
THOUSAND_BOTS = ["core", "check-then-cancel", "double-count", "drop-cancelled-partial"]


@pytest.mark.slow
@pytest.mark.processes
def test_a_thousand_case_sweep_on_a_dask_cluster_gives_every_case_the_verdict_and_bytes_of_its_serial_run(cluster):
    short = from_dict(SHORT_RACE, "<tests/test_sweep.py: SHORT_RACE>")
    seeds = list(range(1, 251))
    serial = sweep([short], seeds=seeds, bots=THOUSAND_BOTS)
    on_cluster = sweep([short], seeds=seeds, bots=THOUSAND_BOTS, scheduler=cluster.scheduler_address)
    assert serial["cases"] == on_cluster["cases"] == 1000
    assert verdicts(on_cluster) == verdicts(serial)
    assert serial["by_bot"]["core"] == {"pass": 250, "fail": 0}
    for bot in THOUSAND_BOTS[1:]:  # each variant is caught on some seeds and not on others
        assert 0 < serial["by_bot"][bot]["fail"] < 250, (bot, serial["by_bot"][bot])
    assert len({r["trace_sha256"] for r in serial["records"] if r["bot"] == "core"}) == 250


@pytest.mark.processes
def test_a_sweep_on_local_worker_processes_gives_the_serial_verdicts(scenarios, serial):
    assert verdicts(sweep(scenarios, seeds=[1, 2], bots=BOTS, workers=2)) == verdicts(serial)


def test_the_sweep_command_writes_a_summary_a_report_and_each_failing_case_as_a_scenario_that_reproduces_it(
    cluster, tmp_path, capsys
):
    out = tmp_path / "sweep"
    paths = [os.path.join(LIBRARY, name) for name in NAMES]
    code = cli.main(
        [
            "sweep",
            *paths,
            "--seed-range",
            "3:3",
            "--bots",
            "core,double-count",
            "--scheduler",
            cluster.scheduler_address,
            "--out",
            str(out),
        ]
    )
    assert code == 1  # double-count fails
    summary = json.loads((out / "sweep.json").read_text())
    assert (summary["cases"], summary["seeds"], summary["bots"]) == (4, [3], BOTS)
    failing = sorted(os.listdir(out / "failing"))
    assert failing == sorted(
        f"{r['scenario']}-seed3-double-count.yaml" for r in summary["records"] if r["verdict"] == "fail"
    )
    assert failing and "| double-count |" in (out / "report.md").read_text()
    case = out / "failing" / failing[0]
    data = yaml.safe_load(case.read_text())
    assert data["seed"] == 3 and data["name"] == failing[0][: -len(".yaml")]
    capsys.readouterr()
    assert cli.main(["run", str(case), "--bot", "double-count", "--out", str(tmp_path / "rerun")]) == 1
    assert cli.main(["run", str(case), "--bot", "core", "--out", str(tmp_path / "rerun")]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seed-range", "5:2"], "--seed-range: expected A:B with 0 <= A <= B, got '5:2'"),
        (["--seed-range", "x"], "--seed-range: expected A:B (two integers), got 'x'"),
        (["--seeds", "0"], "--seeds: must be a positive number, got 0"),
        (["--bots", "nobody"], "--bots: "),
        (["--scheduler", "localhost:8786"], "--scheduler: expected a Dask scheduler address"),
    ],
)
def test_bad_sweep_options_exit_2_with_one_message(argv, message, tmp_path, capsys):
    code = cli.main(["sweep", os.path.join(LIBRARY, NAMES[0]), "--out", str(tmp_path / "o"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"clobsim: error: {message}") and err.count("\n") == 1


def test_an_unreachable_scheduler_exits_2_naming_it(tmp_path, capsys):
    code = cli.main(
        ["sweep", os.path.join(LIBRARY, NAMES[0]), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("clobsim: error: --scheduler tcp://127.0.0.1:9: cannot reach a Dask scheduler")


def test_chunks_keep_the_case_order_and_seeds_parse_as_documented():
    assert chunked(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert chunked([1], 8) == [[1]]
    assert parse_seeds(None, None) == list(range(1, 11))
    assert parse_seeds(3, None) == [1, 2, 3] and parse_seeds(None, "4:6") == [4, 5, 6]
