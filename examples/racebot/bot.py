"""racebot: scales into a position once and exits it at 0.99, as docs/audit-trail.md describes.

An independent bot (it imports nothing of clobsim): py-clob-client-v2 for the CLOB, Gamma and the
Data API over HTTP, a thread that watches positions, time.sleep, and its own SQLite file in the
working directory. Configured from the environment (CLOB_HOST, CHAIN_ID, PK, CLOB_API_KEY,
CLOB_SECRET, CLOB_PASS_PHRASE, MARKET_SLUG). RACEBOT_BUG=1 switches on the classic race: at exit
it checks the scale-in's status, then cancels, and trusts the status it read.

Entry point: main(). positions() answers what the bot believes it holds, per token.
"""

from __future__ import annotations

import logging
import os
import queue
import time
from datetime import UTC, datetime

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import ApiCreds, OrderArgs, OrderPayload, OrderType, PartialCreateOrderOptions
from py_clob_client_v2.exceptions import PolyApiException
from racebot.feeds import PositionWatcher, market_by_slug
from racebot.store import Position, Store

DB = "racebot.sqlite"
EXIT_PRICE = 0.99
SCALE_IN_AFTER = 60.0  # seconds after a position is found
CONFIDENCE = 0.85
CANCEL_BEFORE_END = 30.0
log = logging.getLogger("racebot")


class RaceBot:
    def __init__(self) -> None:
        creds = ApiCreds(os.environ["CLOB_API_KEY"], os.environ["CLOB_SECRET"], os.environ["CLOB_PASS_PHRASE"])
        self.client = ClobClient(
            os.environ.get("CLOB_HOST", "https://clob.polymarket.com"),
            chain_id=int(os.environ.get("CHAIN_ID", "137")),
            key=os.environ["PK"],
            creds=creds,
        )
        self.buggy = os.environ.get("RACEBOT_BUG") == "1"
        self.market = market_by_slug(os.environ["MARKET_SLUG"])
        self.symbol = self.market["slug"].split("-")[0].upper()
        self.end = datetime.strptime(self.market["end"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        self.options = PartialCreateOrderOptions(tick_size=self.market["tick_size"])
        self.store = Store(DB)
        self.found: queue.Queue = queue.Queue()
        self.watcher = PositionWatcher(self.client.get_address(), self.market["tokens"], self.found)

    # ---- audit lines --------------------------------------------------------------------------

    def trade_line(self, p: Position, emoji: str, text: str) -> None:
        log.info("📈 [%s] Trade #%d %s | %s %s", self.symbol, p.number, p.outcome.upper(), emoji, text)

    def exit_line(self, p: Position, emoji: str, text: str, level: int = logging.INFO) -> None:
        log.log(level, "%s [%s] #%d EXIT AUDIT: %s", emoji, self.symbol, p.number, text)

    # ---- the loop -----------------------------------------------------------------------------

    def run(self) -> None:
        self.watcher.start()
        positions = {p.token: p for p in self.store.all()}
        while time.time() < self.end:
            try:
                new = self.found.get(timeout=1.0)
                if new["token"] not in positions:
                    p = Position(new["token"], self.market["tokens"][new["token"]], new["size"], new["size"],
                                 new["at"], len(positions) + 1)  # fmt: skip
                    positions[p.token] = p
                    self.trade_line(p, "🟢", f"POSITION OPENED: {p.entry:.2f} shares | confidence={CONFIDENCE:.2f}")
                    self.place_exit(p, p.held)
            except queue.Empty:
                pass
            for p in positions.values():
                if p.state == "open":
                    self.manage(p)
                self.store.save(p)
            if self.end - time.time() <= CANCEL_BEFORE_END:
                break
            time.sleep(1.0)
        for p in positions.values():
            self.wind_down(p)
            self.store.save(p)
        self.watcher.stopping.set()
        self.watcher.join()
        self.store.close()

    def manage(self, p: Position) -> None:
        now = time.time()
        if not p.scale_in_id and now - p.opened_at >= SCALE_IN_AFTER:
            self.scale_in(p)
        if p.scale_in_state == "live":
            order = self.client.get_order(p.scale_in_id)
            matched = float(order["size_matched"])
            if matched > p.scale_in_matched:
                self.scale_in_fill(p, matched, "Delayed")
        if p.exit_id:
            order = self.client.get_order(p.exit_id)
            sold = float(order["size_matched"])
            if sold > p.exit_sold:
                p.held -= sold - p.exit_sold
                self.exit_line(p, "✅", f"Exit order filled: +{sold - p.exit_sold:.2f} shares @ ${EXIT_PRICE:.4f} "
                               f"| sold={sold:.2f}/{p.exit_size:.2f} | OrderID: {p.exit_id}")  # fmt: skip
                p.exit_sold = sold
                if sold >= p.exit_size:
                    p.exit_id = ""
                    self.exit_line(p, "🏁", f"Exit plan complete: position closed at ${EXIT_PRICE:.2f}")
                    self.cancel_scale_in(p)
                    if p.held > 0:
                        self.place_exit(p, p.held)
                    elif p.scale_in_state != "live":
                        p.state = "closed"

    def scale_in(self, p: Position) -> None:
        book = self.client.get_order_book(p.token)
        bids = book.bids if hasattr(book, "bids") else book["bids"]
        best = max(float(b.price if hasattr(b, "price") else b["price"]) for b in bids)
        left = int(self.end - time.time())
        self.trade_line(p, "🎯", f"SCALE-IN PLACEMENT: Initiating maker order | size={p.entry:.2f}, "
                        f"price=${best:.2f}, time_left={left}s, confidence={CONFIDENCE:.2f}")  # fmt: skip
        try:
            answer = self.client.create_and_post_order(
                OrderArgs(token_id=p.token, price=best, size=p.entry, side="BUY"), self.options, OrderType.GTC
            )
        except PolyApiException as exc:
            self.trade_line(p, "❌", f"SCALE-IN PLACEMENT FAILED: {exc}")
            p.scale_in_id = "failed"
            return
        p.scale_in_id, p.scale_in_price, p.scale_in_size = answer["orderID"], best, p.entry
        p.scale_in_state = "live"
        if answer.get("status") == "matched":
            self.scale_in_fill(p, p.entry, "Immediate")
        else:
            self.trade_line(p, "⏳", f"SCALE-IN PLACED: Maker order resting on book | status={answer.get('status')}, "
                            f"OrderID: {p.scale_in_id}")  # fmt: skip

    def scale_in_fill(self, p: Position, matched: float, how: str) -> None:
        delta = matched - p.scale_in_matched
        p.scale_in_matched = matched
        p.held += delta
        sign = "+" if how == "Delayed" else ""
        self.trade_line(p, "🎯" if how == "Delayed" else "✅", f"SCALE-IN FILLED ({how}): {sign}{delta:.2f} shares "
                        f"@ ${p.scale_in_price:.4f} | OrderID: {p.scale_in_id}")  # fmt: skip
        if matched >= p.scale_in_size:
            p.scale_in_state = "filled"
        self.resize_exit(p)

    # ---- exits ----------------------------------------------------------------------------------

    def place_exit(self, p: Position, size: float) -> None:
        answer = self.client.create_and_post_order(
            OrderArgs(token_id=p.token, price=EXIT_PRICE, size=size, side="SELL"), self.options, OrderType.GTC
        )
        p.exit_id, p.exit_size, p.exit_sold = answer["orderID"], size, 0.0
        self.exit_line(p, "📤", f"Exit order placed: SELL {size:.2f} shares @ ${EXIT_PRICE:.2f} | OrderID: {p.exit_id}")

    def resize_exit(self, p: Position) -> None:
        if p.exit_id:
            self.client.cancel_order(OrderPayload(orderID=p.exit_id))
            final = float(self.client.get_order(p.exit_id)["size_matched"])
            p.held -= final - p.exit_sold
            self.exit_line(p, "🔁", f"Resizing exit order {p.exit_id}: {p.exit_size:.2f} -> {p.held:.2f} shares")
        if p.held > 0:
            self.place_exit(p, p.held)

    def cancel_scale_in(self, p: Position) -> None:
        """Cancel the resting scale-in at exit. Safe: cancel, then read what it finally matched.
        RACEBOT_BUG=1: trust the status read before the cancel."""
        if p.scale_in_state != "live":
            return
        self.exit_line(p, "🧹", f"Starting scale-in order cancellation process for order {p.scale_in_id}")
        order = self.client.get_order(p.scale_in_id)
        self.exit_line(p, "🔍", f"Scale-in order {p.scale_in_id} status: {order['status']}")
        self.client.cancel_order(OrderPayload(orderID=p.scale_in_id))
        p.scale_in_state = "cancelled"
        if self.buggy:  # the race: the fill that landed between the read and the cancel is never seen
            self.exit_line(p, "✅", f"Successfully cancelled scale-in order {p.scale_in_id}")
            return
        final = float(self.client.get_order(p.scale_in_id)["size_matched"])
        if final > p.scale_in_matched:
            delta = final - p.scale_in_matched
            p.scale_in_matched, p.held = final, p.held + delta
            self.exit_line(p, "⚠️ ", f"RACE CONDITION DETECTED! Order {p.scale_in_id} filled before the cancel took "
                           f"effect (size: {final:.2f}), fill accounted", logging.WARNING)  # fmt: skip
        else:
            self.exit_line(p, "✅", f"Successfully cancelled scale-in order {p.scale_in_id}")

    def wind_down(self, p: Position) -> None:
        """Before the window ends: no order of the bot's is left resting."""
        left = int(self.end - time.time())
        for order_id in (p.scale_in_id if p.scale_in_state == "live" else "", p.exit_id):
            if order_id:
                self.exit_line(p, "⌛", f"Window ending in {left}s: cancelling leftover order {order_id}")
                self.client.cancel_order(OrderPayload(orderID=order_id))
        if p.exit_id:
            final = float(self.client.get_order(p.exit_id)["size_matched"])
            p.held -= final - p.exit_sold
            p.exit_id = ""
        if p.scale_in_state == "live":
            final = float(self.client.get_order(p.scale_in_id)["size_matched"])
            if final > p.scale_in_matched:
                p.held += final - p.scale_in_matched
                p.scale_in_matched = final
            p.scale_in_state = "cancelled"


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    RaceBot().run()


def positions() -> dict[str, float]:
    """What the bot believes it holds, per token (clobsim's positions hook: --bot-positions)."""
    store = Store(DB)
    try:
        return {p.token: round(p.held, 6) for p in store.all()}
    finally:
        store.close()


if __name__ == "__main__":
    main()
