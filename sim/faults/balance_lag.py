"""balance_lag: the conditional-token balance reports fills `lag` seconds late (failure mode 6).

GET /balance-allowance answers the balance as it stood `lag` seconds ago, and the venue's own
balance check of a SELL lags the same way: a SELL that only the shares credited in the last
`lag` seconds would cover is refused (no bot can sell more than the lagged balance), while an
exit sized from the lagging balance is too small.

`venue_check: false` lags the balance API alone: the matching engine knows the shares at once
(the API's answer is a cached read model, as on Polymarket, where the balance endpoint can trail
the engine), so a SELL for the whole position is accepted while the balance still shows less.
Only a bot that sizes its exit from the balance is hurt, and nothing excuses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.records import BASE_UNITS, NOT_ENOUGH_BALANCE, base_units
from clobsim.sim.faults.kind import SECONDS, Armed, Armory, Draws, Fault, FaultKind, Final, Net, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call

# venue events after which a token balance may have changed
BALANCE_EVENTS = (
    VenueEvent.ACCOUNT_OPENED,
    VenueEvent.DEPOSIT,
    VenueEvent.TRADE_MATCHED,
    VenueEvent.TRADE_VOIDED,
    VenueEvent.PAYOUT,
)


class BalanceHistory:
    """The bot's token balances over time, from the venue's events (token -> [(time, balance)])."""

    def __init__(self) -> None:
        self.steps: dict[str, list[tuple[float, Decimal]]] = {}

    def snapshot(self, net: Net) -> None:
        account = net.venue.account(net.owner)
        if account is None:
            return
        for token in sorted(set(net.trade_tokens.values())):
            history = self.steps.setdefault(token, [])
            value = account.balance(token)
            if not history or history[-1][1] != value:
                history.append((net.env.now, value))

    def lagged(self, net: Net, token: str, armed: Armed) -> Decimal:
        """The token balance as it stood `lag` seconds ago."""
        seen_at = net.env.now - float(armed.fault.get("lag"))
        lagged = Decimal(0)
        for t, value in self.steps.get(token, []):
            if t <= seen_at:
                lagged = value
        return lagged


def sellable_caps(faults: Iterable[Fault], horizon: float) -> list[tuple[float, float, float]]:
    """The excuse this kind gives checks of what the bot could sell: (from, to, lag) with from/to
    in seconds from the window start. Within such a window the venue's balance check of a SELL
    lags by `lag` seconds, so no bot can sell more than it held `lag` seconds ago."""
    return [
        (*fault.window(horizon), float(fault.get("lag")))
        for fault in faults
        if fault.kind == KIND.name and fault.get("venue_check")
    ]


class BalanceLag(FaultKind):
    def on_venue_event(self, net: Net, armed: Armory, event: dict) -> None:
        if event["kind"] in BALANCE_EVENTS:
            net.balances.snapshot(net)

    def admit(self, net: Net, armed: Armory, call: Call) -> Answer | None:
        from clobsim.sim.exchange.gateway import error  # noqa: PLC0415 - lazily: sim.faults.kind

        if call.route != "POST /order" or not isinstance(call.body, dict):
            return None
        order = call.body.get("order") or {}
        token = str(order.get("tokenId", ""))
        account = net.venue.account(call.owner)
        if str(order.get("side")) not in ("1", "SELL") or account is None or token not in net.balances.steps:
            return None
        try:
            size = Decimal(int(order["makerAmount"])) / BASE_UNITS
        except (KeyError, TypeError, ValueError):
            return None  # malformed: the venue rejects it
        for one in armed:
            if not net.in_window(one) or not one.fault.get("venue_check"):
                continue
            lagged = net.balances.lagged(net, token, one)
            if lagged - net.venue.locked(account, token) < size <= net.venue.available(account.api_key, token):
                net.trace(
                    TraceType.FAULT,
                    kind=self.name,
                    index=one.index,
                    token=token,
                    seq=call.seq,
                    shown=str(lagged),
                    needed=str(size),
                    phase="placement refused",
                )
                return error(400, NOT_ENOUGH_BALANCE)
        return None

    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        from clobsim.sim.exchange.gateway import Answer  # noqa: PLC0415 - lazily: sim.faults.kind

        if call.route != "GET /balance-allowance" or answer.status != 200:
            return answer
        token = call.params.get("token_id")
        if call.params.get("asset_type") != "CONDITIONAL" or not token:
            return answer
        for one in armed:
            if not net.in_window(one):
                continue
            lagged = net.balances.lagged(net, token, one)
            current = Decimal(int(answer.body.get("balance", "0"))) / BASE_UNITS
            if lagged != current:
                net.trace(
                    TraceType.FAULT,
                    kind=self.name,
                    index=one.index,
                    token=token,
                    shown=str(lagged),
                    actual=str(current),
                )
                return Answer(200, {**answer.body, "balance": base_units(lagged)}, answer.headers)
        return answer

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries({"lag": st.sampled_from([5, 20, 60])})


KIND = BalanceLag(
    "balance_lag",
    "The conditional-token balance reports fills `lag` seconds late.",
    {"lag": SECONDS, "from": T, "to": T, "venue_check": {"type": "boolean"}},
    ("lag",),
    {"from": 0, "venue_check": True},
    precedence=150,
    watches=BALANCE_EVENTS,
)
