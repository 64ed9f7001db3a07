"""The fault catalogue: every kind design.md names, as data (kind + parameters).

A fault is a plain record: `Fault(kind, params)`. Scenario files list them, exploration
generates them; sim.injector applies them to a run. Each kind declares its parameters as a JSON
Schema fragment, which validates scenario files (with the field path of a bad value) and feeds
the scenario JSON Schema editors use for completion.

Common parameters:
  at / from / to   seconds from the window start (a moment, or the window [from, to))
  trade            the scenario trade the fault targets (its `id`)
  order            which of that trade's orders: "scale-in" or "exit"
  endpoint         a route such as "POST /order", or "*" for all
  count            how many matching requests it hits (default 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROUTES = ["*", "POST /order", "POST /orders", "DELETE /order", "DELETE /orders", "DELETE /cancel-all",
          "DELETE /cancel-market-orders", "GET /data/order", "GET /data/orders", "GET /data/trades",
          "GET /notifications", "DELETE /notifications", "GET /balance-allowance", "GET /book",
          "GET /markets", "GET /tick-size", "GET /neg-risk", "GET /fee-rate", "POST /v1/heartbeats"]

_T = {"type": "number", "minimum": 0}
_COUNT = {"type": "integer", "minimum": 1}
_TRADE = {"type": "integer", "minimum": 1}
_ORDER = {"enum": ["scale-in", "exit"]}
_ENDPOINT = {"enum": ROUTES}
_SIZE = {"type": "number", "exclusiveMinimum": 0}
_SECONDS = {"type": "number", "minimum": 0}


@dataclass(frozen=True)
class FaultKind:
    name: str
    summary: str
    params: dict[str, dict]
    required: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)

    def schema(self) -> dict:
        props = {"kind": {"const": self.name}}
        props.update(self.params)
        return {"type": "object", "properties": props, "required": ["kind", *self.required],
                "additionalProperties": False, "description": self.summary}


CATALOGUE: dict[str, FaultKind] = {k.name: k for k in [
    FaultKind("latency", "Extra latency on an endpoint during [from, to): request and response legs.",
              {"endpoint": _ENDPOINT, "from": _T, "to": _T, "request_ms": _SECONDS,
               "response_ms": _SECONDS}, (), {"endpoint": "*", "request_ms": 0, "response_ms": 0}),
    FaultKind("timeout_after_apply", "The venue applies the request but the answer never comes: the "
              "client times out ('Request exception!').",
              {"endpoint": _ENDPOINT, "at": _T, "count": _COUNT}, ("endpoint",), {"at": 0, "count": 1}),
    FaultKind("timeout_before_apply", "The request is lost before the venue sees it: the client times out.",
              {"endpoint": _ENDPOINT, "at": _T, "count": _COUNT}, ("endpoint",), {"at": 0, "count": 1}),
    FaultKind("http_error", "The venue answers an error status (425/429/500/503, or a CDN's 403 HTML page) "
              "without applying the request.",
              {"endpoint": _ENDPOINT, "at": _T, "count": _COUNT,
               "status": {"enum": [403, 425, 429, 500, 502, 503]},
               "body": {"enum": ["json", "html"]}}, ("endpoint", "status"),
              {"at": 0, "count": 1, "body": "json"}),
    FaultKind("stale_read", "GET /data/order for the order answers the snapshot taken when the fault "
              "starts, for `duration` seconds.",
              {"trade": _TRADE, "order": _ORDER, "at": _T, "duration": _SECONDS}, ("trade", "order"),
              {"at": 0, "duration": 30}),
    FaultKind("order_not_found_after_match", "Once the order has matched, GET /data/order answers 404: "
              "only the trades listing shows the fill.",
              {"trade": _TRADE, "order": _ORDER, "status": {"enum": [404, 200]}}, ("trade", "order"),
              {"status": 404}),
    FaultKind("late_fill", "A fill of the order lands at the venue just before the bot's cancel of it; "
              "its notification arrives `notify_delay` seconds late.",
              {"trade": _TRADE, "order": _ORDER, "size": _SIZE, "notify_delay": _SECONDS},
              ("trade", "order"), {"notify_delay": 20}),
    FaultKind("partial_fill", "The market takes `size` shares of the order at `at`.",
              {"trade": _TRADE, "order": _ORDER, "at": _T, "size": _SIZE}, ("trade", "order", "at", "size")),
    FaultKind("cancel_race", "A fill lands between the bot's status check of the order (answered LIVE) "
              "and its cancel.",
              {"trade": _TRADE, "order": _ORDER, "size": _SIZE}, ("trade", "order")),
    FaultKind("notification_delay", "Notifications created during [from, to) are delivered `delay` s late.",
              {"from": _T, "to": _T, "delay": _SECONDS}, ("delay",), {"from": 0}),
    FaultKind("notification_duplicate", "Notifications created during [from, to) are delivered again "
              "after they were dropped.",
              {"from": _T, "to": _T}, (), {"from": 0}),
    FaultKind("notification_drop", "Notifications created during [from, to) are never delivered.",
              {"from": _T, "to": _T, "types": {"type": "array", "items": {"enum": [1, 2, 4]}}}, (),
              {"from": 0}),
    FaultKind("notification_reorder", "Pending notifications are delivered newest first during [from, to).",
              {"from": _T, "to": _T}, (), {"from": 0}),
    FaultKind("delayed_match", "The order is answered `delayed` and matches `delay` seconds later "
              "(or never, with fail: true).",
              {"trade": _TRADE, "order": _ORDER, "delay": _SECONDS, "fail": {"type": "boolean"}},
              ("trade", "order"), {"delay": 10, "fail": False}),
    FaultKind("trade_failed", "The order's trades go MATCHED -> RETRYING -> FAILED: the fill is void.",
              {"trade": _TRADE, "order": _ORDER, "after": _SECONDS}, ("trade", "order"), {"after": 8}),
    FaultKind("balance_lag", "The conditional-token balance reports fills `lag` seconds late.",
              {"lag": _SECONDS, "from": _T, "to": _T}, ("lag",), {"from": 0}),
    FaultKind("size_shortfall", "Shares received fall short of size_matched by `shortfall` per fill "
              "(e.g. 4.95 received for 5 matched).",
              {"trade": _TRADE, "order": _ORDER, "shortfall": _SIZE}, ("trade", "order"),
              {"shortfall": 0.05}),
    FaultKind("engine_restart", "Matching-engine restart: 425 on place and cancel for `duration` s, then "
              "post-only mode for `post_only_for` s.",
              {"at": _T, "duration": _SECONDS, "post_only_for": _SECONDS}, ("at",),
              {"duration": 90, "post_only_for": 120}),
    FaultKind("heartbeat_cancel_all", "The venue cancels all of the bot's open orders at `at` (a missed "
              "heartbeat).", {"at": _T}, ("at",)),
    FaultKind("bot_crash", "The bot's tasks die at `at`; a new bot starts `restart_after` s later on the "
              "same SQLite database.",
              {"at": _T, "restart_after": _SECONDS}, ("at",), {"restart_after": 5}),
]}


@dataclass(frozen=True)
class Fault:
    kind: str
    params: dict[str, Any]

    def get(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        return CATALOGUE[self.kind].defaults.get(name)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params}

    def window(self, horizon: float) -> tuple[float, float]:
        return float(self.get("from") or 0), float(self.get("to") if self.get("to") is not None else horizon)


def names() -> list[str]:
    return list(CATALOGUE)
