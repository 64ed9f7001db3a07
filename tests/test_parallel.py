"""--workers: `clobsim run` and `clobsim explore` on worker processes give the serial results."""

from __future__ import annotations

import os
import shutil

import pytest

from clobsim.sim.explore.search import explore, split_examples, sub_seed
from clobsim.sim.runner.pool import WorkerPool, map_ordered
from clobsim.sim.tools import cli

LIBRARY = os.path.join(os.path.dirname(__file__), os.pardir, "scenarios")
SCENARIOS = [
    "day-in-the-life-scale-in-fills-in-pieces.yaml",
    "cancel-race-fill-before-cancel.yaml",
    "bot-crash-during-scale-in-cancel.yaml",
]


def _run_folder(folder: str) -> dict[str, bytes]:
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                files[os.path.relpath(path, folder)] = handle.read()
    return files


@pytest.mark.processes
def test_run_with_two_workers_writes_the_same_files_and_prints_the_same_table_as_a_serial_run(
    tmp_path, monkeypatch, capsys
):
    os.makedirs(tmp_path / "scenarios")
    for name in SCENARIOS:
        shutil.copy(os.path.join(LIBRARY, name), tmp_path / "scenarios" / name)
    monkeypatch.chdir(tmp_path)  # relative paths, as a user types them: recorded in result.json
    printed = {}
    for workers in ("1", "2"):
        code = cli.main(["run", "scenarios", "--out", f"out-{workers}", "--workers", workers])
        printed[workers] = capsys.readouterr().out.replace(f"out-{workers}", "OUT")
        assert code == 0
    serial, parallel = _run_folder("out-1"), _run_folder("out-2")
    assert sorted(serial) == sorted(parallel)
    assert {name.split(os.sep)[-1] for name in serial} >= {
        "result.json",
        "audit.log",
        "trace.jsonl",
        "audit.jsonl",
        "ledger.sqlite",
    }
    for name in serial:
        if name.endswith(("result.json", "audit.log", "audit.jsonl", "trace.jsonl")):
            assert serial[name] == parallel[name], name
    assert printed["1"] == printed["2"]
    assert printed["1"].index("day-in-the-life") > printed["1"].index("cancel-race")  # file order kept


@pytest.mark.slow
@pytest.mark.processes
def test_explore_on_two_workers_finds_what_the_same_sub_searches_find_one_after_another(tmp_path, capsys):
    # blind-repost, seed 1, 8 examples as 2 sub-searches of 4: found and shrunk in a few seconds
    code = cli.main(
        [
            "explore",
            "--bot",
            "blind-repost",
            "--seed",
            "1",
            "--examples",
            "8",
            "--workers",
            "2",
            "--out",
            str(tmp_path / "parallel"),
        ]
    )
    printed = capsys.readouterr().out
    serial = explore(
        bot="blind-repost", seed=1, examples=8, searches=2, workers=1, out=str(tmp_path / "serial"), progress=None
    )
    assert serial.path is not None, "pick a seed that finds the variant quickly"
    assert code == 1
    found = os.listdir(tmp_path / "parallel")
    assert found == [os.path.basename(serial.path)]
    with open(tmp_path / "parallel" / found[0], "rb") as a, open(serial.path, "rb") as b:
        assert a.read() == b.read()
    assert f"found and shrunk in {serial.examples} runs" in printed
    assert f"invariant violated: {serial.failures[0].id}: {serial.failures[0].message}" in printed
    assert "--workers 2" in open(serial.path, encoding="utf-8").read()  # the search that found it


def test_one_sub_search_is_the_plain_seeded_search():
    assert sub_seed(7, 0) == 7 and sub_seed(7, 1) != sub_seed(7, 2) != 7
    assert sub_seed(7, 1) == sub_seed(7, 1)
    assert split_examples(200, 1) == [200]
    assert split_examples(10, 3) == [4, 3, 3] and sum(split_examples(10, 4)) == 10
    assert split_examples(None, 2) == [None, None]


def test_a_search_with_no_finding_counts_every_run_of_every_sub_search(tmp_path):
    state = explore(bot="core", seed=1, examples=4, searches=2, workers=2, out=str(tmp_path), progress=None)
    assert state.path is None and state.examples == 4 and state.searches == 2


def test_parallel_map_keeps_job_order_and_raises_a_job_error():
    assert map_ordered(str.upper, ["a", "b", "c", "d"], workers=2) == ["A", "B", "C", "D"]
    with pytest.raises(ValueError):
        map_ordered(int, ["1", "not a number"], workers=2)
    with pytest.raises(ValueError):
        map_ordered(str.upper, ["a"], workers=0)


def _pid_and_job(job: int) -> tuple[int, int]:
    return os.getpid(), job


@pytest.mark.processes
def test_a_warm_pool_serves_several_maps_in_job_order_from_the_same_worker_processes():
    with WorkerPool(2) as pool:
        pool.warm()
        first = pool.map(_pid_and_job, range(10))  # 8 chunks (4 a worker) of 1 or 2 jobs
        second = pool.map(_pid_and_job, [10, 11, 12])
    assert [job for _, job in first + second] == list(range(13))
    workers = {pid for pid, _ in first + second}
    assert len(workers) <= 2 and os.getpid() not in workers


@pytest.mark.parametrize("command", [["run", "scenarios"], ["explore"], ["bench"]])
@pytest.mark.parametrize("workers", ["0", "-3"])
def test_workers_below_one_is_bad_input_with_one_message(command, workers, capsys):
    assert cli.main([*command, "--workers", workers]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"clobsim: error: --workers: must be a positive number of processes, got {workers}"
    ]
