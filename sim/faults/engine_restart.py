"""engine_restart: the weekly matching-engine restart. Placements and cancels get 425 for
`duration` seconds; then, for `post_only_for` seconds, the venue takes post-only orders only
(503 with Retry-After), as Polymarket's engine does while it comes back. Under v2 the 503's JSON
also carries the machine-readable `"code": "post_only_mode"` (what polymarket-client reads as a
post-only trading restriction); its text already names the mode, so core's adapter reads the same
message under either protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.exchange.protocol import V2
from clobsim.sim.faults.kind import CANCEL_ROUTES, ORDER_ROUTES, SECONDS, Armory, Draws, FaultKind, Net, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call

POST_ONLY_CODE = "post_only_mode"
POST_ONLY_MODE = f"{POST_ONLY_CODE}: the matching engine only accepts post-only orders"
RETRY_AFTER = "Retry-After"
ENGINE_RESTARTING = "matching engine is restarting"


def post_only_answer(protocol: str) -> Answer:
    """The 503 a placement that is not post-only gets while the engine is in post-only mode."""
    from clobsim.sim.exchange.gateway import Answer  # noqa: PLC0415 - lazily: sim.faults.kind

    body = {"error": POST_ONLY_MODE}
    if protocol == V2:
        body["code"] = POST_ONLY_CODE
    return Answer(503, body, ((RETRY_AFTER, "30"),))


class EngineRestart(FaultKind):
    def refuse(self, net: Net, armed: Armory, call: Call) -> Answer | None:
        from clobsim.sim.exchange.gateway import error  # noqa: PLC0415 - lazily: sim.faults.kind

        for one in armed:
            at = float(one.fault.get("at"))
            restart_end = at + float(one.fault.get("duration"))
            post_only_end = restart_end + float(one.fault.get("post_only_for"))
            rel = net.rel()
            if at <= rel < restart_end and (call.route in ORDER_ROUTES or call.route in CANCEL_ROUTES):
                net.trace(
                    TraceType.FAULT, kind=self.name, index=one.index, route=call.route, seq=call.seq, phase="restarting"
                )
                return error(425, ENGINE_RESTARTING)
            if (
                restart_end <= rel < post_only_end
                and call.route == "POST /order"
                and not (isinstance(call.body, dict) and call.body.get("postOnly"))
            ):
                net.trace(
                    TraceType.FAULT, kind=self.name, index=one.index, route=call.route, seq=call.seq, phase="post-only"
                )
                return post_only_answer(net.venue.protocol)
        return None

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries(
            {"at": draws.times, "duration": st.sampled_from([30, 90]), "post_only_for": st.sampled_from([0, 120])}
        )


KIND = EngineRestart(
    "engine_restart",
    "Matching-engine restart: 425 on place and cancel for `duration` s, then post-only mode for `post_only_for` s.",
    {"at": T, "duration": SECONDS, "post_only_for": SECONDS},
    ("at",),
    {"duration": 90, "post_only_for": 120},
    precedence=30,
)
