"""The timeline picture of one scenario (matplotlib, Agg, byte-reproducible PNG).

One lane per bot order from its placement to its terminal status (or the end of the run), its
fills marked (a void fill, whose trade FAILED, as a red cross); placements the venue refused; the
faults that fired; and the audit lines at their simulated time, one lane per family (trade /
scale-in, exit, reconciliation, notification), coloured by level. Fault windows (a `from`/`to`,
an engine restart's 425 and post-only phases, a stale read, a crashed bot's downtime) are shaded
across the whole picture; point faults (`at`) are dashed lines.

Reproducible bytes: a Figure of fixed size and dpi drawn on the Agg canvas (no pyplot, no global
state), matplotlib's default style whatever the user's matplotlibrc says, fixed margins instead
of a layout engine, and PNG metadata without the "Software" entry (Agg writes no timestamp).
"""

from __future__ import annotations

import io

import matplotlib.style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from clobsim.sim.faults import CATALOGUE
from clobsim.sim.faults import names as fault_names
from clobsim.sim.tools.metrics import Scenario

WIDTH_IN = 12.0
DPI = 100
LANE_IN = 0.34
AUDIT_FAMILIES = [
    ("trade", "audit: trade / scale-in"),
    ("exit", "audit: exit"),
    ("recon", "audit: reconciliation"),
    ("notif", "audit: notifications"),
]
LEVEL_COLOURS = {"INFO": "#4c72b0", "WARNING": "#dd8452", "ERROR": "#c44e52", "CRITICAL": "#c44e52"}
ROLE_COLOURS = {"scale-in": "#55a868", "exit": "#8172b3"}
_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#c7c7c7",
    "#dbdb8d",
    "#9edae5",
]


def fault_colour(kind: str) -> str:
    known = fault_names()
    index = known.index(kind) if kind in known else len(known)
    return _PALETTE[index % len(_PALETTE)]


def _family(kind: str) -> str:
    if kind.startswith(("scale_in.", "trade.")):
        return "trade"
    if kind.startswith("exit."):
        return "exit"
    if kind.startswith("notif."):
        return "notif"
    return "recon"


def fault_windows(scenario: Scenario) -> list[tuple[float, float, str, str]]:
    """(start, end, kind, phase) spans to shade, from the scenario's fault list."""
    horizon = scenario.horizon
    spans = []
    for fault in (scenario.record.get("scenario_data") or {}).get("faults") or []:
        kind = str(fault.get("kind"))
        defaults = CATALOGUE[kind].defaults if kind in CATALOGUE else {}
        if "from" in fault or "to" in fault or kind in ("latency", "balance_lag") or kind.startswith("notification_"):
            spans.append((float(fault.get("from", 0)), float(fault.get("to", horizon)), kind, ""))
        elif kind == "engine_restart":
            at, down = float(fault["at"]), float(fault.get("duration", defaults.get("duration")))
            spans.append((at, at + down, kind, "425"))
            spans.append(
                (
                    at + down,
                    at + down + float(fault.get("post_only_for", defaults.get("post_only_for"))),
                    kind,
                    "post-only",
                )
            )
        elif kind == "stale_read" and "at" in fault:
            spans.append(
                (
                    float(fault["at"]),
                    float(fault["at"]) + float(fault.get("duration", defaults.get("duration"))),
                    kind,
                    "",
                )
            )
        elif kind == "bot_crash":
            spans.append(
                (
                    float(fault["at"]),
                    float(fault["at"]) + float(fault.get("restart_after", defaults.get("restart_after"))),
                    kind,
                    "",
                )
            )
    return spans


def fault_points(scenario: Scenario) -> list[tuple[float, str]]:
    points = []
    for fault in (scenario.record.get("scenario_data") or {}).get("faults") or []:
        kind = str(fault.get("kind"))
        if "at" in fault and kind not in ("engine_restart", "stale_read", "bot_crash"):
            points.append((float(fault["at"]), kind))
    return points


def _label(lane) -> str:
    oid = lane.order_id
    short = f"{oid[:6]}…{oid[-4:]}" if len(oid) > 12 else oid
    return f"{lane.trade} {lane.role} {lane.side} {float(lane.size):.2f}@{lane.price} {short}"


def render_png(scenario: Scenario) -> bytes:
    """The timeline of one scenario as PNG bytes (the same input gives the same bytes)."""
    lanes = list(scenario.lanes)
    rows: list[str] = [_label(lane) for lane in lanes]
    if scenario.rejections:
        rows.append("placements refused")
    rows.append("faults fired")
    rows.extend(label for _, label in AUDIT_FAMILIES)
    y = {index: len(rows) - 1 - index for index in range(len(rows))}  # first row at the top
    height = 1.9 + LANE_IN * len(rows)
    with matplotlib.style.context("default"):
        figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        FigureCanvasAgg(figure)
        left, right = 3.0 / WIDTH_IN, 1 - 0.25 / WIDTH_IN
        bottom, top = 0.95 / height, 1 - 0.4 / height
        figure.subplots_adjust(left=left, right=right, bottom=bottom, top=top)
        ax = figure.add_subplot(1, 1, 1)
        _draw(ax, scenario, lanes, rows, y)
        handles = _legend_handles(scenario)
        figure.legend(
            handles=handles,
            loc="lower center",
            ncol=min(6, len(handles)),
            fontsize=7.5,
            frameon=False,
            bbox_to_anchor=(0.5, 0.0),
        )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _draw(ax, scenario: Scenario, lanes, rows, y) -> None:
    horizon = scenario.horizon
    for start, end, kind, phase in fault_windows(scenario):
        ax.axvspan(
            max(0.0, start),
            min(horizon, end),
            color=fault_colour(kind),
            alpha=0.10 if phase == "post-only" else 0.2,
            linewidth=0,
            zorder=0,
        )
    for at, kind in fault_points(scenario):
        ax.axvline(at, color=fault_colour(kind), linestyle="--", linewidth=1.0, zorder=1)
    ax.axvline(scenario.window_length, color="#333333", linestyle=":", linewidth=1.0, zorder=1)
    ax.text(
        scenario.window_length + horizon * 0.004, len(rows) - 0.45, "window end", fontsize=7, va="top", color="#333333"
    )
    for index, lane in enumerate(lanes):
        end = lane.ended if lane.ended is not None else horizon
        ax.hlines(
            y[index],
            lane.placed,
            max(end, lane.placed + 0.5),
            colors=ROLE_COLOURS.get(lane.role, "#777777"),
            linewidth=7,
            zorder=2,
        )
        ax.text(
            max(end, lane.placed + 0.5) + horizon * 0.012,
            y[index],
            lane.status if lane.ended is not None else "still live",
            fontsize=7,
            va="center",
            color="#333333",
            zorder=4,
        )
        good = [t for t, _, void in lane.fills if not void]
        void = [t for t, _, is_void in lane.fills if is_void]
        if good:
            ax.plot(good, [y[index]] * len(good), linestyle="none", marker="D", markersize=5, color="black", zorder=3)
        if void:
            ax.plot(void, [y[index]] * len(void), linestyle="none", marker="X", markersize=8, color="#c44e52", zorder=3)
    row = len(lanes)
    if scenario.rejections:
        times = [t for t, _ in scenario.rejections]
        ax.plot(times, [y[row]] * len(times), linestyle="none", marker="x", markersize=6, color="#c44e52", zorder=3)
        row += 1
    for kind in sorted({k for _, k, _ in scenario.faults_fired}):
        times = [t for t, k, _ in scenario.faults_fired if k == kind]
        ax.plot(
            times, [y[row]] * len(times), linestyle="none", marker="v", markersize=6, color=fault_colour(kind), zorder=3
        )
    row += 1
    for offset, (family, _) in enumerate(AUDIT_FAMILIES):
        for level, colour in LEVEL_COLOURS.items():
            times = [
                e["t"] for e in scenario.audit if _family(str(e.get("kind"))) == family and e.get("level") == level
            ]
            if times:
                ax.plot(
                    times,
                    [y[row + offset]] * len(times),
                    linestyle="none",
                    marker="|",
                    markersize=11,
                    markeredgewidth=1.2,
                    color=colour,
                    zorder=3,
                )
    ax.set_yticks([y[i] for i in range(len(rows))], rows, fontsize=7.5)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(0, horizon)
    ax.set_xlabel("simulated seconds from the window start", fontsize=8)
    ax.tick_params(axis="x", labelsize=7.5)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    record = scenario.record
    ax.set_title(
        f"{scenario.name}: {record['verdict'].upper()}  (seed {record['seed']}, {record['mode']} mode, "
        f"bot {record['bot']})",
        fontsize=9.5,
        loc="left",
    )


def _legend_handles(scenario: Scenario) -> list:
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=ROLE_COLOURS["scale-in"], linewidth=6, label="scale-in order (BUY)"),
        Line2D([], [], color=ROLE_COLOURS["exit"], linewidth=6, label="exit order (SELL)"),
        Line2D([], [], linestyle="none", marker="D", markersize=5, color="black", label="fill"),
    ]
    if any(void for lane in scenario.lanes for *_, void in lane.fills):
        handles.append(Line2D([], [], linestyle="none", marker="X", markersize=7, color="#c44e52", label="void fill"))
    if scenario.rejections:
        handles.append(
            Line2D([], [], linestyle="none", marker="x", markersize=6, color="#c44e52", label="placement refused")
        )
    for level in ("INFO", "WARNING", "ERROR"):
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="|",
                markersize=10,
                markeredgewidth=1.2,
                color=LEVEL_COLOURS[level],
                label=f"audit {level}",
            )
        )
    kinds = sorted(
        {k for _, k, _ in scenario.faults_fired}
        | {k for *_, k, _ in fault_windows(scenario)}
        | {k for _, k in fault_points(scenario)},
        key=lambda k: (fault_names().index(k) if k in fault_names() else 99, k),
    )
    for kind in kinds:
        handles.append(Patch(facecolor=fault_colour(kind), alpha=0.5, label=f"fault: {kind}"))
    return handles
