"""Scenario files: YAML in, a validated Scenario out, or ONE clear error naming the culprit.

Validation has two layers. The JSON Schema (`schema()`, also written to
scenarios/scenario.schema.json for editor completion) catches structure: unknown keys, wrong
types, negative times, prices outside (0, 1). Semantic checks then catch what a schema cannot:
a time after the window's end, a fault naming a trade the scenario does not open, a regex that
does not compile. Every error is `ScenarioError(file, path, message)` with a field path such as
`faults[2].at`; the CLI prints it and exits 2.

Before either, the file is read with the caps of sim.runner.inputs (size, nesting, alias
expansion, duplicate keys) and walked for non-finite numbers and non-string keys. Every number has
a sane bound (the MAX_* constants below): a value past it is a typo or an attack, and would
otherwise spin the run forever (monitor_interval 0, a taker rate of 1e6), overflow SQLite (a
trade id of 1e23) or be blamed on the bot (a size of 1e300). Values quoted in messages are
shortened (inputs.shorten).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

import jsonschema

from clobsim.core.config import ConfigError, StrategyConfig
from clobsim.sim.exchange.markets import TICK_SIZES, V2_TICK_SIZES
from clobsim.sim.exchange.protocol import DEFAULT_PROTOCOL, PROTOCOLS, V1
from clobsim.sim.faults import CATALOGUE, Fault
from clobsim.sim.faults import fault as make_fault
from clobsim.sim.faults.kind import MAX_COUNT, MAX_ID, MAX_SECONDS, MAX_SIZE
from clobsim.sim.runner.inputs import InputError, clip, field_path, load_yaml, problems, shorten

# The market's defaults where a scenario leaves a field out; consumers read them through
# Scenario's properties (or these names), never restate them.
DEFAULT_WINDOW_START = 1_764_028_800  # 2025-11-25 00:00:00 UTC, a 15-minute boundary
DEFAULT_WINDOW_LENGTH = 900
DEFAULT_TICK_SIZE = "0.01"
PROTOCOLS_KEY = "protocols"  # expect.protocols.<v1|v2>: what differs under one protocol
DEFAULT_FEE_RATE = 0  # fee-free unless the scenario sets the market's rate (see fee_rate)
MAX_FEE_RATE = 0.25
DEFAULT_MIN_SIZE = 5  # shares: the venue's minimum order size
DEFAULT_RESOLUTION_DELAY = 30  # seconds from the window's end to the market's resolution
MAX_SEED = 2**63 - 1
MAX_WINDOW_START = 4_102_444_800  # 2100-01-01: dates past it are typos (and overflow some clocks)
MAX_WINDOW_LENGTH = 86_400  # one day of virtual time
MAX_TAKER_RATE = 10  # takers per second: 9000 in a 15-minute window; more is a run that never ends
MAX_LIST = 1000  # events, price points, faults, patterns
MAX_TEXT = 10_000  # characters of a description or pattern
_PRICE = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
_T = {"type": "number", "minimum": 0, "maximum": MAX_SECONDS}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SIZE}
_PATTERNS = {"type": "array", "maxItems": MAX_LIST, "items": {"type": "string", "maxLength": MAX_TEXT}}


class ScenarioError(Exception):
    def __init__(self, file: str, path: str, message: str):
        self.file, self.path, self.message = file, path, message
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple:  # crosses worker processes (--workers) intact
        return (type(self), (self.file, self.path, self.message))


def _config_keys() -> list[str]:
    return [f.name for f in fields(StrategyConfig)]


def _number(low: float, high: float) -> dict:
    # no "type": core.config converts and type-checks overrides ("must be a number, got 'abc'");
    # _semantic_checks applies these bounds again to the converted values ("0.0" as a string)
    return {"minimum": low, "maximum": high}


_SHARE = _number(0, 1)
# Bounds of the bot's strategy overrides; their types are StrategyConfig's own (core.config). An
# interval of 0 is a loop that never lets virtual time advance; intervals are at least 0.1 s.
BOT_BOUNDS = {
    "scale_in_tiers": {
        "type": "array",
        "maxItems": 20,
        "items": {
            "type": "object",
            "properties": {
                "min_confidence": _SHARE,
                "min_price": _SHARE,
                "max_time_left": _number(0, MAX_WINDOW_LENGTH),
            },
        },
    },
    "scale_in_min_time_left": _number(0, MAX_WINDOW_LENGTH),
    "scale_in_price_min": _SHARE,
    "scale_in_price_max": _SHARE,
    "scale_in_multiplier": _number(0, 100),
    "min_order_size": _number(0, MAX_SIZE),
    "balance_buffer": _number(0, MAX_SIZE),
    "exit_price": _SHARE,
    "monitor_interval": _number(0.1, 3600),
    "notification_interval": _number(0.1, 3600),
    "cancel_before_end": _number(0, MAX_WINDOW_LENGTH),
    "order_expiry_before_end": _number(0, MAX_WINDOW_LENGTH),
    "gtd_security_margin": _number(0, 3600),
    "resolution_poll_interval": _number(0.1, 3600),
    "recent_fill_window": _number(0, MAX_WINDOW_LENGTH),
    "recent_fill_cleanup": _number(0, MAX_WINDOW_LENGTH),
    "verify_attempts": _number(0, 100),
    "verify_delay": _number(0, 3600),
    "cancel_attempts": _number(0, 100),
    "unknown_grace": _number(0, MAX_WINDOW_LENGTH),
    "exit_retry_limit": _number(0, 1000),
    "exit_backoff": _number(0.1, 3600),
    "exit_backoff_max": _number(0.1, 3600),
}


def _expect_schema() -> dict:
    """The `expect` section: what the run must show, whichever protocol it spoke, and per protocol
    (`protocols.v1`, `protocols.v2`) the keys that differ under it."""
    expect: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "audit_in_order": _PATTERNS,
            "audit_absent": _PATTERNS,
            "counts": {
                "type": "object",
                "maxProperties": MAX_LIST,
                "propertyNames": {"maxLength": MAX_TEXT},
                "additionalProperties": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
            },
            "outcomes": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "open_orders": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
                    "trades": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "position": {"type": "number", "minimum": -MAX_SIZE, "maximum": MAX_SIZE},
                                "state": {"enum": ["OPEN", "EXITED", "CLOSING", "SETTLED"]},
                                "pnl": {"type": "number", "minimum": -MAX_SIZE, "maximum": MAX_SIZE},
                                "scale_ins": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
                                "winner": {"enum": ["WIN", "LOSS"]},
                            },
                        },
                    },
                },
            },
        },
    }
    per_protocol = {"type": "object", "additionalProperties": False, "properties": dict(expect["properties"])}
    expect["properties"]["protocols"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": dict.fromkeys(PROTOCOLS, per_protocol),
    }
    return expect


def schema() -> dict:
    fault_kinds = sorted(CATALOGUE)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "clobsim scenario",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "trades"],
        "properties": {
            # the name is a folder of the run: short enough for any file system
            "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$", "maxLength": 100},
            "description": {"type": "string", "maxLength": MAX_TEXT},
            "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED},
            "market": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "symbol": {"type": "string", "pattern": "^[A-Z0-9]{2,10}$"},
                    "protocol": {"enum": list(PROTOCOLS)},
                    "window_start": {"type": "integer", "minimum": 0, "maximum": MAX_WINDOW_START},
                    "window_length": {"type": "integer", "minimum": 60, "maximum": MAX_WINDOW_LENGTH},
                    # 0.005 and 0.0025 are CLOB V2's (refused under protocol v1: check_protocol)
                    "tick_size": {"enum": [fmt_tick(t) for t in V2_TICK_SIZES]},
                    # V2's operator fee on takers (0.07: Polymarket's crypto markets); v1 ignores it
                    "fee_rate": {"type": "number", "minimum": 0, "maximum": MAX_FEE_RATE},
                    "fee_exponent": {"type": "integer", "minimum": 0, "maximum": 4},
                    "min_size": _POSITIVE,
                    "resolution": {"enum": ["auto", "UP", "DOWN"]},
                    "resolution_delay": _T,
                    "price_model": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "kind": {"enum": ["random_walk", "scripted"]},
                            "start": _PRICE,
                            "drift": {"type": "number", "minimum": -1, "maximum": 1},
                            "volatility": {"type": "number", "minimum": 0, "maximum": 1},
                            # one price move per step: below 0.1 s a window is 9000+ moves per minute
                            "step": {"type": "number", "minimum": 0.1, "maximum": MAX_WINDOW_LENGTH},
                            "spread": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.2},
                            "depth": _POSITIVE,
                            "points": {
                                "type": "array",
                                "maxItems": MAX_LIST,
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["at", "price"],
                                    "properties": {"at": _T, "price": _PRICE},
                                },
                            },
                        },
                    },
                    "taker_flow": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "rate": {"type": "number", "minimum": 0, "maximum": MAX_TAKER_RATE},
                            "min_size": _POSITIVE,
                            "max_size": _POSITIVE,
                        },
                    },
                },
            },
            "bot": {"type": "object", "propertyNames": {"enum": _config_keys()}, "properties": BOT_BOUNDS},
            "trades": {
                "type": "array",
                "minItems": 1,
                "maxItems": 2,  # one per token (UP, DOWN); _semantic_checks names a repeated side
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["at", "side", "price", "size"],
                    "properties": {
                        "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        "at": _T,
                        "side": {"enum": ["UP", "DOWN"]},
                        "price": _PRICE,
                        "size": _POSITIVE,
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                },
            },
            "events": {
                "type": "array",
                "maxItems": MAX_LIST,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["at", "kind"],
                    "properties": {
                        "at": _T,
                        "kind": {"enum": ["take", "set_price"]},
                        "token": {"enum": ["UP", "DOWN"]},
                        "side": {"enum": ["BUY", "SELL"]},
                        "size": _POSITIVE,
                        "price": _PRICE,
                    },
                },
            },
            "faults": {
                "type": "array",
                "maxItems": MAX_LIST,
                "items": {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": fault_kinds}}},
            },
            # A foreign bot's other services (docs/own-bot.md): a request to `host` whose path starts
            # with `path` is answered `status` with `body` (JSON); the first matching stub answers.
            "bot_stubs": {
                "type": "array",
                "maxItems": MAX_LIST,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["host"],
                    "properties": {
                        "host": {"type": "string", "minLength": 1, "maxLength": 253},
                        "path": {"type": "string", "pattern": "^/", "maxLength": 2000},
                        "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                        "status": {"type": "integer", "minimum": 100, "maximum": 599},
                        "body": {},
                    },
                },
            },
            "expect": _expect_schema(),
        },
        "$defs": {"faults": {k: CATALOGUE[k].schema() for k in fault_kinds}},
    }


SCHEMA_FILE = os.path.join("scenarios", "scenario.schema.json")


def export_schema() -> dict:
    """The schema as written to scenarios/scenario.schema.json for editors: each fault entry is
    tied to its kind's own parameters, so completion offers them (validation checks them the
    same way, one kind at a time, with better messages)."""
    full = schema()
    full["properties"]["faults"]["items"]["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
            "then": {"$ref": f"#/$defs/faults/{kind}"},
        }
        for kind in sorted(CATALOGUE)
    ]
    return full


def write_schema(path: str = SCHEMA_FILE) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(export_schema(), handle, indent=2)
        handle.write("\n")


@dataclass(frozen=True)
class TradeSpec:
    id: int
    at: float
    side: str
    price: Decimal
    size: Decimal
    confidence: Decimal


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    market: dict[str, Any]
    bot: dict[str, Any]
    trades: tuple[TradeSpec, ...]
    events: tuple[dict[str, Any], ...]
    faults: tuple[Fault, ...]
    expect: dict[str, Any]
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def window_start(self) -> int:
        return int(self.market.get("window_start", DEFAULT_WINDOW_START))

    @property
    def window_length(self) -> int:
        return int(self.market.get("window_length", DEFAULT_WINDOW_LENGTH))

    @property
    def symbol(self) -> str:
        return self.market.get("symbol", "BTC")

    @property
    def bot_stubs(self) -> list[dict[str, Any]]:
        return list(self.raw.get("bot_stubs") or [])

    @property
    def protocol(self) -> str:
        return str(self.market.get("protocol", DEFAULT_PROTOCOL))

    @property
    def tick_size(self) -> str:
        return str(self.market.get("tick_size", DEFAULT_TICK_SIZE))

    @property
    def fee_rate(self) -> Decimal:
        """The V2 operator's taker fee rate (e.g. 0.07), charged only under protocol v2."""
        return Decimal(str(self.market.get("fee_rate", DEFAULT_FEE_RATE)))

    @property
    def fee_exponent(self) -> int:
        return int(self.market.get("fee_exponent", 1))

    @property
    def min_size(self) -> Decimal:
        return Decimal(str(self.market.get("min_size", DEFAULT_MIN_SIZE)))

    @property
    def resolution_delay(self) -> float:
        return float(self.market.get("resolution_delay", DEFAULT_RESOLUTION_DELAY))

    def expectations(self, protocol: str) -> dict[str, Any]:
        """The run's expectations under `protocol`: `expect` with the keys its
        `protocols.<protocol>` section gives in place of the shared ones."""
        shared = {k: v for k, v in self.expect.items() if k != PROTOCOLS_KEY}
        return shared | self.expect.get(PROTOCOLS_KEY, {}).get(protocol, {})

    @property
    def config(self) -> StrategyConfig:
        """The bot's strategy config: the defaults with the scenario's `bot` overrides."""
        return StrategyConfig().with_overrides(self.bot)


_path = field_path


def _message(error: jsonschema.ValidationError) -> tuple[str, str]:
    """(field path, human message) for the first schema violation."""
    path = _path(error.absolute_path)
    v = error.validator
    # the failing JSON value and the keyword's value: any JSON (the stubs add Unset, the default
    # of an error built by hand; an error a validator yields always has both)
    value: Any = error.instance
    expected: Any = error.validator_value
    if v == "additionalProperties":
        extra = sorted(set(value) - set(_schema(error).get("properties", {})))
        return _path([*error.absolute_path, extra[0]]), "unknown key"
    if v == "propertyNames":
        return _path([*error.absolute_path, value]), "unknown key"
    if v == "required":
        missing = error.message.split("'")[1]
        return path or "(top level)", f"missing required key {missing!r}"
    if v == "type":
        return path, f"must be of type {expected}, got {type(value).__name__} {shorten(value)}"
    if v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[v]
        rule = f"must be {op} {expected}"
        schema = _schema(error)
        if schema is _PRICE or (schema.get("exclusiveMinimum") == 0 and schema.get("exclusiveMaximum") == 1):
            rule = "must be a price strictly between 0 and 1"
        return path, f"{rule}, got {shorten(value)}"
    if "propertyNames" in error.schema_path:
        return _path([*error.absolute_path, value]), "unknown key"
    if v in ("enum", "const"):
        allowed = expected if v == "enum" else [expected]
        return path, f"must be one of {', '.join(map(str, allowed))}; got {shorten(value)}"
    if v == "pattern":
        return path, f"must match {expected!r}, got {shorten(value)}"
    size = len(value) if isinstance(value, (str, list, dict)) else 0  # the max* validators' instances
    if v == "maxItems" and path == "trades":
        return path, f"one trade per token (UP, DOWN): at most {expected}, got {size}"
    if v in ("maxLength", "maxItems", "maxProperties"):
        unit = {"maxLength": "characters", "maxItems": "items", "maxProperties": "keys"}[v]
        return path, f"at most {expected} {unit}, got {size}"
    return path, clip(error.message, 200)


def _schema(error: jsonschema.ValidationError) -> Mapping[str, Any]:
    """The schema holding the failed keyword: a mapping for every keyword _message reads it for
    (only a `false` schema is a bool, and its errors name no keyword)."""
    schema = error.schema
    if not isinstance(schema, Mapping):
        raise AttributeError(f"a {type(schema).__name__} schema has no keywords")  # as .get() would
    return schema


def _check(instance: Any, sub_schema: dict, file: str, prefix: list) -> None:
    validator = jsonschema.Draft202012Validator(sub_schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        error = errors[0]
        error.absolute_path.extendleft(reversed(prefix))
        path, message = _message(error)
        raise ScenarioError(file, path, message)


def load(path: str) -> Scenario:
    if os.path.isdir(path):
        raise ScenarioError(path, "", "is a directory, not a scenario file")
    try:
        data = load_yaml(path)
    except InputError as exc:
        raise ScenarioError(path, exc.where, exc.message) from None
    return from_dict(data, path)


OUTCOME_TRADES = "expect.outcomes.trades"  # keyed by trade id: `7:` and `'7':` are both fine
OUTCOME_TRADES_PATHS = (OUTCOME_TRADES, *(f"expect.{PROTOCOLS_KEY}.{p}.outcomes.trades" for p in PROTOCOLS))


def from_dict(data: Any, file: str = "<scenario>") -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(file, "", f"must be a mapping of scenario fields, got {type(data).__name__}")
    for where, problem in problems(data, int_keys_at=OUTCOME_TRADES_PATHS):
        raise ScenarioError(file, where, problem)
    full = schema()
    _check(data, {k: v for k, v in full.items() if k != "$defs"}, file, [])
    for i, fault in enumerate(data.get("faults", [])):
        _check(fault, CATALOGUE[fault["kind"]].schema(), file, ["faults", i])
    scenario = _build(data, file)
    _semantic_checks(scenario, file)
    return scenario


def _build(data: dict, file: str) -> Scenario:
    trades = []
    for i, t in enumerate(data["trades"]):
        trades.append(
            TradeSpec(
                int(t.get("id", i + 1)),
                float(t["at"]),
                t["side"],
                Decimal(str(t["price"])),
                Decimal(str(t["size"])),
                Decimal(str(t.get("confidence", 0.85))),
            )
        )
    faults = tuple(make_fault(f["kind"], {k: v for k, v in f.items() if k != "kind"}) for f in data.get("faults", []))
    return Scenario(
        name=data["name"],
        description=data.get("description", ""),
        seed=int(data.get("seed", 0)),
        market=dict(data.get("market", {})),
        bot=dict(data.get("bot", {})),
        trades=tuple(trades),
        events=tuple(data.get("events", [])),
        faults=faults,
        expect=dict(data.get("expect", {})),
        source=file,
        raw=data,
    )


def fmt_tick(tick: Decimal) -> str:
    return format(tick, "f")


def check_protocol(s: Scenario, protocol: str, file: str) -> None:
    """What a scenario may ask of the protocol it runs under (its own, or `run --protocol`'s)."""
    if protocol == V1 and Decimal(s.tick_size) not in TICK_SIZES:
        allowed = ", ".join(fmt_tick(t) for t in TICK_SIZES)
        raise ScenarioError(
            file,
            "market.tick_size",
            f"{s.tick_size} is a CLOB V2 tick size; under protocol v1 it must be one of {allowed}",
        )


def _semantic_checks(s: Scenario, file: str) -> None:
    check_protocol(s, s.protocol, file)
    if (s.fee_rate * 10_000) % 1:
        raise ScenarioError(file, "market.fee_rate", f"{s.fee_rate} is finer than a basis point (0.0001)")
    end = s.window_length
    ids = [t.id for t in s.trades]
    sides: dict[str, int] = {}
    for i, trade in enumerate(s.trades):
        if trade.side in sides:
            raise ScenarioError(
                file,
                f"trades[{i}].side",
                f"trade {trades_label(s, sides[trade.side])} already holds {trade.side}; one trade per token",
            )
        sides[trade.side] = i
        if ids.count(trade.id) > 1:
            raise ScenarioError(file, f"trades[{i}].id", f"duplicate trade id {trade.id}")
        if trade.at >= end:
            raise ScenarioError(file, f"trades[{i}].at", f"{trade.at:g} is at or after the window's end ({end} s)")
    for i, event in enumerate(s.events):
        if event["at"] > end:
            raise ScenarioError(file, f"events[{i}].at", f"{event['at']:g} is after the window's end ({end} s)")
    for i, fault in enumerate(s.faults):
        for key in ("at", "from", "to"):
            value = fault.params.get(key)
            if value is not None and value > end:
                raise ScenarioError(file, f"faults[{i}].{key}", f"{value:g} is after the window's end ({end} s)")
        if "from" in fault.params and "to" in fault.params and fault.params["to"] < fault.params["from"]:
            raise ScenarioError(file, f"faults[{i}].to", "must not be before `from`")
        if "trade" in fault.params and fault.params["trade"] not in ids:
            raise ScenarioError(
                file, f"faults[{i}].trade", f"names trade {fault.params['trade']}, but the scenario opens trades {ids}"
            )
    points = s.market.get("price_model", {}).get("points", [])
    for i, point in enumerate(points):
        if point["at"] > end:
            raise ScenarioError(
                file, f"market.price_model.points[{i}].at", f"{point['at']:g} is after the window's end ({end} s)"
            )
    try:
        config = StrategyConfig().with_overrides(s.bot)
    except ConfigError as exc:
        raise ScenarioError(file, f"bot.{exc.key}", exc.rule) from None
    for key in sorted(s.bot):
        value = getattr(config, key)
        if key in BOT_BOUNDS and isinstance(value, (int, float, Decimal)):
            _check(float(value), BOT_BOUNDS[key], file, ["bot", key])
    _check_expect(s.expect, ids, file, "expect")
    for protocol, section in sorted(s.expect.get(PROTOCOLS_KEY, {}).items()):
        _check_expect(section, ids, file, f"expect.{PROTOCOLS_KEY}.{protocol}")


def _check_expect(expect: dict, ids: list[int], file: str, where: str) -> None:
    for key in ("audit_in_order", "audit_absent"):
        for i, pattern in enumerate(expect.get(key, [])):
            _compile(pattern, file, f"{where}.{key}[{i}]")
    for pattern in expect.get("counts", {}):
        _compile(pattern, file, f"{where}.counts[{json.dumps(pattern, ensure_ascii=False)}]")
    for trade_id in expect.get("outcomes", {}).get("trades", {}):
        if not re.fullmatch(r"[0-9]{1,19}", str(trade_id)) or int(trade_id) not in ids:
            raise ScenarioError(
                file,
                f"{where}.outcomes.trades.{shorten(trade_id)}",
                f"names trade {shorten(trade_id)}, but the scenario opens trades {ids}",
            )


def trades_label(s: Scenario, index: int) -> str:
    return f"#{s.trades[index].id} (trades[{index}])"


def _compile(pattern: str, file: str, path: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ScenarioError(file, path, f"not a valid regular expression: {exc}") from None


def discover(paths: list[str]) -> list[str]:
    """Scenario files under the given files and folders, in a stable order."""
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith((".yaml", ".yml")))
        else:
            found.append(path)
    return found
