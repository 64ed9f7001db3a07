"""Notifications: retrieve, process, drop.

Fill notifications feed the one fill path (so a duplicate, a replay after a crash, or a fill
already seen by polling changes nothing); cancellation notifications move the order's state and
send the bot to the trades listing for any size_matched not yet counted, as do V2's fill-failed
notifications (type 8: the listing shows the FAILED trade, and the fill path voids it); market-resolved
notifications let settlement skip a poll. Notifications are dropped only after processing: a
crash in between means they are delivered again, which idempotency makes harmless.
"""

from __future__ import annotations

from .context import BotContext
from .errors import ExchangeError
from .fills import FillPath
from .model import FillSeen, Notification, NotificationKind, OrderState, dec
from .monitor import Monitor
from .reconciliation import Reconciler


class NotificationProcessor:
    def __init__(self, ctx: BotContext, fills: FillPath, reconciler: Reconciler, monitor: Monitor):
        self.ctx = ctx
        self.fills = fills
        self.recon = reconciler
        self.monitor = monitor

    def poll(self) -> int:
        ctx = self.ctx
        ctx.audit.emit("notif.retrieve_start")
        try:
            notes = ctx.exchange.notifications()
        except ExchangeError as exc:
            ctx.audit.emit("notif.error", step="retrieval", error=exc.describe())
            return 0
        if not notes:
            return 0
        count = len(notes)
        ctx.audit.emit("notif.retrieved", count=count)
        for index, note in enumerate(notes, 1):
            try:
                self.process(note)
            except ExchangeError as exc:
                ctx.audit.emit("notif.error", step=f"processing {note.notification_id}", error=exc.describe())
            ctx.audit.emit(
                "notif.processed", index=index, count=count, type=note.kind.value, order_id=note.order_id or "-"
            )
        ctx.audit.emit("notif.success", count=count)
        ids = [n.notification_id for n in notes]
        try:
            ctx.exchange.drop_notifications(ids)
        except ExchangeError as exc:
            ctx.audit.emit("notif.error", step="drop", error=exc.describe())
        else:
            ctx.audit.emit("notif.dropped", count=len(ids))
        return count

    def process(self, note: Notification) -> None:
        ctx = self.ctx
        ctx.ledger.mark_notification_seen(note.notification_id, ctx.now())
        if note.kind is NotificationKind.FILL and note.trade_id:
            fill = FillSeen(note.trade_id, note.order_id, note.size, note.price, note.status or "MATCHED")
            self.fills.apply(fill, source="notification")
        elif note.kind is NotificationKind.FILL_FAILED:
            self._fill_failed(note)
        elif note.kind is NotificationKind.CANCEL:
            self._cancelled(note)
        elif note.kind is NotificationKind.RESOLVED and note.market and note.winning_asset_id:
            self.monitor.resolutions[note.market] = note.winning_asset_id

    def _fill_failed(self, note: Notification) -> None:
        """V2's "order fill failed" (type 8): one of the order's trades went FAILED. The trades
        listing says which and is read through the one fill path, which voids a counted fill
        once (a duplicate notice, or a void polling saw first, changes nothing). The notice's
        own payload is not trusted for the size: production's carries the order's sizes only.

        When the notice names a trade whose fill of this order is counted, that fill is voided
        at once, with the size and price the ledger counted: the listing can lag the failure by
        tens of seconds, and meanwhile the shares the failure gave back would go without an exit."""
        ledger = self.ctx.ledger
        order = ledger.order(note.order_id)
        if order is None:
            return
        counted = [f for f in ledger.fills(order.order_id) if f["trade_key"] == note.trade_id and not f["void"]]
        for fill in counted:
            failed = FillSeen(note.trade_id, order.order_id, dec(fill["size"]), dec(fill["price"]), "FAILED")
            self.fills.apply(failed, source="notification")
        self.recon.sync_fills(order, source="notification")

    def _cancelled(self, note: Notification) -> None:
        ctx = self.ctx
        order = ctx.ledger.order(note.order_id)
        if order is None:
            return
        ctx.ledger.note_venue_matched(order.order_id, note.size_matched)
        if note.size_matched > ctx.ledger.filled(order.order_id):
            # CANCELED with size_matched > 0: the fills behind it are in the trades listing
            self.recon.sync_fills(order, source="notification")
        if order.state is OrderState.CANCEL_PENDING:
            return  # our own cancel: the safe-cancel flow finishes the story
        if ctx.ledger.set_order_state(order.order_id, OrderState.CANCELLED, ctx.now(), "CANCELED"):
            self.recon.announce_terminal(order.order_id, "scale_in.venue_cancelled", "cancel notification")
