"""Choosing the CLOB protocol and the client: scenario field, --protocol, and bad names."""

from __future__ import annotations

import json
import os

import pytest

from clobsim.sim.checks import run
from clobsim.sim.runner.scenario import from_dict
from clobsim.sim.tools.cli import main

from .test_cli import QUIET, scenario


def test_an_unknown_protocol_in_a_scenario_exits_2_naming_the_field_and_the_value(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(QUIET.format(name="bad", extra="").replace("market:\n", "market:\n  protocol: v3\n"))
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "market.protocol: must be one of v1, v2; got 'v3'" in err


def test_an_unknown_protocol_on_the_command_line_exits_2_naming_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["run", str(scenario(tmp_path)), "--protocol", "v9"])
    assert exited.value.code == 2
    assert "--protocol: invalid choice: 'v9'" in capsys.readouterr().err


def test_an_unknown_client_in_the_bot_config_exits_2_naming_it(tmp_path, capsys):
    path = scenario(tmp_path, extra="bot: {clob_client: py-clob-client-v9}\n")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "clob_client: must be one of py-clob-client-v2, py-clob-client; got 'py-clob-client-v9'" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_fast_and_wire_write_the_same_audit_log_and_trace_under_each_protocol(tmp_path, protocol):
    data = __import__("yaml").safe_load(QUIET.format(name="quiet", extra=""))
    s = from_dict(data)
    fast = run(s, mode="fast", protocol=protocol)
    wire = run(s, mode="wire", protocol=protocol)
    assert fast.passed and wire.passed
    assert fast.audit_log() == wire.audit_log()
    assert fast.trace_jsonl().replace('"mode":"fast"', '"mode":"wire"', 1) == wire.trace_jsonl()
    orders = [r for r in wire.trace if r["type"] == "request" and r["route"] == "POST /order"]
    assert orders, "the scenario places orders"
    versions = [r for r in wire.trace if r["type"] == "request" and r["route"] == "GET /version"]
    assert len(versions) == (1 if protocol == "v2" else 0)  # py-clob-client-v2 asks once and caches it


@pytest.mark.parametrize(
    ("file_says", "override", "recorded", "suffix"),
    [
        ("", None, "v2", ""),  # the default protocol: nothing to name
        ("", "v1", "v1", " --protocol v1"),  # overridden: the file alone would run v2
        ("  protocol: v1\n", None, "v1", ""),  # the file says v1 itself
        ("  protocol: v1\n", "v2", "v2", " --protocol v2"),
    ],
)
def test_the_reproduce_command_names_the_protocol_exactly_when_the_scenario_file_alone_would_not_give_it(
    tmp_path, capsys, file_says, override, recorded, suffix
):
    path = tmp_path / "quiet.yaml"
    path.write_text(QUIET.format(name="quiet", extra="").replace("market:\n", "market:\n" + file_says))
    out = tmp_path / "out"
    assert (
        main(["run", str(path), "--seed", "3", "--out", str(out)] + (["--protocol", override] if override else [])) == 0
    )
    record = json.loads((out / "quiet" / "result.json").read_text())
    reproduce_out = os.path.join("reports", "reproduce", "quiet")
    assert record["reproduce"] == f"clobsim run {path} --seed 3 --mode fast --bot core{suffix} --out {reproduce_out}"
    assert record.get("protocol", "v1") == recorded  # a v1 record keeps its pre-protocol fields
    assert json.loads((out / "run.json").read_text())["protocol"] == override


def _quiet(tmp_path, market_extra: str = "", expect_extra: str = ""):
    path = tmp_path / "quiet.yaml"
    text = QUIET.format(name="quiet", extra=expect_extra).replace("market:\n", "market:\n" + market_extra)
    path.write_text(text)
    return path


def test_a_v2_tick_size_is_accepted_under_v2_and_a_v1_scenario_naming_it_exits_2(tmp_path, capsys):
    path = _quiet(tmp_path, '  tick_size: "0.005"\n  protocol: v1\n')
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"clobsim: error: {path}: market.tick_size: 0.005 is a CLOB V2 tick size; under protocol v1 it must be one"
        " of 0.1, 0.01, 0.001, 0.0001\n"
    )
    assert from_dict(__import__("yaml").safe_load(path.read_text().replace("protocol: v1", "protocol: v2")))


def test_protocol_v1_on_the_command_line_refuses_a_scenario_with_a_v2_tick_size(tmp_path, capsys):
    path = _quiet(tmp_path, '  tick_size: "0.0025"\n')
    assert main(["run", str(path), "--protocol", "v1", "--out", str(tmp_path / "out")]) == 2
    assert "market.tick_size: 0.0025 is a CLOB V2 tick size; under protocol v1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_a_fee_rate_finer_than_a_basis_point_exits_2_naming_the_field(tmp_path, capsys):
    path = _quiet(tmp_path, "  fee_rate: 0.00005\n")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "market.fee_rate: 0.00005 is finer than a basis point (0.0001)" in capsys.readouterr().err


def test_a_per_protocol_expectation_with_a_bad_pattern_exits_2_naming_its_path(tmp_path, capsys):
    path = _quiet(tmp_path, expect_extra="  protocols:\n    v2:\n      audit_absent: ['(unclosed']\n")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "expect.protocols.v2.audit_absent[0]: not a valid regular expression" in capsys.readouterr().err


def test_expectations_for_one_protocol_replace_the_shared_ones_only_under_it():
    data = __import__("yaml").safe_load(QUIET.format(name="quiet", extra=""))
    data["expect"]["protocols"] = {"v1": {"counts": {"SCALE-IN.*CANCELLED": 7}}}
    s = from_dict(data)
    assert s.expectations("v1")["counts"] == {"SCALE-IN.*CANCELLED": 7}
    assert s.expectations("v1")["audit_in_order"] == data["expect"]["audit_in_order"]
    assert s.expectations("v2") == {k: v for k, v in data["expect"].items() if k != "protocols"}
    under_v1, under_v2 = run(s, protocol="v1"), run(s, protocol="v2")
    assert under_v2.passed
    (failed,) = [c for c in under_v1.checks if not c.passed]
    assert (failed.id, failed.message) == (
        "expect.counts",
        "pattern 'SCALE-IN.*CANCELLED': expected 7 line(s), found 1",
    )
