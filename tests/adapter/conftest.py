"""Fixtures of the adapter's tests: every test runs once per real client (tests/adapter/clients.py)
unless it names the clients it is about (`@pytest.mark.parametrize("client", [V2], indirect=True)`)."""

from __future__ import annotations

import httpx
import pytest

from clobsim.core.clob_adapter import ClobExchange
from tests.adapter.clients import CHAIN_ID, CLIENTS, HOST, PRIVATE_KEY, Client, Venue


@pytest.fixture(params=CLIENTS, ids=str)
def client(request) -> Client:
    return request.param


@pytest.fixture
def venue(client, monkeypatch):
    venue = Venue(client)
    transport = httpx.Client(transport=httpx.MockTransport(venue.handle))
    monkeypatch.setattr(client.helpers, "_http_client", transport)  # monkeypatch restores the original
    yield venue
    transport.close()


@pytest.fixture
def exchange(client, venue) -> ClobExchange:
    return ClobExchange(client.clob_client(HOST, chain_id=CHAIN_ID, key=PRIVATE_KEY, creds=client.creds))
