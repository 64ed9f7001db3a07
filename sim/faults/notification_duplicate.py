"""notification_duplicate: notifications created during [from, to) are delivered again after
the bot dropped them (at-least-once delivery): processing one twice must change nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.faults.kind import Armory, Draws, FaultKind, Final, Net, T
from clobsim.sim.trace import TraceType

if TYPE_CHECKING:  # loaded where used: sim.faults.kind
    from hypothesis import strategies as st

    from clobsim.sim.exchange.gateway import Answer, Call


class NotificationDuplicate(FaultKind):
    def on_venue_event(self, net: Net, armed: Armory, event: dict) -> None:
        fields = event["fields"]
        if event["kind"] != VenueEvent.NOTIFICATION or fields["owner"] != net.owner:
            return
        for one in armed:
            if net.in_window(one):
                net.mailbox.redeliver[fields["id"]] = {}
                net.mailbox.redeliver_by.setdefault(fields["id"], one.index)

    def after_venue(self, net: Net, armed: Armory, call: Call, answer: Answer) -> Answer | Final:
        from clobsim.sim.exchange.gateway import Answer  # noqa: PLC0415 - lazily: sim.faults.kind

        redeliver = net.mailbox.redeliver
        if call.route == "DELETE /notifications":
            # the bot dropped them: the copies are due at its next read
            for nid in str(call.params.get("ids", "")).split(","):
                copy = redeliver.get(nid)
                if copy and "_done" not in copy and "_due" not in copy:
                    copy["_due"] = True
            return answer
        if call.route != "GET /notifications" or answer.status != 200:
            return answer
        out = list(answer.body)
        for note in out:
            nid = str(note.get("id"))
            if nid in redeliver and not redeliver[nid]:
                redeliver[nid] = dict(note)  # remember it for the second delivery
        for nid in sorted(redeliver, key=lambda n: int(n) if n.isdigit() else n):
            copy = redeliver[nid]
            if copy.get("_due"):
                copy.pop("_due")
                out.append(copy)
                redeliver[nid] = {"_done": True}
                net.trace(TraceType.FAULT, kind=self.name, index=net.mailbox.redeliver_by.get(nid), notification=nid)
        return Answer(200, out, answer.headers)

    def strategy(self, draws: Draws) -> st.SearchStrategy[dict]:
        return draws.window


KIND = NotificationDuplicate(
    "notification_duplicate",
    "Notifications created during [from, to) are delivered again after they were dropped.",
    {"from": T, "to": T},
    (),
    {"from": 0},
    precedence=130,
    watches=(VenueEvent.NOTIFICATION,),
)
