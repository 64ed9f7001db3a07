"""A bot with the blind re-post: when its order's placement times out, it posts the order again."""

import json
import logging
import os

import httpx
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import ApiCreds, OrderArgs, PartialCreateOrderOptions
from py_clob_client_v2.exceptions import PolyApiException

log = logging.getLogger("reposting_bot")


def main() -> None:
    creds = ApiCreds(os.environ["CLOB_API_KEY"], os.environ["CLOB_SECRET"], os.environ["CLOB_PASS_PHRASE"])
    client = ClobClient(
        os.environ["CLOB_HOST"], chain_id=int(os.environ["CHAIN_ID"]), key=os.environ["PK"], creds=creds
    )
    market = httpx.get("https://gamma-api.polymarket.com/markets", params={"slug": os.environ["MARKET_SLUG"]}).json()[0]
    token = json.loads(market["clobTokenIds"])[0]
    for attempt in (1, 2):
        try:
            answer = client.create_and_post_order(
                OrderArgs(token_id=token, price=0.5, size=10, side="BUY"), PartialCreateOrderOptions(tick_size="0.01")
            )
        except PolyApiException as exc:
            log.info("attempt %d: %s", attempt, exc)
            continue
        log.info("attempt %d: %s", attempt, answer["status"])
        client.cancel_all()
        return
