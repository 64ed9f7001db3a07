"""notification_drop: notifications created during [from, to) (of the given types) are never
delivered: only polling can find those fills and cancellations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.faults.kind import Armory, Draws, FaultKind, Net, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st


class NotificationDrop(FaultKind):
    def on_venue_event(self, net: Net, armed: Armory, event: dict) -> None:
        fields = event["fields"]
        if event["kind"] != VenueEvent.NOTIFICATION or fields["owner"] != net.owner:
            return
        for one in armed:
            types = one.fault.get("types")
            if net.in_window(one) and (not types or fields["type"] in types):
                net.mailbox.dropped_forever.add(fields["id"])
                net.trace(TraceType.FAULT, kind=self.name, index=one.index, notification=fields["id"])

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return draws.window


KIND = NotificationDrop(
    "notification_drop",
    "Notifications created during [from, to) are never delivered.",
    {"from": T, "to": T, "types": {"type": "array", "items": {"enum": [1, 2, 4]}}},
    (),
    {"from": 0},
    precedence=120,
    watches=(VenueEvent.NOTIFICATION,),
)
