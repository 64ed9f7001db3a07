"""http_error: the venue (or the CDN in front of it) answers an error status without applying
the request: 425 (engine restarting), 429, 500, 502, 503, or Cloudflare's HTML 403 page."""

from __future__ import annotations

from hypothesis import strategies as st

from sim.exchange.gateway import Answer, Call, error
from sim.faults.engine_restart import ENGINE_RESTARTING
from sim.faults.kind import COUNT, ENDPOINT, Armory, Draws, FaultKind, Net, T

MESSAGES = {
    425: ENGINE_RESTARTING,
    429: "Too Many Requests",
    500: "order timed out",
    502: "Bad Gateway",
    503: "trading is currently disabled",
    403: "Forbidden",
}


def error_answer(status: int, body: str) -> Answer:
    if body == "html":
        page = (
            (f"<html><head><title>{status} Forbidden</title></head><body><h1>Access denied</h1></body></html>")
            if status == 403
            else f"<html><body><h1>{status}</h1></body></html>"
        )
        return Answer(status, page)
    return error(status, MESSAGES.get(status, "error"))


class HttpError(FaultKind):
    def refuse(self, net: Net, armed: Armory, call: Call) -> Answer | None:
        for one in armed:
            if net.matches(one, call):
                net.fire(one, route=call.route, seq=call.seq, status=one.fault.get("status"))
                return error_answer(int(one.fault.get("status")), one.fault.get("body"))
        return None

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return st.fixed_dictionaries(
            {
                "endpoint": draws.endpoint,
                "at": draws.times,
                "count": st.integers(1, 5),
                "status": st.sampled_from([425, 429, 500, 503, 403]),
                "body": st.sampled_from(["json", "html"]),
            }
        )


KIND = HttpError(
    "http_error",
    "The venue answers an error status (425/429/500/503, or a CDN's 403 HTML page) without applying the request.",
    {
        "endpoint": ENDPOINT,
        "at": T,
        "count": COUNT,
        "status": {"enum": [403, 425, 429, 500, 502, 503]},
        "body": {"enum": ["json", "html"]},
    },
    ("endpoint", "status"),
    {"at": 0, "count": 1, "body": "json"},
    precedence=20,
)
