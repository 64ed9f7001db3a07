"""What a fault kind is: one object holding its schema, its injection and its exploration strategy.

Each kind of the catalogue is one module of sim.faults defining a `FaultKind` subclass and its
one instance, `KIND`. The subclass overrides only the hooks where the fault bites; the network
(sim.faults.network) calls every kind that overrides a hook, in the order of `precedence`, at
that point of a request's path:

    legs(net, armed, route, req, resp)       the request and response legs' latency
    refuse(net, armed, call)                 when sent: an Answer keeps the request from the venue
    admit(net, armed, call)                  on arrival, before the venue: an Answer refuses it
    before_venue(net, armed, call)           on arrival: change the venue before it applies
    after_venue(net, armed, call, answer)    the venue's answer: return it, a replacement, or
                                             Final(answer) to answer at once (no later kind sees it)
    on_venue_event(net, armed, event)        every venue event of a kind in `watches`
    begin(net, one_armed)                    once at the start, per fault in scenario order
    begin_bot(host, fault, index)            once at the start, for faults that act on the bot
                                             itself (bot_crash): the harness is the BotHost
    ws_push(net, armed, push)                a WebSocket event on its way to the bot (server mode
                                             only, sim.server): return the pushes that go out
                                             instead (none: dropped; two: duplicated; later: delayed)

Kinds with `over_sockets` act only on the WebSocket channels of `clobsim serve` (sim.server): an
in-process run has no channel, so exploration never draws them.

`armed` is the tuple of the run's faults of this kind that have shots left (a kind loops over
them itself, so it decides whether two of them compound). `precedence` orders kinds whose hooks
meet on one request (e.g. timeout_after_apply before stale_read: a lost answer is never stale):
lower sees the request first. The catalogue's own order (sim.faults.CATALOGUE) is the documented
one, used for listing, the JSON Schema and exploration.

A kind's module imports the gateway (which loads the real clients and their signing stack) and
hypothesis only inside the hooks and strategies that use them, and names them for annotations
under TYPE_CHECKING: `clobsim run` validates a scenario against the kinds' schemas and answers bad
input before anything heavy is loaded (tests/test_cli_imports.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:  # loaded where used (above)
    import simpy
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call
    from clobsim.sim.exchange.venue import Venue

ROUTES = [
    "*",
    "POST /order",
    "POST /orders",
    "DELETE /order",
    "DELETE /orders",
    "DELETE /cancel-all",
    "DELETE /cancel-market-orders",
    "GET /data/order",
    "GET /data/orders",
    "GET /data/trades",
    "GET /notifications",
    "DELETE /notifications",
    "GET /balance-allowance",
    "GET /book",
    "GET /markets",
    "GET /tick-size",
    "GET /neg-risk",
    "GET /fee-rate",
    "POST /v1/heartbeats",
]
ORDER_ROUTES = ("POST /order", "POST /orders")
CANCEL_ROUTES = ("DELETE /order", "DELETE /orders", "DELETE /cancel-all", "DELETE /cancel-market-orders")

# Sane bounds (sim.runner.scenario refuses values past them): a day of virtual time, a million
# shares, SQLite's INTEGER for ids, and counts a run can reach.
MAX_SECONDS = 86_400
MAX_SIZE = 1_000_000
MAX_ID = 2**63 - 1
MAX_COUNT = 100_000

# JSON Schema fragments of the common parameters
T = {"type": "number", "minimum": 0, "maximum": MAX_SECONDS}  # seconds from the window start
COUNT = {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}
TRADE = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
ORDER = {"enum": ["scale-in", "exit"]}
ENDPOINT = {"enum": ROUTES}
SIZE = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SIZE}
SECONDS = {"type": "number", "minimum": 0, "maximum": MAX_SECONDS}


@dataclass(frozen=True)
class Fault:
    """One fault of a scenario: its kind's name, the parameters the scenario gave, and the kind's
    defaults for the rest (sim.faults.fault() fills them in from the catalogue)."""

    kind: str
    params: dict[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def get(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        return self.defaults.get(name)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params}

    def window(self, horizon: float) -> tuple[float, float]:
        return float(self.get("from") or 0), float(self.get("to") if self.get("to") is not None else horizon)


@dataclass
class Armed:
    """One fault of a run with its remaining shots and whatever its kind keeps about it."""

    fault: Fault
    index: int
    shots: int
    state: dict = field(default_factory=dict)


class Push(NamedTuple):
    """One WebSocket event on its way to the bot: its channel ("market" | "user"), the message,
    and the seconds (simulated) it waits before it is sent."""

    channel: str
    message: dict
    delay: float = 0.0


class Final(NamedTuple):
    """An answer that goes back to the client as it is: no later kind's after_venue sees it."""

    answer: Answer


class Net(Protocol):
    """What a kind may use of the network (sim.faults.network.Network)."""

    env: simpy.Environment
    venue: Venue
    rng: random.Random
    owner: str
    horizon: float
    trade_tokens: dict[int, str]
    trace: Callable[..., None]
    doom: Callable[[str, float], None]
    mailbox: Any
    balances: Any
    sockets: Any  # the server's channels (sim.server), None in an in-process run

    def rel(self) -> float: ...
    def until(self, at: float) -> float: ...
    def in_window(self, armed: Armed) -> bool: ...
    def fire(self, armed: Armed, **details: Any) -> None: ...
    def targets(self, armed: Armed, order_id: str | None) -> bool: ...
    def is_target_request(self, armed: Armed, token: str, side: str) -> bool: ...
    def open_target(self, armed: Armed) -> Any: ...
    def matches(self, armed: Armed, call: Call) -> bool: ...
    def order_id(self, order: dict) -> str: ...
    def posted_order(self, call: Call) -> tuple[str, str, str] | None: ...


class BotHost(Protocol):
    """What a kind that acts on the bot itself may use of the harness."""

    @property
    def env(self) -> simpy.Environment: ...
    @property
    def window_start(self) -> float: ...

    def bot_is_up(self) -> bool: ...
    def kill_bot(self) -> None: ...
    def replace_bot(self) -> None: ...  # a new bot process on the same database, not started yet
    def start_bot(self) -> None: ...
    def record(self, record_type: str, /, **fields: Any) -> None: ...  # a trace record
    # core's code points (core.ports.CodePoint): a listener hears each one the bot reaches and
    # may stop the bot there, from inside its running task (crash_here does not return)
    def on_code_point(self, listener: Callable[[str], None]) -> None: ...
    def crash_here(self) -> None: ...


class Draws(NamedTuple):
    """The shared building blocks of exploration strategies (sim.explore.strategies)."""

    trade: st.SearchStrategy[int]
    order: st.SearchStrategy[str]
    endpoint: st.SearchStrategy[str]
    times: st.SearchStrategy[int]
    window: st.SearchStrategy[dict]


Armory = tuple[Armed, ...]


@dataclass(frozen=True)
class FaultKind:
    name: str
    summary: str
    params: dict[str, dict]
    required: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    precedence: int = 0
    watches: tuple[str, ...] = ()  # venue event kinds on_venue_event is called for
    over_sockets: bool = False  # acts on the server's WebSocket channels only (never explored)
    # Does a firing leave a fault record in the trace? Only then can "this fault never fired" be
    # told from a run (the plugin's assert_safe fails such a run). latency only stretches legs.

    def schema(self) -> dict:
        props: dict[str, Any] = {"kind": {"const": self.name}}
        props.update(self.params)
        return {
            "type": "object",
            "properties": props,
            "required": ["kind", *self.required],
            "additionalProperties": False,
            "description": self.summary,
        }

    # ---- injection (see the module docstring); the defaults do nothing ------------------------

    def legs(self, net: Net, armed: Armory, route: str, req: float, resp: float) -> tuple[float, float]:
        return req, resp

    def refuse(self, net: Net, armed: Armory, call: Call) -> Answer | None:
        return None

    def admit(self, net: Net, armed: Armory, call: Call) -> Answer | None:
        return None

    def before_venue(self, net: Net, armed: Armory, call: Call) -> None:
        return None

    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        return answer

    def on_venue_event(self, net: Net, armed: Armory, event: dict) -> None:
        return None

    def begin(self, net: Net, armed: Armed) -> None:
        return None

    def begin_bot(self, host: BotHost, fault: Fault, index: int) -> None:
        """`index`: the fault's place in the scenario, carried by its trace records."""
        return None

    def ws_push(self, net: Net, armed: Armory, push: Push) -> list[Push]:
        return [push]

    # ---- exploration ---------------------------------------------------------------------------

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        """The kind's parameters as exploration draws them (without "kind")."""
        raise NotImplementedError(f"fault kind {self.name} has no exploration strategy")

    def overrides(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(FaultKind, hook)
