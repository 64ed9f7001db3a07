"""The bot's notifications on their way: what the notification faults hold back, drop or repeat.

The venue keeps every notification until the bot drops it (sim.exchange.venue); the mailbox
decides which of them GET /notifications shows now. Faults mark notifications as they are
created (sim.faults.notification_delay, notification_drop, notification_duplicate, late_fill);
the network filters each answer through `deliverable` before any kind's after_venue sees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

FILL = 2  # the venue's notification type for an order fill


class Mailbox:
    def __init__(self) -> None:
        self.hidden_until: dict[str, float] = {}  # notification id -> deliverable from
        self.dropped_forever: set[str] = set()
        self.redeliver: dict[str, dict] = {}  # duplicated notifications waiting for their drop
        self.redeliver_by: dict[str, int] = {}  # notification id -> the duplicating fault's index
        self._fill_notes_delay: float | None = None

    @contextmanager
    def holding_fill_notes(self, delay: float) -> Iterator[None]:
        """Fill notifications created inside the block arrive `delay` seconds late."""
        self._fill_notes_delay = delay
        try:
            yield
        finally:
            self._fill_notes_delay = None

    def created(self, note_id: str, note_type: int, time: float) -> None:
        if self._fill_notes_delay is not None and note_type == FILL:
            self.hidden_until[note_id] = time + self._fill_notes_delay

    def hide(self, note_id: str, until: float) -> None:
        self.hidden_until[note_id] = max(self.hidden_until.get(note_id, 0.0), until)

    def deliverable(self, notes: list, now: float) -> list:
        if not (self.dropped_forever or self.hidden_until):
            return list(notes)  # no fault has touched a notification (most runs, every poll)
        return [
            note
            for note in notes
            if str(note.get("id")) not in self.dropped_forever
            and self.hidden_until.get(str(note.get("id")), 0.0) <= now
        ]
