"""http_error: the venue (or the CDN in front of it) answers an error status: 425 (engine
restarting), 429, 500, 502, 503, or Cloudflare's HTML 403 page.

By default the request is refused before the venue sees it. `applied: true` is the real venue's
500 "order timed out": the matching engine did apply the request (an order rests or matched, a
cancel landed) but the API gave up waiting for it and answers 500. A client that reads every 5xx
as "not applied" re-posts, and each re-post is a second live order. Only 500 and 502 (a proxy that
gave up after forwarding) can be applied; 425, 429, 503 and the CDN's 403 are refusals by
definition, so the kind's schema accepts `applied: true` only with those two statuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.exchange.protocol import V1, V2
from clobsim.sim.faults.engine_restart import ENGINE_RESTARTING, RETRY_AFTER
from clobsim.sim.faults.kind import (
    CANCEL_ROUTES,
    COUNT,
    ENDPOINT,
    ORDER_ROUTES,
    Armory,
    Draws,
    FaultKind,
    Final,
    Net,
    T,
)

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call

MESSAGES = {
    425: ENGINE_RESTARTING,
    429: "Too Many Requests",
    500: "order timed out",
    502: "Bad Gateway",
    503: "trading is currently disabled",
    403: "Forbidden",
}


# What CLOB V2 adds to a JSON refusal (protocol v2 only): a 429 says when to come back and how
# much of the window is left (the Poly-RateLimit-* headers polymarket-client reads); a 503 says
# when to come back. py-clob-client(-v2) drop every header (docs/venue-shapes.md).
V2_HEADERS: dict[int, tuple[tuple[str, str], ...]] = {
    429: ((RETRY_AFTER, "1"), ("Poly-RateLimit-Remaining", "0"), ("Poly-RateLimit-Reset", "1")),
    503: ((RETRY_AFTER, "30"),),
}


def error_answer(status: int, body: str, protocol: str = V1) -> Answer:
    from clobsim.sim.exchange.gateway import Answer, error  # noqa: PLC0415 - lazily: sim.faults.kind

    if body == "html":
        page = (
            (f"<html><head><title>{status} Forbidden</title></head><body><h1>Access denied</h1></body></html>")
            if status == 403
            else f"<html><body><h1>{status}</h1></body></html>"
        )
        return Answer(status, page)
    answer = error(status, MESSAGES.get(status, "error"))
    if protocol == V2:
        return answer._replace(headers=V2_HEADERS.get(status, ()))
    return answer


APPLIABLE = (500, 502)  # statuses a gateway answers after forwarding the request


class HttpError(FaultKind):
    def schema(self) -> dict:
        # applied: true names a status only a gateway that forwarded the request answers
        applied = {"properties": {"applied": {"const": True}}, "required": ["applied"]}
        return super().schema() | {"if": applied, "then": {"properties": {"status": {"enum": list(APPLIABLE)}}}}

    def refuse(self, net: Net, armed: Armory, call: Call) -> Answer | None:
        for one in armed:
            if not one.fault.get("applied") and net.matches(one, call):
                net.fire(one, route=call.route, seq=call.seq, status=one.fault.get("status"))
                return error_answer(int(one.fault.get("status")), one.fault.get("body"), net.venue.protocol)
        return None

    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        for one in armed:
            if one.fault.get("applied") and net.matches(one, call):
                status = int(one.fault.get("status"))
                net.fire(one, route=call.route, seq=call.seq, status=status, phase="applied, then error")
                return Final(error_answer(status, one.fault.get("body"), net.venue.protocol))
        return answer

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries(
            {
                "endpoint": draws.endpoint,
                "at": draws.times,
                "count": st.integers(1, 5),
                "status": st.sampled_from([425, 429, 500, 503, 403]),
                "body": st.sampled_from(["json", "html"]),
            }
        ).flatmap(_maybe_applied)


def _maybe_applied(params: dict) -> st.SearchStrategy[dict]:
    """Exploration tries both outcomes of a 500: refused, and applied then answered 500."""
    from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

    if params["status"] not in APPLIABLE:
        return st.just(params)
    # Applying a read changes nothing; an applied error bites on a write, and most on a placement.
    endpoint = params["endpoint"] if params["endpoint"] in (*ORDER_ROUTES, *CANCEL_ROUTES) else "POST /order"
    return st.sampled_from([params, params | {"applied": True, "endpoint": endpoint}])


KIND = HttpError(
    "http_error",
    "The venue answers an error status (425/429/500/503, or a CDN's 403 HTML page); without applying the "
    "request, or (applied: true, 500/502 only) after applying it.",
    {
        "endpoint": ENDPOINT,
        "at": T,
        "count": COUNT,
        "status": {"enum": [403, 425, 429, 500, 502, 503]},
        "body": {"enum": ["json", "html"]},
        "applied": {"type": "boolean"},
    },
    ("endpoint", "status"),
    {"at": 0, "count": 1, "body": "json", "applied": False},
    precedence=20,
)
