"""`clobsim report` and `clobsim run --report`: report.md and report.html against the run's own files.

A small run (three library scenarios copied to a temporary folder) is made once per module; the
tests read its result.json files, audit logs and traces independently and compare them with the
tables of report.md, check that the same run gives the same bytes, that bad input exits 2 with one
message, and that report.html renders in headless Chromium (no console errors, pictures drawn).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys

import pytest

from clobsim.sim.tools.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = ["cancel-race-fill-before-cancel", "ghost-fill-trade-failed", "timeout-before-apply-declared-not-placed"]
GREPS = ["SCALE-IN.*FILLED", "SCALE-IN.*CANCELLED", "RACE CONDITION.*DETECTED", "SCALE-IN.*FAILED", "RECONCILIATION"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    folder = base / "scenarios"
    folder.mkdir()
    for name in SCENARIOS:
        shutil.copy(os.path.join(ROOT, "scenarios", f"{name}.yaml"), folder / f"{name}.yaml")
    out = base / "run"
    assert main(["run", str(folder), "--out", str(out), "--report"]) == 0
    return out


@pytest.fixture(scope="module")
def report_md(run_dir):
    return (run_dir / "report.md").read_text(encoding="utf-8")


def section(markdown: str, title: str) -> str:
    """The text of one `## title` section."""
    match = re.search(rf"^## (?:<a id=\"[^\"]+\"></a>)?{re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


def table(text: str) -> list[dict[str, str]]:
    """The first GitHub table in `text`, as dicts keyed by header."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            lines.append(line)
        elif lines:
            break
    split = [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
    headers, rows = split[0], split[2:]
    return [dict(zip(headers, row, strict=True)) for row in rows]


def result(run_dir, name: str) -> dict:
    return json.loads((run_dir / name / "result.json").read_text(encoding="utf-8"))


def scenario_cell(cell: str) -> str:
    match = re.fullmatch(r"\[([^\]]+)\]\(#[^)]+\)", cell)
    return match.group(1) if match else cell


def test_run_with_report_writes_report_md_report_html_and_a_timeline_per_scenario(run_dir, report_md):
    assert (run_dir / "report.html").stat().st_size > 0
    assert report_md.startswith("# clobsim report\n")
    for name in SCENARIOS:
        png = (run_dir / name / "timeline.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert f"![timeline of {name}]({name}/timeline.png)" in report_md
    headings = re.findall(r"^## (.+)$", report_md, re.M)
    assert headings[0] == "Alerts", "alerts come first"
    assert headings[:6] == [
        "Alerts",
        "Scenarios",
        "Monitoring counts",
        "Performance metrics",
        "Failure patterns",
        "Scenario details",
    ]


def test_the_scenario_table_equals_the_result_json_of_every_scenario(run_dir, report_md):
    rows = {scenario_cell(row["scenario"]): row for row in table(section(report_md, "Scenarios"))}
    assert list(rows) == SCENARIOS
    for name in SCENARIOS:
        record, row = result(run_dir, name), rows[name]
        assert row["verdict"] == record["verdict"].upper()
        assert int(row["seed"]) == record["seed"]
        assert row["mode"] == record["mode"]
        assert float(row["sim s"]) == pytest.approx(record["simulated_seconds"])
        assert int(row["orders"]) == record["orders"]
        assert int(row["fills"]) == record["fills"]
        assert int(row["faults"]) == len(record["faults"])
        assert int(row["fired"]) == record["faults_fired"]
        failed = [c["id"] for c in record["checks"] if not c["passed"]]
        assert row["failed checks"] == (", ".join(dict.fromkeys(failed)) or "-")


def test_the_monitoring_counts_equal_grep_c_over_each_audit_log(run_dir, report_md):
    rows = table(section(report_md, "Monitoring counts"))
    by_name = {row["scenario"]: list(row.values())[1:] for row in rows}
    totals = [0] * len(GREPS)
    for name in SCENARIOS:
        log = run_dir / name / "audit.log"
        for index, pattern in enumerate(GREPS):
            grep = subprocess.run(["grep", "-c", pattern, str(log)], capture_output=True, text=True)
            assert int(by_name[name][index]) == int(grep.stdout), (name, pattern)
            totals[index] += int(grep.stdout)
    assert [int(v) for v in by_name["**all scenarios**"]] == totals
    assert by_name["cancel-race-fill-before-cancel"][2] == "1"  # the race the scenario is about
    assert by_name["timeout-before-apply-declared-not-placed"][3] == "1"  # the failed placement


def test_time_to_fill_and_cancel_latency_are_measured_from_the_audit_twin(run_dir, report_md):
    events = [
        json.loads(line)
        for line in (run_dir / "cancel-race-fill-before-cancel" / "audit.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    placed = next(e["t"] for e in events if e["kind"] == "scale_in.placement")
    filled = next(e["t"] for e in events if e["kind"].startswith("scale_in.filled"))
    starts = {e["fields"]["order_id"]: e["t"] for e in events if e["kind"] == "recon.safe_cancel_start"}
    latencies = [
        round(e["t"] - starts[e["fields"]["order_id"]], 3) for e in events if e["kind"] == "recon.safe_cancel_done"
    ]
    text = section(report_md, "Performance metrics")
    per_scenario = table(text[text.index("| scenario") :])
    row = next(r for r in per_scenario if r["scenario"] == "cancel-race-fill-before-cancel")
    assert row["time to fill s"] == f"{filled - placed:.3f}"
    assert row["scale-ins"] == "1" and row["filled"] == "1" and row["fill rate"] == "100.0%"
    assert int(row["safe cancels"]) == len(starts) and int(row["complete"]) == len(latencies)
    assert row["cancel latency s (median)"] == f"{statistics.median(latencies):.3f}"
    never = next(r for r in per_scenario if r["scenario"] == "timeout-before-apply-declared-not-placed")
    assert never["failed"] == "1" and never["fill rate"] == "0.0%"
    run_wide = {r["metric"]: r for r in table(text)}
    assert run_wide["scale-in fill rate (filled / placed)"]["value"] == "66.7% (2/3)"


def test_failure_patterns_count_error_answers_from_the_trace(run_dir, report_md):
    trace = [
        json.loads(line)
        for line in (run_dir / "timeout-before-apply-declared-not-placed" / "trace.jsonl").read_text().splitlines()
    ]
    timeouts = [r for r in trace if r["type"] == "response" and r["status"] is None]
    assert timeouts, "the scenario times out a placement"
    rows = table(section(report_md, "Failure patterns"))
    row = next(r for r in rows if r["pattern"] == "`POST /order: no answer (timeout)`")
    assert row["source"] == "response" and int(row["count"]) == len(timeouts)


def test_every_check_of_every_scenario_is_listed_with_its_result(run_dir, report_md):
    details = section(report_md, "Scenario details")
    for name in SCENARIOS:
        record = result(run_dir, name)
        part = details[details.index(f'<a id="s-{name}"></a>{name}: {record["verdict"].upper()}') :]
        checks = table(part[part.index("**Checks**") :])
        assert [(c["check"], c["result"]) for c in checks] == [
            (c["id"], "pass" if c["passed"] else "FAIL") for c in record["checks"]
        ]
        assert f"Reproduce: `{record['reproduce']}`" in part


def test_the_same_run_gives_the_same_report_bytes_in_another_process(run_dir, tmp_path):
    names = ["report.md", "report.html"] + [f"{name}/timeline.png" for name in SCENARIOS]
    first = {name: (run_dir / name).read_bytes() for name in names}
    assert main(["report", str(run_dir)]) == 0
    assert {name: (run_dir / name).read_bytes() for name in names} == first
    copy = tmp_path / "elsewhere" / "run"
    shutil.copytree(run_dir, copy)
    for name in names:
        (copy / name).unlink()
    env = {**os.environ, "PYTHONPATH": ROOT, "PYTHONHASHSEED": "12345", "MPLCONFIGDIR": str(tmp_path / "mpl")}
    done = subprocess.run(
        [sys.executable, "-m", "clobsim.sim.tools.cli", "report", str(copy)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for name in names:
        assert (copy / name).read_bytes() == first[name], name


def png_chunks(data: bytes) -> list[bytes]:
    chunks, offset = [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        chunks.append(data[offset + 4 : offset + 8])
        offset += 12 + length
    return chunks


def test_the_timeline_png_carries_no_timestamp_or_software_version(run_dir):
    data = (run_dir / SCENARIOS[0] / "timeline.png").read_bytes()
    chunks = png_chunks(data)
    assert b"tIME" not in chunks
    assert b"matplotlib" not in data and b"Software" not in data
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    width = int.from_bytes(data[16:20], "big")
    assert width == 1200  # 12 in at 100 dpi


def test_an_alerts_file_overrides_thresholds_and_its_alerts_come_first(run_dir, tmp_path, capsys):
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text("race_detections_max: 0\nhttp_errors_max: null\ntime_to_fill_max_s: 100\n")
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    assert main(["report", str(out), "--alerts", str(alerts)]) == 0
    assert "alert(s)" in capsys.readouterr().out
    text = (out / "report.md").read_text(encoding="utf-8")
    rows = table(section(text, "Alerts"))
    fired = {(row["rule"], scenario_cell(row["where"])) for row in rows}
    assert ("`race_detections_max`", "cancel-race-fill-before-cancel") in fired
    assert ("`time_to_fill_max_s`", "cancel-race-fill-before-cancel") in fired  # 181.7 s > 100 s
    rules = {row["rule"]: row for row in table(section(text, "Alert rules"))}
    assert rules["`http_errors_max`"]["threshold"] == "off"
    assert rules["`race_detections_max`"]["threshold"] == "0" and rules["`race_detections_max`"]["default"] == "1"
    assert f"thresholds from `{alerts}`" in section(text, "Alerts")


def test_the_default_thresholds_raise_no_alert_on_this_passing_run(report_md):
    assert "No alerts: every figure is within its threshold" in section(report_md, "Alerts")


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    """A zoo variant (check-then-cancel: it reads LIVE, cancels, and drops the fill the cancel
    races) on the library's cancel-race scenario."""
    base = tmp_path_factory.mktemp("failing")
    folder = base / "scenarios"
    folder.mkdir()
    shutil.copy(os.path.join(ROOT, "scenarios", "cancel-race-fill-before-cancel.yaml"), folder)
    out = base / "run"
    assert main(["run", str(folder), "--out", str(out), "--bot", "check-then-cancel", "--report"]) == 1
    return out


def test_a_failing_bot_gets_critical_alerts_and_fail_rows(failing_run):
    text = (failing_run / "report.md").read_text(encoding="utf-8")
    alerts = table(section(text, "Alerts"))
    assert alerts[0]["severity"] == "critical" and alerts[0]["rule"] == "`failed_scenarios_max`"
    row = table(section(text, "Scenarios"))[0]
    assert row["verdict"] == "FAIL" and "ledger-matches-exchange" in row["failed checks"]
    assert "**Evidence** (as `clobsim run` printed it)" in text and "trade #123: ledger position" in text


def test_a_failing_scenario_is_led_by_one_sentence_naming_the_invariant_its_time_and_evidence(failing_run):
    text = (failing_run / "report.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[:2] == ["Why it failed", "Alerts"], "the sentence comes before the alerts"
    # the bot never records the fill that landed during its cancel: the venue's position (10.50
    # after the refused cancel) parts from the ledger's (0.00 after the exit sold) at that fill
    sentence = (
        "`ledger-matches-exchange` broke at 00:10:03.479 (t+603.479s): trade #123: ledger position 0.00, "
        "exchange 10.50 (entry 10.50 + bought 10.50 - sold 10.50); 8 more failed: lifecycle-complete, "
        "exit-covers-position, fill-reaches-ledger, payouts-match-ledger, expect.audit_in_order, "
        "expect.audit_absent, expect.counts, expect.outcomes."
    )
    name = "cancel-race-fill-before-cancel"
    assert section(text, "Why it failed").strip() == f"\u274c **[{name}](#s-{name})**: {sentence}"
    details = section(text, "Scenario details")
    assert details.split("\n\n")[1] == f"**Why it failed**: {sentence}", "the details open with it too"


def test_alerts_of_one_rule_are_one_row_naming_their_scenarios():
    from clobsim.sim.tools.alerts import Alert  # noqa: PLC0415
    from clobsim.sim.tools.report import _alert_rows  # noqa: PLC0415

    alerts = [Alert("critical", "extra_terminal_lines_max", f"s{i}", "2", "0", f"s{i}: 2 extra") for i in range(18)]
    alerts.append(Alert("warning", "http_errors_max", "s3", "30", "25", "30 error answers"))
    rows = _alert_rows(alerts)
    assert [row[1] for row in rows] == ["`extra_terminal_lines_max`", "`http_errors_max`"]
    assert rows[0][2] == "18: [s0](#s-s0), [s1](#s-s1), [s2](#s-s2) and 15 more"
    assert rows[0][3] == "2" and rows[0][5] == "s0: 2 extra (and 17 more)"
    assert rows[1][2] == "[s3](#s-s3)" and rows[1][5] == "30 error answers"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: str(tmp / "nowhere"), "no such folder"),
        (lambda tmp: str(tmp), "not a clobsim run folder (no run.json)"),
    ],
)
def test_a_missing_or_foreign_run_dir_exits_2_with_one_message(tmp_path, capsys, make, message):
    assert main(["report", make(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("clobsim: error: ") and message in err and len(err.strip().splitlines()) == 1


def test_a_run_folder_missing_a_scenario_result_exits_2_naming_the_file(run_dir, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    (out / SCENARIOS[1] / "result.json").unlink()
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{SCENARIOS[1]}: no result.json" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "content, message",
    [
        ("race_detections_max: [1\n", "line 2, column 1: malformed YAML"),
        ('{"no_such_rule": 1}', "no_such_rule: unknown rule"),
        ("http_errors_max: -1\n", "http_errors_max: must be >= 0, got -1"),
        ("cancel_success_rate_min: 2\n", "a rate is between 0 and 1"),
        ("http_errors_max: lots\n", "http_errors_max: must be a number or null, got 'lots'"),
        ("- 1\n- 2\n", "expected a mapping of rule: threshold, got list"),
    ],
)
def test_a_malformed_alerts_file_exits_2_with_one_message(run_dir, tmp_path, capsys, content, message):
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text(content)
    assert main(["report", str(run_dir), "--alerts", str(alerts)]) == 2
    err = capsys.readouterr().err
    assert f"--alerts {alerts}: " in err and message in err and len(err.strip().splitlines()) == 1


def test_a_missing_alerts_file_exits_2(run_dir, tmp_path, capsys):
    assert main(["report", str(run_dir), "--alerts", str(tmp_path / "none.yaml")]) == 2
    assert capsys.readouterr().err.endswith("none.yaml: no such file\n")


# ---- the HTML in a real browser ------------------------------------------------------------


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CLOBSIM_REQUIRE_BROWSER"):
        pytest.fail("chromium is not installed (CI installs it in .ci/run: apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")


def headless(browser: str, profile, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_report_html_renders_in_headless_chromium_with_its_pictures_and_no_console_errors(run_dir, tmp_path):
    browser = chromium()
    url = (run_dir / "report.html").as_uri()
    dom = headless(browser, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "<h1>clobsim report</h1>" in html
    assert "<script" not in html
    assert html.count("<table>") >= 6 + 3 * len(SCENARIOS)
    images = re.findall(r'<img src="(data:image/png;base64,[^"]+)" alt="timeline of ([^"]+)"', html)
    assert [alt for _, alt in images] == SCENARIOS
    assert not re.findall(r"(?:src|href)=\"(?!data:|#)", html), "the page must not load anything from outside"
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    shot = tmp_path / "report.png"
    done = headless(browser, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1400,7000", url)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    from PIL import Image  # noqa: PLC0415 - pillow comes with matplotlib

    with Image.open(shot) as picture:
        assert picture.size == (1400, 7000)
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 22)
    counts = {colour: n for n, colour in colours}
    assert len(counts) > 50, "the page is not blank"
    assert counts.get((0x11, 0x63, 0x29), 0) > 0, "the PASS badges are drawn"
    # the timelines are drawn (not just present in the DOM): their order lanes' colours are on the page
    assert counts.get((0x55, 0xA8, 0x68), 0) > 500, "scale-in lanes (green) of the embedded timelines"
    assert counts.get((0x81, 0x72, 0xB3), 0) > 500, "exit lanes (purple) of the embedded timelines"


def saturated_pixels(path) -> int:
    """Pixels of strong colour (max - min channel > 80): a colour emoji paints many; a missing
    glyph's box (tofu), black text and grey rules paint none."""
    from PIL import Image  # noqa: PLC0415 - pillow comes with matplotlib

    with Image.open(path) as picture:
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 22)
    return sum(n for n, c in colours if max(c) - min(c) > 80)


def changed_rows(one, other) -> int:
    """Rows of pixels that differ between two screenshots of the same size."""
    from PIL import Image, ImageChops  # noqa: PLC0415 - pillow comes with matplotlib

    with Image.open(one) as a, Image.open(other) as b:
        difference = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).convert("L")
        width, height = difference.size
        pixels = difference.load()
        return sum(1 for y in range(height) if any(pixels[x, y] for x in range(0, width, 2)))


def test_a_failing_report_shows_why_and_rendered_emoji_on_its_first_screen_in_chromium(failing_run, tmp_path):
    browser = chromium()
    url = (failing_run / "report.html").as_uri()
    dom = headless(browser, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<code>ledger-matches-exchange</code> broke at 00:10:03.479 (t+603.479s)" in dom.stdout
    first = tmp_path / "first.png"
    done = headless(browser, tmp_path / "profile-first", f"--screenshot={first}", "--window-size=1280,800", url)
    assert done.returncode == 0 and first.exists(), done.stderr[-2000:]
    shutil.copy(first, failing_run / "first-screen.png")  # to look at
    # the same page without its one emoji on the first screen (the failure mark before the
    # sentence): what the emoji adds is its colour, which a box for a missing glyph would not have
    plain = tmp_path / "plain.html"
    html = (failing_run / "report.html").read_text(encoding="utf-8")
    before, why, after = html.partition("<h2>Why it failed</h2>")
    assert why, "the sentence's section is in the page"
    plain.write_text(before + why + after.replace("\u274c ", "", 1), encoding="utf-8")
    bare = tmp_path / "bare.png"
    done = headless(
        browser, tmp_path / "profile-bare", f"--screenshot={bare}", "--window-size=1280,800", plain.as_uri()
    )
    assert done.returncode == 0 and bare.exists(), done.stderr[-2000:]
    added = saturated_pixels(first) - saturated_pixels(bare)
    assert added > 60, f"the failure mark is not drawn as a colour emoji ({added} coloured pixels)"
    # the sentence is on the first screen, not below it: without it the first screen changes
    unsaid = tmp_path / "unsaid.html"
    sentence = re.search(r"(<code>ledger-matches-exchange</code> broke at .*?)</p>", after, re.S)
    assert sentence, "the sentence is in the page"
    unsaid.write_text(before + why + after.replace(sentence.group(1), "", 1), encoding="utf-8")
    without = tmp_path / "without.png"
    done = headless(
        browser, tmp_path / "profile-unsaid", f"--screenshot={without}", "--window-size=1280,800", unsaid.as_uri()
    )
    assert done.returncode == 0 and without.exists(), done.stderr[-2000:]
    assert changed_rows(first, without) > 20, "removing the sentence changes nothing on the first screen"


def test_a_failing_scenario_gets_a_timeline_zoomed_on_its_first_failing_moment(failing_run):
    from clobsim.sim.tools.metrics import load_scenario
    from clobsim.sim.tools.zoom import render_zoom_png, zoom_figure, zoom_window

    name = "cancel-race-fill-before-cancel"
    scenario = load_scenario(str(failing_run / name))
    assert zoom_window(scenario) == (600.479, 603.479, 606.479, "ledger-matches-exchange broke")
    png = (failing_run / name / "timeline-zoom.png").read_bytes()
    assert png.startswith(b"\x89PNG") and png == render_zoom_png(scenario), "the same run gives the same bytes"
    text = (failing_run / "report.md").read_text(encoding="utf-8")
    assert f"![zoomed timeline of {name}]({name}/timeline-zoom.png)" in text
    figure = zoom_figure(scenario)
    events, positions = figure.axes[1], figure.axes[0]
    labels = [t.get_text() for t in events.texts]
    # the read that saw LIVE, the cancel the venue refused, the fill that raced it, the fault
    assert "read LIVE" in labels and "cancel refused" in labels and "fill 10.50" in labels
    assert "cancel_race" in labels and " ledger-matches-exchange broke (t+603.479s)" in labels
    # the position line: the venue holds 10.50 after the raced fill, the ledger 0 (it never counted it)
    lines = {line.get_label(): line for line in positions.get_lines() if not line.get_label().startswith("_")}
    venue, ledger = lines["position at the venue"], lines["position in the ledger"]
    assert list(venue.get_ydata())[-1] == 10.5 and list(ledger.get_ydata())[-1] == 0.0


def test_a_passing_scenario_has_no_zoomed_timeline(run_dir):
    for name in SCENARIOS:
        assert not (run_dir / name / "timeline-zoom.png").exists(), name


def test_request_labels_are_packed_so_that_none_overlaps_another():
    from clobsim.sim.tools.zoom import CHAR_WIDTH, pack

    items = [(0.0, "read LIVE"), (0.05, "read MATCHED"), (0.1, "cancel refused"), (5.0, "read LIVE")]
    levels = pack(items, 0.0, 6.0)
    assert levels == [0, 1, 2, 0]
    for (t1, text1), l1 in zip(items, levels, strict=True):
        for (t2, _), l2 in zip(items, levels, strict=True):
            if l1 == l2 and t1 < t2:
                assert t1 + (len(text1) + 2) * CHAR_WIDTH * 6.0 < t2


def test_a_failure_without_a_named_moment_is_zoomed_on_the_last_expected_line_seen(tmp_path):
    from clobsim.sim.tools.metrics import load_scenario
    from clobsim.sim.tools.zoom import zoom_window

    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(os.path.join(ROOT, "scenarios", "scale-in-cancelled-during-exit.yaml"), folder)
    out = tmp_path / "run"
    assert main(["run", str(folder), "--out", str(out), "--bot", "check-then-cancel", "--report"]) == 1
    name = "scale-in-cancelled-during-exit"
    record = result(out, name)
    (check,) = [c for c in record["checks"] if not c["passed"]]
    assert check["id"] == "expect.audit_in_order"  # it names no moment: the audit line before the missing one does
    last = check["evidence"][0].split("): ", 1)[1]
    audit = [json.loads(line) for line in (out / name / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    begin = next(
        json.loads(line)["t"]
        for line in (out / name / "trace.jsonl").read_text(encoding="utf-8").splitlines()
        if '"action":"begin"' in line
    )
    moment = round(next(e["t"] for e in audit if e["line"] == last) - begin, 6)
    start, at, end, what = zoom_window(load_scenario(str(out / name)))
    assert (at, what) == (pytest.approx(moment), "expect.audit_in_order: the last expected line seen")
    assert (start, end) == (pytest.approx(moment - 3), pytest.approx(moment + 3))
    assert (out / name / "timeline-zoom.png").exists()
