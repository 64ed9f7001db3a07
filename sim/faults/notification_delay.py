"""notification_delay: notifications created during [from, to) are delivered `delay` s late."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.faults.kind import SECONDS, Armory, Draws, FaultKind, Net, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


class NotificationDelay(FaultKind):
    def on_venue_event(self, net: Net, armed: Armory, event: dict) -> None:
        fields = event["fields"]
        if event["kind"] != VenueEvent.NOTIFICATION or fields["owner"] != net.owner:
            return
        for one in armed:
            if net.in_window(one):
                net.mailbox.hide(fields["id"], event["time"] + float(one.fault.get("delay")))
                net.trace(TraceType.FAULT, kind=self.name, index=one.index, notification=fields["id"])

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        from hypothesis import strategies as st  # noqa: PLC0415 - lazily: sim.faults.kind

        return draws.window.flatmap(lambda w: st.sampled_from([5, 60, 400]).map(lambda d: {**w, "delay": d}))


KIND = NotificationDelay(
    "notification_delay",
    "Notifications created during [from, to) are delivered `delay` s late.",
    {"from": T, "to": T, "delay": SECONDS},
    ("delay",),
    {"from": 0},
    precedence=110,
    watches=(VenueEvent.NOTIFICATION,),
)
