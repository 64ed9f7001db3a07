"""A bot that reads the market through each real client, each given the production host."""

import json
import logging
import os

import httpx
from eth_account import Account
from polymarket import ApiKeyCreds, SecureClient
from py_clob_client.client import ClobClient as ClobClientV1
from py_clob_client.clob_types import ApiCreds
from py_clob_client_v2.client import ClobClient as ClobClientV2
from py_clob_client_v2.clob_types import ApiCreds as ApiCredsV2

log = logging.getLogger("clients_bot")
HOST = "https://clob.polymarket.com"


def main() -> None:
    key, chain = os.environ["PK"], int(os.environ["CHAIN_ID"])
    secrets = (os.environ["CLOB_API_KEY"], os.environ["CLOB_SECRET"], os.environ["CLOB_PASS_PHRASE"])
    market = httpx.get("https://gamma-api.polymarket.com/markets", params={"slug": os.environ["MARKET_SLUG"]}).json()[0]
    up = json.loads(market["clobTokenIds"])[0]
    v1 = ClobClientV1(HOST, chain_id=chain, key=key, creds=ApiCreds(*secrets))
    log.info("v1 book bids: %d", len(v1.get_order_book(up).bids))
    v2 = ClobClientV2(HOST, chain_id=chain, key=key, creds=ApiCredsV2(*secrets))
    log.info("v2 open orders: %d", len(v2.get_open_orders()))
    sdk = SecureClient.create(
        private_key=key,
        wallet=Account.from_key(key).address,
        credentials=ApiKeyCreds(apiKey=secrets[0], secret=secrets[1], passphrase=secrets[2]),
    )
    shares = sdk.get_balance_allowance(asset_type="CONDITIONAL", token_id=up)
    log.info("sdk shares: %d", shares.balance)
