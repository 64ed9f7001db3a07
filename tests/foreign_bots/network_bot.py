"""A bot that reads Gamma with requests, the Data API with httpx, its own price feed (a stub),
and then a host nobody stubbed."""

import logging
import os
import socket

import httpx
import requests
from py_clob_client_v2.client import ClobClient

log = logging.getLogger("network_bot")


def main() -> None:
    market = requests.get("https://gamma-api.polymarket.com/markets", params={"slug": os.environ["MARKET_SLUG"]}).json()
    log.info("gamma: %s tokens %s", market[0]["slug"], len(market[0]["clobTokenIds"]) > 10)
    address = ClobClient(
        os.environ["CLOB_HOST"], chain_id=int(os.environ["CHAIN_ID"]), key=os.environ["PK"]
    ).get_address()
    positions = httpx.get("https://data-api.polymarket.com/positions", params={"user": address}).json()
    log.info("data: %d positions", len(positions))
    price = httpx.get("https://prices.example.com/v1/btc").json()
    log.info("feed: btc=%s", price["price"])
    try:
        log.info("other: %s", requests.get("https://unknown.example.org/secret/path", timeout=5).json())
    except requests.ConnectionError as exc:
        log.info("refused: %s", type(exc).__name__)
    try:
        socket.create_connection(("example.net", 443), timeout=5)
    except OSError as exc:
        log.info("socket refused: %s", type(exc).__name__)


def stubs(method: str, url: str):
    """A stubs hook: the price feed and the unknown host, answered from Python."""
    if url.startswith("https://prices.example.com/"):
        return 200, {"price": 1}
    if url.startswith("https://unknown.example.org/"):
        return 200, {"ok": True}
    return None
