"""The zoomed timeline of a failing scenario: the seconds around its anomaly.

The whole-window timeline (sim/tools/timeline.py) spans about 1050 s, so a race that plays out
in a few hundred milliseconds is one point on it. This picture spans the anomaly
(sim.tools.metrics.anomaly: the first failing moment a check names, else the last audit line of a
scale-in that never ended, else the last expected line seen) +- ZOOM seconds and labels what
happened there:

- the bot's orders as lanes, each fill a diamond labelled with its size (a void fill a red cross);
- the bot's requests as they reached the venue (labels stacked so none overlaps another), each
  labelled with what the answer said
  (`read LIVE`, `cancel refused`, `place 400`, `read timeout`); a refused cancel or an error answer
  is red: it is usually the other half of the race;
- the faults that fired, labelled with their kind;
- below, the bot's position as the venue has it and as the ledger has it (all trades summed):
  where the two lines part, the ledger lost or double-counted a fill;
- the anomaly itself, a red dashed line saying what it is (`ledger-matches-exchange broke`).

Byte-reproducible as the whole timeline is (Agg, default style, fixed margins, no Software tag).
"""

from __future__ import annotations

import io
from decimal import Decimal

import matplotlib.style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from clobsim.sim.tools.metrics import Scenario, anomaly
from clobsim.sim.tools.timeline import ROLE_COLOURS, fault_colour

ZOOM = 3.0  # seconds shown on each side of the anomaly
WIDTH_IN = 12.0
DPI = 100
CHAR_WIDTH = 0.0062  # a 7-point character, as a fraction of the axes' width (for label packing)
ALARM = "#c44e52"
VENUE_COLOUR, LEDGER_COLOUR = "#222222", "#dd8452"


def _alarming(label: str) -> bool:
    """A request answer worth red: a refused cancel, a timeout, an HTTP error."""
    answer = label.split(" ", 1)[-1]
    return answer in ("refused", "timeout") or answer.isdigit() and int(answer) >= 400


def _position_series(steps: list[tuple[float, Decimal]], start: float, end: float) -> tuple[list, list]:
    """A step line over [start, end]: the position held at `start`, then each change inside."""
    held = [p for t, p in steps if t <= start]
    times, values = [start], [float(held[-1] if held else 0)]
    for t, position in steps:
        if start < t <= end:
            times.append(t)
            values.append(float(position))
    times.append(end)
    values.append(values[-1])
    return times, values


def pack(items: list[tuple[float, str]], start: float, span: float) -> list[int]:
    """A level for each label (x, text) so that no two labels on one level overlap: each goes on
    the lowest level whose last label ends before it starts (items in time order)."""
    ends: list[float] = []
    levels = []
    for t, text in items:
        width = (len(text) + 2) * CHAR_WIDTH * span
        level = next((i for i, end in enumerate(ends) if end < t), len(ends))
        if level == len(ends):
            ends.append(t + width)
        else:
            ends[level] = t + width
        levels.append(level)
    return levels


def zoom_window(scenario: Scenario) -> tuple[float, float, float, str] | None:
    """(start, moment, end, what happened) of the zoom, or None when there is no anomaly to zoom on."""
    found = anomaly(scenario)
    if found is None:
        return None
    moment, what = found
    return max(0.0, moment - ZOOM), moment, min(scenario.horizon, moment + ZOOM), what


def render_zoom_png(scenario: Scenario) -> bytes | None:
    """The zoomed timeline as PNG bytes; None when there is no anomaly to zoom on."""
    with matplotlib.style.context("default"):
        figure = zoom_figure(scenario)
        if figure is None:
            return None
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def zoom_figure(scenario: Scenario) -> Figure | None:
    """The zoomed timeline's figure (its texts are the labels a reader sees); None: nothing to zoom on."""
    window = zoom_window(scenario)
    if window is None:
        return None
    start, moment, end, what = window
    span = end - start
    lanes = [lane for lane in scenario.lanes if lane.placed <= end and (lane.ended is None or lane.ended >= start)]
    rows = [f"{lane.trade} {lane.role} {lane.side} {float(lane.size):.2f}@{lane.price}" for lane in lanes]
    calls = [(t, label) for t, label in scenario.calls if start <= t <= end]
    faults = [(t, kind) for t, kind, _ in scenario.faults_fired if start <= t <= end]
    call_levels, fault_levels = pack(calls, start, span), pack(faults, start, span)
    levels = (max(call_levels, default=0) + 1, max(fault_levels, default=0) + 1)
    units = len(rows) * 1.6 + levels[0] + levels[1] + 1.5  # row heights: a lane holds its fill label too
    events_in, positions_in, gap_in, top_in, bottom_in = 0.3 * units, 1.4, 0.3, 0.75, 0.6
    height = top_in + events_in + gap_in + positions_in + bottom_in
    with matplotlib.style.context("default"):
        figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        FigureCanvasAgg(figure)
        left, width = 2.6 / WIDTH_IN, 1 - 2.9 / WIDTH_IN
        positions = figure.add_axes((left, bottom_in / height, width, positions_in / height))
        events = figure.add_axes(
            (left, (bottom_in + positions_in + gap_in) / height, width, events_in / height), sharex=positions
        )
        _draw_events(events, lanes, rows, (calls, call_levels), (faults, fault_levels), start, end)
        _draw_positions(positions, scenario, start, end)
        for ax in (events, positions):
            ax.axvline(moment, color=ALARM, linestyle="--", linewidth=1.2, zorder=5)
            ax.grid(axis="x", color="#dddddd", linewidth=0.6, zorder=0)
            ax.set_axisbelow(True)
        events.text(
            moment,
            events.get_ylim()[1],
            f" {what} (t+{moment:.3f}s)",
            color=ALARM,
            fontsize=8,
            va="bottom",
            ha="left",
        )
        events.set_title(
            f"{scenario.name}: t+{start:.1f}s to t+{end:.1f}s, around the anomaly",
            fontsize=9.5,
            loc="left",
            pad=14,
        )
        positions.set_xlim(start, end)
        positions.set_xlabel("simulated seconds from the window start", fontsize=8)
        positions.tick_params(axis="x", labelsize=7.5)
        events.tick_params(axis="x", labelbottom=False)
    return figure


def _draw_events(ax, lanes, rows: list[str], calls, faults, start: float, end: float) -> None:
    """Top to bottom: the order lanes, the bot's requests, the faults that fired."""
    span = end - start
    (call_items, call_levels), (fault_items, fault_levels) = calls, faults
    fault_rows = max(fault_levels, default=0) + 1
    call_rows = max(call_levels, default=0) + 1
    faults_base = 0.0
    calls_base = faults_base + fault_rows + 0.5
    lanes_base = calls_base + call_rows + 0.8
    ticks, names = [], []
    for index, lane in enumerate(lanes):
        y = lanes_base + 1.6 * (len(lanes) - 1 - index) + 0.6
        ticks.append(y)
        names.append(rows[index])
        lane_end = lane.ended if lane.ended is not None else end
        colour = ROLE_COLOURS.get(lane.role, "#777777")
        ax.hlines(y, max(lane.placed, start), min(lane_end, end), colors=colour, lw=7, zorder=2)
        if lane.ended is not None and start <= lane.ended <= end:
            ax.text(lane.ended + span * 0.006, y + 0.3, lane.status, fontsize=7, color="#333333")
        for t, size, void in lane.fills:
            if start <= t <= end:
                marker, mark = ("X", ALARM) if void else ("D", "black")
                ax.plot([t], [y], linestyle="none", marker=marker, markersize=7, color=mark, zorder=4)
                label = f"{'void ' if void else ''}fill {float(size):.2f}"
                ax.text(t, y - 0.55, label, fontsize=7, ha="center", va="top", fontweight="bold")
    for (t, label), level in zip(call_items, call_levels, strict=True):
        y = calls_base + level
        colour = ALARM if _alarming(label) else "#4c72b0"
        ax.plot([t], [y], linestyle="none", marker="o", markersize=4, color=colour, zorder=4)
        ax.text(t + span * 0.004, y, label, fontsize=7, va="center", color=colour, zorder=4)
    ticks.append(calls_base + (call_rows - 1) / 2)
    names.append("the bot's requests\n(what the answer said)")
    for (t, kind), level in zip(fault_items, fault_levels, strict=True):
        y = faults_base + level
        ax.plot([t], [y], linestyle="none", marker="v", markersize=7, color=fault_colour(kind), zorder=4)
        ax.text(t + span * 0.004, y, kind, fontsize=7, va="center", color="#333333")
    ticks.append(faults_base + (fault_rows - 1) / 2)
    names.append("faults fired")
    ax.set_yticks(ticks, names, fontsize=7.5)
    ax.set_ylim(-0.8, lanes_base + 1.6 * len(lanes) + 0.2)


def _draw_positions(ax, scenario: Scenario, start: float, end: float) -> None:
    venue_t, venue_v = _position_series(scenario.venue_position, start, end)
    ledger_t, ledger_v = _position_series(scenario.ledger_position, start, end)
    ax.step(venue_t, venue_v, where="post", color=VENUE_COLOUR, linewidth=1.6, label="position at the venue")
    ax.step(
        ledger_t,
        ledger_v,
        where="post",
        color=LEDGER_COLOUR,
        linewidth=1.6,
        linestyle="--",
        label="position in the ledger",
    )
    ax.set_ylabel("shares", fontsize=8)
    ax.tick_params(axis="y", labelsize=7.5)
    low, high = min(venue_v + ledger_v), max(venue_v + ledger_v)
    ax.set_ylim(low - 1 - 0.1 * (high - low), high + 1 + 0.1 * (high - low))
    ax.legend(loc="best", fontsize=7.5, frameon=True, framealpha=0.9, ncol=2)
