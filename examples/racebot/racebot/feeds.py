"""What the bot reads besides the CLOB: the market from Gamma (httpx), its positions from the
Data API (requests), polled by a thread of its own that hands new ones over a queue."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time

import httpx
import requests

GAMMA = "https://gamma-api.polymarket.com"
DATA = "https://data-api.polymarket.com"
log = logging.getLogger("racebot.feeds")


def market_by_slug(slug: str) -> dict:
    answer = httpx.get(f"{GAMMA}/markets", params={"slug": slug}, timeout=10)
    answer.raise_for_status()
    markets = answer.json()
    if not markets:
        raise LookupError(f"no market {slug!r}")
    market = markets[0]
    tokens = json.loads(market["clobTokenIds"])
    outcomes = json.loads(market["outcomes"])
    return {
        "slug": market["slug"],
        "condition_id": market["conditionId"],
        "tokens": dict(zip(tokens, outcomes, strict=True)),
        "tick_size": str(market["orderPriceMinTickSize"]),
        "end": market["endDate"],
    }


class PositionWatcher(threading.Thread):
    """Polls the Data API every `every` seconds; puts each position it has not seen yet on `found`."""

    def __init__(self, user: str, tokens: dict[str, str], found: queue.Queue, every: float = 5.0):
        super().__init__(name="position-watcher", daemon=True)
        self.user, self.tokens, self.found, self.every = user, tokens, found, every
        self.stopping = threading.Event()
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def run(self) -> None:
        session = requests.Session()
        while not self.stopping.is_set():
            try:
                rows = session.get(f"{DATA}/positions", params={"user": self.user}, timeout=10).json()
            except requests.RequestException as exc:
                log.warning("position poll failed: %s", exc)
                rows = []
            for row in rows:
                with self.lock:
                    if row["asset"] in self.tokens and row["asset"] not in self.seen:
                        self.seen.add(row["asset"])
                        self.found.put({"token": row["asset"], "size": float(row["size"]), "at": time.time()})
            self.stopping.wait(self.every)
