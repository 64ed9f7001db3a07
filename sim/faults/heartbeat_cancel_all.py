"""heartbeat_cancel_all: the venue's dead-man switch cancels all of the bot's open orders at `at`.

The bot's heartbeat is made to have lapsed, so its orders end CANCELED with reason "heartbeat"
(not a user cancel) and a heartbeat_expired event, as Polymarket does when heartbeats stop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobsim.sim.exchange.venue import HEARTBEAT_TIMEOUT
from clobsim.sim.faults.kind import Armed, Draws, FaultKind, Net, T

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


class HeartbeatCancelAll(FaultKind):
    def begin(self, net: Net, armed: Armed) -> None:
        net.env.process(self._cancel_all(net, armed))

    def _cancel_all(self, net: Net, armed: Armed) -> Any:
        yield net.env.timeout(net.until(float(armed.fault.get("at"))))
        account = net.venue.accounts[net.owner]
        lapsed = net.env.now - HEARTBEAT_TIMEOUT - 1
        account.heartbeat_at = lapsed if account.heartbeat_at is None else min(account.heartbeat_at, lapsed)
        canceled = [oid for oid in net.venue.heartbeat_sweep() if net.venue.orders[oid].owner == net.owner]
        net.fire(armed, canceled=canceled)

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return st.fixed_dictionaries({"at": draws.times})


KIND = HeartbeatCancelAll(
    "heartbeat_cancel_all",
    "The venue cancels all of the bot's open orders at `at` (a missed heartbeat).",
    {"at": T},
    ("at",),
    precedence=180,
)
