"""`clobsim report RUN_DIR`: the run's report as report.md and a self-contained report.html.

Both files are rendered from ONE list of blocks (headings, paragraphs, tables, pictures), so they
say the same thing: alerts first, then per scenario the verdict, seed, mode, simulated duration,
orders, fills and faults; the audit trail's monitoring counts (the spec's greps); the performance
metrics and failure patterns (sim.metrics); and per scenario its faults, every check with its
evidence, its orders and the timeline picture (sim.timeline, written as RUN_DIR/<name>/timeline.png;
report.html embeds the PNGs as data: URIs, carries no script and, by its Content-Security-Policy,
loads nothing from outside). Tables are rendered by tabulate (GitHub Markdown / HTML).

Reproducible: the same run folder (and thresholds) gives the same bytes of report.md, report.html
and the PNGs: no wall-clock time, no absolute path, every collection in a fixed order.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tabulate import tabulate

from clobsim.sim.tools.alerts import RULES, Alert, evaluate, load_thresholds, percent, show
from clobsim.sim.tools.metrics import (
    GREPS,
    Run,
    Scenario,
    cancel_success,
    clock,
    load_run,
    rate,
    scale_in_fill_rate,
    spread,
    why_failed,
)
from clobsim.sim.tools.timeline import render_png
from clobsim.sim.tools.zoom import render_zoom_png, zoom_window
from clobsim.sim.trace import fires_per_fault

# the audit trail's own mark for a failure (core/audit.py), so the report reads like the log
FAILED_MARK = "\u274c"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
TIMELINE = "timeline.png"
TIMELINE_ZOOM = "timeline-zoom.png"  # a failing scenario's first failing moment +- a few seconds


# ---- the document model: blocks rendered to Markdown and HTML -----------------------------


@dataclass
class Heading:
    level: int
    text: str
    anchor: str | None = None


@dataclass
class Para:
    text: str


@dataclass
class Code:
    text: str


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Any]]  # a cell is text, or (text, css class) for HTML
    align: str = ""  # per column: l or r (default l)


@dataclass
class Image:
    path: str  # relative to the run folder
    alt: str
    png: bytes


@dataclass
class Report:
    md: str
    html: str
    run: Run
    alerts: list[Alert]
    pictures: dict[str, bytes]


def anchor(name: str) -> str:
    return "s-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _cell_text(cell: Any) -> str:
    return str(cell[0] if isinstance(cell, tuple) else cell)


def _md_cell(cell: Any) -> str:
    return " ".join(_cell_text(cell).split()).replace("|", "\\|")


_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\((#[A-Za-z0-9._-]+)\)")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _inline_html(text: str) -> str:
    """The few inline marks the report writes: `code`, **bold**, [text](#anchor)."""
    out, last = [], 0
    for match in _CODE.finditer(text):
        out.append(_marks(text[last : match.start()]))
        out.append(f"<code>{html.escape(match.group(1))}</code>")
        last = match.end()
    out.append(_marks(text[last:]))
    return "".join(out)


def _marks(text: str) -> str:
    text = html.escape(text, quote=False)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    return _LINK.sub(r'<a href="\2">\1</a>', text)


def _align(table: Table) -> list[str]:
    return [("right" if (table.align[i : i + 1] == "r") else "left") for i in range(len(table.headers))]


def render_md(blocks: list) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, Heading):
            target = f'<a id="{block.anchor}"></a>' if block.anchor else ""
            parts.append(f"{'#' * block.level} {target}{block.text}")
        elif isinstance(block, Para):
            parts.append(block.text)
        elif isinstance(block, Code):
            parts.append(f"```\n{block.text}\n```")
        elif isinstance(block, Table):
            rows = [[_md_cell(c) for c in row] for row in block.rows]
            parts.append(
                tabulate(
                    rows,
                    headers=[_md_cell(h) for h in block.headers],
                    tablefmt="github",
                    colalign=_align(block),
                    disable_numparse=True,
                )
            )
        elif isinstance(block, Image):
            parts.append(f"![{block.alt}]({block.path})")
    return "\n\n".join(parts) + "\n"


CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif, "Noto Color Emoji", "Apple Color Emoji",
       "Segoe UI Emoji"; margin: 24px auto; max-width: 1280px;
       padding: 0 16px; color: #1f2328; line-height: 1.45; }
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: 6px; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 36px; }
h3 { margin-top: 28px; }
table { border-collapse: collapse; margin: 10px 0 18px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; }
th { background: #f6f8fa; text-align: left; }
tr:nth-child(even) td { background: #fbfcfd; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace, "Noto Color Emoji",
            "Apple Color Emoji", "Segoe UI Emoji"; font-size: 12px; }
code { background: #f6f8fa; padding: 1px 4px; border-radius: 4px; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; white-space: pre-wrap; }
img { max-width: 100%; height: auto; border: 1px solid #d0d7de; }
.pass { color: #116329; font-weight: 600; }
.fail, .critical { color: #b42318; font-weight: 600; }
.warning { color: #9a6700; font-weight: 600; }
"""


def render_html(blocks: list, title: str) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">",
        f"<title>{html.escape(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
    ]
    for block in blocks:
        if isinstance(block, Heading):
            ident = f' id="{block.anchor}"' if block.anchor else ""
            parts.append(f"<h{block.level}{ident}>{_inline_html(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            parts.append(f"<p>{_inline_html(block.text)}</p>")
        elif isinstance(block, Code):
            parts.append(f"<pre>{html.escape(block.text)}</pre>")
        elif isinstance(block, Table):
            rows = [[_html_cell(c) for c in row] for row in block.rows]
            parts.append(
                tabulate(
                    rows,
                    headers=[_inline_html(h) for h in block.headers],
                    tablefmt="unsafehtml",
                    colalign=_align(block),
                    disable_numparse=True,
                )
            )
        elif isinstance(block, Image):
            data = base64.b64encode(block.png).decode("ascii")
            parts.append(f'<p><img src="data:image/png;base64,{data}" alt="{html.escape(block.alt)}"></p>')
    parts.extend(["</body>", "</html>"])
    return "\n".join(parts) + "\n"


def _html_cell(cell: Any) -> str:
    if isinstance(cell, tuple):
        text, css = cell
        return f'<span class="{css}">{_inline_html(str(text))}</span>'
    return _inline_html(str(cell))


# ---- the content ---------------------------------------------------------------------------


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def verdict_cell(verdict: str) -> tuple[str, str]:
    return (verdict.upper(), "pass" if verdict == "pass" else "fail")


def build(run: Run, alerts: list[Alert], thresholds: dict, alerts_source: str | None) -> tuple[list, dict]:
    blocks: list = []
    pictures: dict[str, bytes] = {}
    meta = run.meta
    failed = run.failed
    seed = "seeds from the scenario files" if meta.get("seed") is None else f"seed {meta['seed']} for every scenario"
    paths = ", ".join(f"`{p}`" for p in meta.get("paths") or []) or "-"
    blocks += [
        Heading(1, "clobsim report"),
        Para(
            f"Run folder `{os.path.basename(os.path.normpath(run.folder))}`: {len(run.scenarios)} scenarios, "
            f"**{len(run.scenarios) - len(failed)} passed, {len(failed)} failed** ({meta.get('mode', '?')} mode, "
            f"bot {meta.get('bot', '?')}, {seed}; paths: {paths})."
        ),
        Para(
            "Read from `run.json` and, per scenario, `result.json`, `audit.log`, `audit.jsonl` and `trace.jsonl`. "
            "Times are simulated seconds from the window start (`t+...s`)."
        ),
    ]
    blocks += _why_section(run)
    blocks += _alerts_section(alerts, alerts_source)
    blocks += _scenarios_section(run)
    blocks += _counts_section(run)
    blocks += _metrics_section(run)
    blocks += _failures_section(run)
    blocks.append(Heading(2, "Scenario details"))
    for scenario in run.scenarios:
        blocks += _detail_section(scenario, pictures)
    blocks += _rules_section(thresholds, alerts_source)
    return blocks, pictures


def why_sentence(scenario: Scenario) -> str | None:
    """One sentence: what broke, when (simulated clock and t+), the key evidence, what else failed."""
    failure = why_failed(scenario)
    if failure is None:
        return None
    when = (
        "by the end of the run" if failure.t is None else f"broke at {clock(scenario, failure.t)} (t+{failure.t:.3f}s)"
    )
    also = f"; {len(failure.others)} more failed: {', '.join(failure.others)}" if failure.others else ""
    evidence = failure.evidence.rstrip(".")
    return f"`{failure.check}` {when}: {evidence}{also}."


def _why_section(run: Run) -> list:
    sentences = [(s, why_sentence(s)) for s in run.scenarios]
    failed = [(s, text) for s, text in sentences if text is not None]
    if not failed:
        return []
    return [Heading(2, "Why it failed")] + [
        Para(f"{FAILED_MARK} **[{s.name}](#{anchor(s.name)})**: {text}") for s, text in failed
    ]


def _alerts_section(alerts: list[Alert], source: str | None) -> list:
    critical = sum(1 for a in alerts if a.severity == "critical")
    where = f"thresholds from `{source}`" if source else "default thresholds"
    blocks: list = [Heading(2, "Alerts")]
    if not alerts:
        blocks.append(
            Para(f"No alerts: every figure is within its threshold ({where}; see [Alert rules](#alert-rules)).")
        )
        return blocks
    blocks.append(
        Para(
            f"**{len(alerts)} alert(s): {critical} critical, {len(alerts) - critical} warning(s)** "
            f"({where}; see [Alert rules](#alert-rules))."
        )
    )
    blocks.append(Table(["severity", "rule", "where", "value", "threshold", "detail"], _alert_rows(alerts), "lllrrl"))
    return blocks


def _alert_rows(alerts: list[Alert]) -> list:
    """One row per rule: a rule firing in 18 scenarios is one row naming them, not 18 rows."""
    groups: dict[str, list[Alert]] = {}
    for alert in alerts:
        groups.setdefault(alert.rule, []).append(alert)
    rows = []
    for rule, group in groups.items():
        first = group[0]
        places = list(dict.fromkeys(a.where for a in group))
        links = [p if p == "run" else f"[{p}](#{anchor(p)})" for p in places]
        where = links[0] if len(links) == 1 else f"{len(links)}: " + ", ".join(links[:3])
        where += f" and {len(links) - 3} more" if len(links) > 3 else ""
        values = list(dict.fromkeys(a.value for a in group))
        value = values[0] if len(values) == 1 else f"{len(group)} values, first {values[0]}"
        detail = first.detail + (f" (and {len(group) - 1} more)" if len(group) > 1 else "")
        rows.append([(first.severity, first.severity), f"`{rule}`", where, value, first.threshold, detail])
    return rows


def _scenarios_section(run: Run) -> list:
    rows = []
    for s in run.scenarios:
        r = s.record
        failed = list(dict.fromkeys(c["id"] for c in r["checks"] if not c["passed"]))
        rows.append(
            [
                f"[{s.name}](#{anchor(s.name)})",
                verdict_cell(r["verdict"]),
                r["seed"],
                r["mode"],
                f"{float(r['simulated_seconds']):.0f}",
                r["orders"],
                r["fills"],
                len(r["faults"]),
                ", ".join(dict.fromkeys(r["faults"])) or "-",
                r.get("faults_fired", "-"),
                ", ".join(failed) or "-",
            ]
        )
    return [
        Heading(2, "Scenarios"),
        Para(
            "One row per scenario, in run order: verdict, seed, mode, simulated duration (s), the bot's orders "
            "and fills at the venue, the faults injected (count and kinds) and fired, and the checks that failed."
        ),
        Table(
            [
                "scenario",
                "verdict",
                "seed",
                "mode",
                "sim s",
                "orders",
                "fills",
                "faults",
                "fault kinds",
                "fired",
                "failed checks",
            ],
            rows,
            "llrlrrrrlrl",
        ),
    ]


def _counts_section(run: Run) -> list:
    rows = [[s.name] + [s.greps[label] for label, _ in GREPS] for s in run.scenarios]
    rows.append(["**all scenarios**"] + [sum(s.greps[label] for s in run.scenarios) for label, _ in GREPS])
    return [
        Heading(2, "Monitoring counts"),
        Para(
            'The audit-trail spec\'s "Log Analysis Tips" counts: each pattern applied to every line of the '
            "scenario's `audit.log`, as `grep -c PATTERN audit.log` counts them."
        ),
        Table(["scenario"] + [f"{label} `{pattern}`" for label, pattern in GREPS], rows, "lrrrrr"),
    ]


def _metrics_section(run: Run) -> list:
    scenarios = run.scenarios
    filled, placed = scale_in_fill_rate(scenarios)
    complete, started = cancel_success(scenarios)
    inconclusive = sum(1 for s in scenarios for c in s.cancels if c.outcome == "inconclusive")
    unfinished = sum(1 for s in scenarios for c in s.cancels if c.outcome == "unfinished")
    answers: Counter = Counter()
    for s in scenarios:
        answers.update(s.cancel_answers)
    errors = sum(s.cancel_errors for s in scenarios)

    def spread_row(name: str, values: list[float]) -> list:
        d = spread(values)
        return [name, "-", d["n"], seconds(d["min"]), seconds(d["median"]), seconds(d["max"])]

    rows = [
        spread_row("time to fill (s): scale-in PLACEMENT -> FILLED", [v for s in scenarios for v in s.times_to_fill]),
        spread_row(
            "cancel latency (s), scale-in orders",
            [c.latency for s in scenarios for c in s.cancels if c.latency is not None and c.label == "scale-in"],
        ),
        spread_row(
            "cancel latency (s), exit orders",
            [c.latency for s in scenarios for c in s.cancels if c.latency is not None and c.label == "exit"],
        ),
        [
            "scale-in fill rate (filled / placed)",
            f"{percent(rate(filled, placed))} ({filled}/{placed})",
            placed,
            "-",
            "-",
            "-",
        ],
        [
            "cancellation success (verified complete / started)",
            f"{percent(rate(complete, started))} ({complete}/{started}; {inconclusive} inconclusive, "
            f"{unfinished} cut short)",
            started,
            "-",
            "-",
            "-",
        ],
        [
            "cancel answers: canceled / not canceled / request errors",
            f"{answers.get('canceled', 0)} / {answers.get('not canceled', 0)} / {errors}",
            answers.get("canceled", 0) + answers.get("not canceled", 0) + errors,
            "-",
            "-",
            "-",
        ],
    ]
    per = []
    for s in scenarios:
        outcomes = s.outcomes()
        placed_here = sum(1 for i in s.scale_ins if i.placed is not None)
        filled_here = sum(1 for i in s.scale_ins if i.placed is not None and i.outcome == "filled")
        latency = spread(s.cancel_latencies)
        ttf = spread(s.times_to_fill)
        per.append(
            [
                s.name,
                placed_here,
                outcomes.get("filled", 0),
                outcomes.get("cancelled", 0) + outcomes.get("cancelled by venue", 0),
                outcomes.get("failed", 0) + outcomes.get("not placed", 0),
                outcomes.get("open", 0),
                percent(rate(filled_here, placed_here)),
                seconds(ttf["max"]),
                len(s.cancels),
                sum(1 for c in s.cancels if c.outcome == "complete"),
                sum(1 for c in s.cancels if c.outcome == "inconclusive"),
                sum(1 for c in s.cancels if c.outcome == "unfinished"),
                seconds(latency["median"]),
                seconds(latency["max"]),
            ]
        )
    return [
        Heading(2, "Performance metrics"),
        Para(
            "From the structured audit twin (`audit.jsonl`). Time to fill: a scale-in's `SCALE-IN PLACEMENT` "
            "line to its `SCALE-IN FILLED` line. Cancel latency: `Starting safe cancellation` to `Safe "
            "cancellation complete` for the same order. Fill rate: scale-in orders that filled / placements. "
            "Cancellation success: safe cancellations whose final state was verified / started (an "
            "inconclusive verification or a cancellation cut short by a crash is not a success)."
        ),
        Table(["metric", "value", "n", "min", "median", "max"], rows, "llrrrr"),
        Table(
            [
                "scenario",
                "scale-ins",
                "filled",
                "cancelled",
                "failed",
                "open",
                "fill rate",
                "time to fill s",
                "safe cancels",
                "complete",
                "inconclusive",
                "cut short",
                "cancel latency s (median)",
                "(max)",
            ],
            per,
            "lrrrrrrrrrrrrr",
        ),
    ]


def _failures_section(run: Run) -> list:
    totals: dict[tuple[str, str], list] = {}
    for s in run.scenarios:
        for key, count in s.failures.items():
            entry = totals.setdefault(key, [0, []])
            entry[0] += count
            entry[1].append(s.name)
    ordered = sorted(totals.items(), key=lambda item: (item[0][0] != "response", -item[1][0], item[0]))
    rows = []
    for (source, pattern), (count, names) in ordered:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        rows.append([source, f"`{pattern}`", count, f"{len(names)}: {shown}"])
    blocks: list = [
        Heading(2, "Failure patterns"),
        Para(
            "Error answers from the venue (status >= 400, or no answer: a timeout) per route and status, "
            "from `trace.jsonl`; WARNING and ERROR audit lines per kind (with the error kind the line "
            "names), from `audit.jsonl`. Injected faults cause most of them; the alerts above flag "
            "unusual amounts."
        ),
    ]
    blocks.append(
        Table(["source", "pattern", "count", "scenarios"], rows, "llrl")
        if rows
        else Para("No error answers and no WARNING or ERROR audit lines.")
    )
    return blocks


def _fault_rows(scenario: Scenario) -> list:
    faults = (scenario.record.get("scenario_data") or {}).get("faults") or []
    fired = fires_per_fault(faults, scenario.faults_fired)
    rows = []
    for number, fault in enumerate(faults):
        params = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in fault.items() if k != "kind")
        rows.append([number, f"`{fault.get('kind')}`", params or "-", fired[number]])
    return rows


def _detail_section(scenario: Scenario, pictures: dict[str, bytes]) -> list:
    r = scenario.record
    blocks: list = [Heading(3, f"{scenario.name}: {r['verdict'].upper()}", anchor(scenario.name))]
    sentence = why_sentence(scenario)
    if sentence is not None:
        blocks.append(Para(f"**Why it failed**: {sentence}"))
    if r.get("description"):
        blocks.append(Para(" ".join(str(r["description"]).split())))
    blocks.append(
        Para(
            f"File `{r.get('file', '?')}`, seed {r['seed']}, {r['mode']} mode, bot {r['bot']}, "
            f"{float(r['simulated_seconds']):.0f} simulated seconds, {r['orders']} orders, {r['fills']} "
            f"fills, {r.get('audit_lines', '?')} audit events. Reproduce: `{r.get('reproduce', '-')}`"
        )
    )
    faults = _fault_rows(scenario)
    if faults:
        blocks.append(Para("**Faults injected** (fired: trace records of the fault)"))
        blocks.append(Table(["#", "kind", "parameters", "fired"], faults, "rllr"))
    else:
        blocks.append(Para("**Faults injected**: none."))
    blocks.append(Para("**Checks**"))
    blocks.append(
        Table(
            ["check", "kind", "result", "message"],
            [
                [
                    c["id"],
                    c.get("kind", ""),
                    ("pass", "pass") if c["passed"] else ("FAIL", "fail"),
                    c.get("message") or "-",
                ]
                for c in r["checks"]
            ],
            "llll",
        )
    )
    evidence = []
    for check in r["checks"]:
        if not check["passed"]:
            evidence.append(f"{check['id']}: {check.get('message', '')}")
            evidence.extend(f"  {item}" for item in check.get("evidence") or [])
    if evidence:
        blocks.append(Para("**Evidence** (as `clobsim run` printed it)"))
        blocks.append(Code("\n".join(evidence)))
    if scenario.lanes:
        rows = [
            [
                f"`{lane.order_id[:10]}…{lane.order_id[-4:]}`",
                lane.trade,
                lane.role,
                lane.side,
                lane.price,
                lane.size,
                f"t+{lane.placed:.3f}s",
                "-" if lane.ended is None else f"t+{lane.ended:.3f}s",
                lane.status,
                ", ".join(f"{float(size):.2f}{' void' if void else ''} @ t+{t:.3f}s" for t, size, void in lane.fills)
                or "-",
            ]
            for lane in scenario.lanes
        ]
        blocks.append(Para("**Orders** (the bot's orders at the venue)"))
        blocks.append(
            Table(
                ["order", "trade", "role", "side", "price", "size", "placed", "ended", "status", "fills"],
                rows,
                "lllllrllll",
            )
        )
    window = zoom_window(scenario)
    zoom = render_zoom_png(scenario)
    if window is not None and zoom is not None:
        start, moment, end, what = window
        blocks.append(
            Para(
                f"**Zoomed on the anomaly** ({what} at t+{moment:.3f}s; t+{start:.1f}s to t+{end:.1f}s): the "
                "orders and their fills, the bot's requests with what each answer said, the faults that fired, "
                "and the position at the venue against the position in the ledger"
            )
        )
        path = f"{scenario.name}/{TIMELINE_ZOOM}"
        pictures[path] = zoom
        blocks.append(Image(path, f"zoomed timeline of {scenario.name}", zoom))
    png = render_png(scenario)
    path = f"{scenario.name}/{TIMELINE}"
    pictures[path] = png
    blocks.append(Image(path, f"timeline of {scenario.name}", png))
    return blocks


def _rules_section(thresholds: dict, source: str | None) -> list:
    rows = [
        [f"`{rule.name}`", show(thresholds.get(rule.name)), show(rule.default), rule.severity, rule.scope, rule.meaning]
        for rule in RULES
    ]
    where = f"`{source}` overrides the defaults" if source else "defaults"
    return [
        Heading(2, "Alert rules", "alert-rules"),
        Para(
            f"Thresholds in use ({where}; `clobsim report RUN_DIR --alerts FILE` takes a YAML or JSON mapping "
            "`rule: threshold`, `null` turns a rule off). A `_max` rule fires above its threshold, a `_min` "
            "rule below it."
        ),
        Table(["rule", "threshold", "default", "severity", "scope", "meaning"], rows, "lrrlll"),
    ]


# ---- entry point ---------------------------------------------------------------------------


def make_report(folder: str, alerts_path: str | None = None) -> Report:
    thresholds = load_thresholds(alerts_path)
    run = load_run(folder)
    alerts = evaluate(run, thresholds)
    blocks, pictures = build(run, alerts, thresholds, alerts_path)
    return Report(render_md(blocks), render_html(blocks, "clobsim report"), run, alerts, pictures)


def write_reports(folder: str, alerts_path: str | None = None) -> Report:
    """Write report.md, report.html and the timeline PNGs into the run folder."""
    report = make_report(folder, alerts_path)
    for path, png in report.pictures.items():
        with open(os.path.join(folder, path), "wb") as handle:
            handle.write(png)
    for name, text in ((REPORT_MD, report.md), (REPORT_HTML, report.html)):
        with open(os.path.join(folder, name), "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    return report


def summary(report: Report, folder: str) -> str:
    run, alerts = report.run, report.alerts
    critical = sum(1 for a in alerts if a.severity == "critical")
    return (
        f"report: {os.path.join(folder, REPORT_MD)}, {os.path.join(folder, REPORT_HTML)} "
        f"({len(run.scenarios)} scenarios, {len(run.failed)} failed; {len(alerts)} alert(s), {critical} critical)"
    )
