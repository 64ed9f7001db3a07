"""The audit trail (docs/audit-trail.md): events are data, rendered in ONE place.

Every audit event is an `AuditEvent` (time, kind, fields). `render()` is the only code that
turns one into text; it reproduces the spec's sample lines character for character (same
emoji, the two spaces after the warning sign, the field formats). Lines reach the master log
and the window-specific logs through the standard `logging` module; `JsonlHandler` writes the
structured twin of every line (time, kind, fields, and the rendered line) for analysis.

Scopes (the spec's four prefixes):
  trade  "📈 [BTC] Trade #123 UP | <emoji> <text>"       scale.py
  exit   "<emoji> [BTC] #123 EXIT AUDIT: <text>"           monitor.py
  recon  "<emoji> RECONCILIATION AUDIT: <text>"            reconciliation.py
  notif  "<emoji> NOTIFICATION AUDIT: <text>"              notifications.py
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TextIO

from .ports import Clock

WARN = "⚠️ "  # U+26A0 U+FE0F; the spec follows it with two spaces (it renders narrow)

# kind -> (level, scope, emoji, template). Templates use str.format with the event's fields.
TEMPLATES: dict[str, tuple[int, str, str, str]] = {
    # ---- scale-in lifecycle (scale.py) ---------------------------------------------------
    "scale_in.placement": (
        logging.INFO,
        "trade",
        "🎯",
        "SCALE-IN PLACEMENT: Initiating maker order"
        " | size={size:.2f}, price=${price:.2f}, time_left={time_left}s, confidence={confidence:.2f}",
    ),
    "scale_in.resting": (
        logging.INFO,
        "trade",
        "⏳",
        "SCALE-IN PLACED: Maker order resting on book | status={status}, OrderID: {order_id}",
    ),
    "scale_in.filled_immediate": (
        logging.INFO,
        "trade",
        "✅",
        "SCALE-IN FILLED (Immediate): {size:.2f} shares @ ${price:.4f} | OrderID: {order_id}",
    ),
    "scale_in.filled_delayed": (
        logging.INFO,
        "trade",
        "🎯",
        "SCALE-IN FILLED (Delayed): +{size:.2f} shares @ ${price:.4f} | OrderID: {order_id}",
    ),
    "scale_in.partial": (
        logging.INFO,
        "trade",
        "⏰",
        "SCALE-IN PARTIAL FILL ({detection}): +{size:.2f} shares @ ${price:.4f} | filled={filled:.2f}/{original:.2f}"
        " | OrderID: {order_id}",
    ),
    "scale_in.cancelled": (
        logging.INFO,
        "trade",
        "🧹",
        "SCALE-IN CANCELLED: {reason} | filled={filled:.2f}/{original:.2f} | OrderID: {order_id}",
    ),
    "scale_in.venue_cancelled": (
        logging.INFO,
        "trade",
        "🧹",
        "SCALE-IN CANCELLED BY VENUE: {reason} | filled={filled:.2f}/{original:.2f} | OrderID: {order_id}",
    ),
    "scale_in.failed": (logging.ERROR, "trade", "❌", "SCALE-IN PLACEMENT FAILED: {error} | kind={error_kind}"),
    "scale_in.outcome_unknown": (
        logging.WARNING,
        "trade",
        "⏳",
        "SCALE-IN PENDING: placement outcome unknown ({error}), awaiting reconciliation | OrderID: {order_id}",
    ),
    "scale_in.not_placed": (
        logging.WARNING,
        "trade",
        "❌",
        "SCALE-IN FAILED: order never reached the book (no trace after {waited}s) | OrderID: {order_id}",
    ),
    "scale_in.status_error": (
        logging.WARNING,
        "trade",
        WARN,
        "SCALE-IN STATUS CHECK ERROR: {error} | OrderID: {order_id}",
    ),
    "scale_in.trade_failed": (
        logging.ERROR,
        "trade",
        "❌",
        "SCALE-IN FAILED: matched {matched:.2f} shares but the venue failed {void:.2f} of them"
        " | filled={filled:.2f}/{original:.2f} | OrderID: {order_id}",
    ),
    "scale_in.skipped": (logging.INFO, "trade", "⏸️", "SCALE-IN SKIPPED: {reason}"),
    "scale_in.void": (
        logging.WARNING,
        "trade",
        WARN,
        "SCALE-IN FILL VOID: -{size:.2f} shares @ ${price:.4f} (trade {trade_id} failed) | OrderID: {order_id}",
    ),
    "trade.settled": (
        logging.INFO,
        "trade",
        "🏁",
        "SETTLED: winner={winner}, position={position:.2f}, payout=${payout:.2f}, pnl=${pnl:+.2f}",
    ),
    "trade.undelivered": (
        logging.WARNING,
        "trade",
        WARN,
        "UNDELIVERED SHARES: the venue holds {held} shares, the ledger {delivered} | undelivered={undelivered}",
    ),
    "trade.opened": (
        logging.INFO,
        "trade",
        "🟢",
        "POSITION OPENED: {size:.2f} shares @ ${price:.4f} | confidence={confidence:.2f}, window_end={window_end}",
    ),
    # ---- exit plan and the race-safe scale-in cancellation (monitor.py) ------------------
    "exit.cancel_start": (
        logging.INFO,
        "exit",
        "🧹",
        "Starting scale-in order cancellation process for order {order_id}",
    ),
    "exit.status": (logging.INFO, "exit", "🔍", "Scale-in order {order_id} status: {status}"),
    "exit.race_recent_fill": (
        logging.WARNING,
        "exit",
        WARN,
        "RACE CONDITION DETECTED! Order {order_id} was recently filled (size: {size:.2f}), skipping cancellation",
    ),
    "exit.race_partial": (
        logging.WARNING,
        "exit",
        WARN,
        "RACE CONDITION DETECTED! Order {order_id} was recently partially filled (size: {size:.2f} of {original:.2f}),"
        " cancelling the remainder safely",
    ),
    "exit.race_during_cancel": (
        logging.WARNING,
        "exit",
        WARN,
        "RACE CONDITION DETECTED! Order {order_id} filled before the cancel took effect (size: {size:.2f}), fill"
        " accounted",
    ),
    "exit.cancelled": (logging.INFO, "exit", "✅", "Successfully cancelled scale-in order {order_id}"),
    "exit.cancel_failed": (logging.ERROR, "exit", "❌", "Failed to cancel scale-in order {order_id}: {error}"),
    "exit.nothing_to_cancel": (
        logging.INFO,
        "exit",
        "✅",
        "Scale-in order {order_id} already {state}, nothing to cancel",
    ),
    "exit.placed": (
        logging.INFO,
        "exit",
        "📤",
        "Exit order placed: SELL {size:.2f} shares @ ${price:.2f} | OrderID: {order_id}",
    ),
    "exit.resize": (
        logging.INFO,
        "exit",
        "🔁",
        "Resizing exit order {order_id}: {old_size:.2f} -> {new_size:.2f} shares",
    ),
    "exit.filled": (
        logging.INFO,
        "exit",
        "✅",
        "Exit order filled: +{size:.2f} shares @ ${price:.4f} | sold={sold:.2f}/{original:.2f} | OrderID: {order_id}",
    ),
    "exit.failed": (logging.ERROR, "exit", "❌", "Exit order placement failed: {error} | kind={error_kind}"),
    "exit.outcome_unknown": (
        logging.WARNING,
        "exit",
        "⏳",
        "Exit order outcome unknown ({error}), awaiting reconciliation | OrderID: {order_id}",
    ),
    "exit.complete": (logging.INFO, "exit", "🏁", "Exit plan complete: position closed at ${price:.2f}"),
    "exit.window_end": (logging.INFO, "exit", "⌛", "Window ending in {time_left}s: cancelling leftover orders"),
    "exit.void": (
        logging.WARNING,
        "exit",
        WARN,
        "Exit fill void: -{size:.2f} shares (trade {trade_id} failed) | OrderID: {order_id}",
    ),
    # ---- reconciliation (reconciliation.py) ----------------------------------------------
    "recon.track_fill": (
        logging.INFO,
        "recon",
        "🔍",
        "Tracking recent fill for order {order_id} | size={size:.2f}, price=${price:.2f}, timestamp={timestamp}",
    ),
    "recon.recent_fill": (
        logging.INFO,
        "recon",
        "🔍",
        "Order {order_id} recently filled {age}s ago (within {threshold}s threshold)",
    ),
    "recon.safe_cancel_start": (
        logging.INFO,
        "recon",
        "🔍",
        "[{label}] Starting safe cancellation for order {order_id}",
    ),
    "recon.cancel_ack": (logging.INFO, "recon", "🔍", "[{label}] Cancel answer for order {order_id}: {answer}"),
    "recon.cancel_error": (
        logging.WARNING,
        "recon",
        WARN,
        "[{label}] Cancel attempt {attempt}/{attempts} for order {order_id} failed: {error}",
    ),
    "recon.verify": (
        logging.INFO,
        "recon",
        "🔍",
        "Verification attempt {attempt}/{attempts} for order {order_id}: status={status},"
        " size_matched={size_matched:.2f}",
    ),
    "recon.verify_miss": (
        logging.INFO,
        "recon",
        "🔍",
        "Verification attempt {attempt}/{attempts} for order {order_id}: {error}",
    ),
    "recon.inconclusive": (
        logging.WARNING,
        "recon",
        WARN,
        "Inconclusive verification for {order_id} after {attempts} attempts, assuming unfilled for safety",
    ),
    "recon.safe_cancel_done": (
        logging.INFO,
        "recon",
        "✅",
        "[{label}] Safe cancellation complete for order {order_id} | final size_matched={size_matched:.2f}",
    ),
    "recon.cleanup": (logging.INFO, "recon", "🧹", "Cleaned up {count} recent fill records older than {age}s"),
    "recon.pass_start": (
        logging.INFO,
        "recon",
        "🔍",
        "Starting reconciliation pass ({reason}) | orders to check={count}",
    ),
    "recon.order_found": (
        logging.INFO,
        "recon",
        "✅",
        "Order {order_id} found on exchange (status: {status}, size_matched={size_matched:.2f})",
    ),
    "recon.order_missing": (
        logging.INFO,
        "recon",
        "🔍",
        "Order {order_id} not found on exchange yet ({waited}s since placement)",
    ),
    "recon.fill_recovered": (
        logging.INFO,
        "recon",
        "✅",
        "Recovered fill for order {order_id} from {source} | trade={trade_id}, size={size:.2f}, price=${price:.4f}",
    ),
    "recon.fill_void": (
        logging.WARNING,
        "recon",
        WARN,
        "Void fill for order {order_id} | trade={trade_id}, size={size:.2f} (trade FAILED)",
    ),
    "recon.orphan_cancelled": (logging.WARNING, "recon", WARN, "Unknown live order {order_id} on exchange cancelled"),
    "recon.pass_done": (
        logging.INFO,
        "recon",
        "✅",
        "Reconciliation pass complete | orders={orders}, fills recovered={recovered}, voided={voided}",
    ),
    "recon.error": (logging.WARNING, "recon", WARN, "Reconciliation step failed: {error}"),
    # ---- notifications (notifications.py) ------------------------------------------------
    "notif.retrieve_start": (logging.DEBUG, "notif", "🔍", "Starting notification retrieval process"),
    "notif.retrieved": (logging.INFO, "notif", "🔍", "Retrieved {count} notifications"),
    "notif.processed": (
        logging.INFO,
        "notif",
        "🔍",
        "Processed notification {index}/{count} - Type: {type}, OrderID: {order_id}",
    ),
    "notif.success": (logging.INFO, "notif", "✅", "Successfully processed {count} notifications"),
    "notif.dropped": (logging.INFO, "notif", "🧹", "Dropped {count} notifications (marked as read)"),
    "notif.error": (logging.WARNING, "notif", WARN, "Notification {step} failed: {error}"),
    # ---- the bot itself (bot.py) ---------------------------------------------------------
    "bot.task_error": (logging.ERROR, "recon", "❌", "Task {task} error: {error}"),
    # ---- lines another program logged, kept verbatim (a bot of the user's own, run by a harness) --
    "external.debug": (logging.DEBUG, "verbatim", "", "{line}"),
    "external.info": (logging.INFO, "verbatim", "", "{line}"),
    "external.warning": (logging.WARNING, "verbatim", "", "{line}"),
    "external.error": (logging.ERROR, "verbatim", "", "{line}"),
}


@dataclass(frozen=True)
class AuditEvent:
    time: float
    kind: str
    fields: dict[str, Any]

    @property
    def level(self) -> int:
        return TEMPLATES[self.kind][0]

    @property
    def window(self) -> str | None:
        return self.fields.get("window")


def render(event: AuditEvent) -> str:
    """The one renderer: AuditEvent -> audit line."""
    _, scope, emoji, template = TEMPLATES[event.kind]
    f = event.fields
    text = template.format(**f)
    if scope == "verbatim":
        return text
    if scope == "trade":
        return f"📈 [{f['symbol']}] Trade #{f['trade']} {f['side']} | {emoji} {text}"
    if scope == "exit":
        return f"{emoji} [{f['symbol']}] #{f['trade']} EXIT AUDIT: {text}"
    if scope == "recon":
        return f"{emoji} RECONCILIATION AUDIT: {text}"
    return f"{emoji} NOTIFICATION AUDIT: {text}"


# The audit kinds that end a scale-in order's life, and the outcome each records: exactly one of
# them closes every placed scale-in (the lifecycle-complete invariant; the report's fill rates).
SCALE_IN_TERMINAL: dict[str, str] = {
    "scale_in.filled_immediate": "filled",
    "scale_in.filled_delayed": "filled",
    "scale_in.cancelled": "cancelled",
    "scale_in.venue_cancelled": "cancelled by venue",
    "scale_in.failed": "failed",
    "scale_in.trade_failed": "failed",
    "scale_in.not_placed": "not placed",
}


def format_time(t: float) -> str:
    """Event time as UTC text, millisecond precision; from the event, never from the wall clock."""
    millis = int(round(t * 1000))
    stamp = datetime.fromtimestamp(millis // 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp}.{millis % 1000:03d}"


def dated_line(when: float, line: str, level: str | None = None) -> str:
    """An audit line as the logs show it: `<time> <LEVEL> <line>` (audit.log), or `<time> <line>`
    without a level (evidence quoting a line)."""
    if level is None:
        return f"{format_time(when)} {line}"
    return f"{format_time(when)} {level:<7} {line}"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def to_json(event: AuditEvent) -> str:
    """The structured twin of one audit line."""
    record = {
        "t": round(event.time, 6),
        "level": logging.getLevelName(event.level),
        "kind": event.kind,
        "fields": {k: _plain(v) for k, v in event.fields.items()},
        "line": render(event),
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class AuditLog:
    """Emits audit events: hands each to the listeners and to a `logging` logger.

    Context fields (symbol, trade, side, window) are passed by the caller so that an event
    is complete data on its own.
    """

    def __init__(self, clock: Clock, logger: logging.Logger | None = None):
        self._clock = clock
        self.logger = logger or logging.getLogger("clobsim.audit")
        self.listeners: list[Callable[[AuditEvent], None]] = []

    def emit(self, kind: str, **fields: Any) -> AuditEvent:
        if kind not in TEMPLATES:
            raise KeyError(f"unknown audit event kind {kind!r}")
        event = AuditEvent(self._clock.now(), kind, fields)
        for listener in self.listeners:
            listener(event)
        if self.logger.isEnabledFor(event.level):
            self.logger.log(event.level, render(event), extra={"audit_event": event})
        return event


# ---- logging plumbing: formatter and the handlers for master, window and JSON-lines logs ----


class AuditFormatter(logging.Formatter):
    """`<event time> <LEVEL> <line>`; the time is the event's (simulated or live), not the record's."""

    def format(self, record: logging.LogRecord) -> str:
        event = getattr(record, "audit_event", None)
        when = event.time if event is not None else record.created
        return dated_line(when, record.getMessage(), record.levelname)


class WindowFileHandler(logging.Handler):
    """One file per market window (`<dir>/<window slug>.log`), opened on first use."""

    def __init__(self, directory: str, level: int = logging.INFO):
        super().__init__(level)
        self.directory = directory
        self._files: dict[str, TextIO] = {}
        self.setFormatter(AuditFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "audit_event", None)
        window = event.window if event is not None else None
        if not window:
            return
        handle = self._files.get(window)
        if handle is None:
            os.makedirs(self.directory, exist_ok=True)
            handle = open(os.path.join(self.directory, f"{window}.log"), "a", encoding="utf-8")
            self._files[window] = handle
        handle.write(self.format(record) + "\n")
        handle.flush()

    def close(self) -> None:
        for window in sorted(self._files):
            self._files[window].close()
        self._files.clear()
        super().close()


class JsonlHandler(logging.Handler):
    """The structured twin: one JSON object per audit line."""

    def __init__(self, path: str, level: int = logging.INFO):
        super().__init__(level)
        self._handle = open(path, "a", encoding="utf-8")

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "audit_event", None)
        if event is not None:
            self._handle.write(to_json(event) + "\n")
            self._handle.flush()

    def close(self) -> None:
        self._handle.close()
        super().close()


def attach_file_logs(
    logger: logging.Logger,
    *,
    master_path: str,
    window_dir: str | None = None,
    jsonl_path: str | None = None,
    level: int = logging.INFO,
) -> list[logging.Handler]:
    """Route a logger's audit lines to the master log, window logs and the JSON twin."""
    os.makedirs(os.path.dirname(master_path) or ".", exist_ok=True)
    master = logging.FileHandler(master_path, encoding="utf-8")
    master.setLevel(level)
    master.setFormatter(AuditFormatter())
    handlers: list[logging.Handler] = [master]
    if window_dir:
        handlers.append(WindowFileHandler(window_dir, level))
    if jsonl_path:
        handlers.append(JsonlHandler(jsonl_path, level))
    for handler in handlers:
        logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handlers


def detach(logger: logging.Logger, handlers: list[logging.Handler]) -> None:
    for handler in handlers:
        logger.removeHandler(handler)
        handler.close()
