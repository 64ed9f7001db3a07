"""clobsim.sim.tools.samerun: fast and wire run folders compared byte for byte, the mode field aside."""

from __future__ import annotations

from pathlib import Path

from clobsim.sim.tools.samerun import main

BEGIN = '{"type":"harness","action":"begin","seed":1,"mode":"%s","protocol":"v2"}\n'
EVENT = '{"type":"venue","event":"order_placed","fields":{"note":"\\"mode\\":\\"fast\\""}}\n'


def folder(root: Path, mode: str, audit: str = "placed 0xa\n", event: str = EVENT) -> Path:
    scenario = root / mode / "quiet"
    scenario.mkdir(parents=True)
    (scenario / "audit.log").write_text(audit)
    (scenario / "audit.jsonl").write_text('{"msg":"placed"}\n')
    (scenario / "trace.jsonl").write_text(BEGIN % mode + event)
    return root / mode


def test_runs_that_differ_only_in_the_mode_field_agree(tmp_path, capsys):
    assert main([str(folder(tmp_path, "fast")), str(folder(tmp_path, "wire"))]) == 0
    assert capsys.readouterr().out == "1 of 1 scenarios agree byte for byte\n"


def test_a_different_audit_line_is_named_and_fails(tmp_path, capsys):
    fast, wire = folder(tmp_path, "fast"), folder(tmp_path, "wire", audit="placed 0xb\n")
    assert main([str(fast), str(wire)]) == 1
    assert capsys.readouterr().out == "quiet/audit.log: differs\n0 of 1 scenarios agree byte for byte\n"


def test_a_mode_text_past_the_begin_record_still_counts(tmp_path, capsys):
    fast = folder(tmp_path, "fast")
    wire = folder(tmp_path, "wire", event=EVENT.replace("fast", "wire"))
    assert main([str(fast), str(wire)]) == 1
    assert "quiet/trace.jsonl: differs beyond the mode field" in capsys.readouterr().out


def test_a_missing_folder_exits_2_naming_it(tmp_path, capsys):
    assert main([str(folder(tmp_path, "fast")), str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope'}: not a run folder\n"
