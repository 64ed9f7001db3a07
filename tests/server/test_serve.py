"""`clobsim serve` over real sockets: the listening line as soon as it accepts connections, REST
with L2 auth, the WebSocket channels' subscriptions; and its bad input."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from websockets.sync.client import connect

from clobsim.sim.runner.harness import BOT_CREDS

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
SCENARIO = os.path.join(ROOT, "examples", "wsbots", "scenarios", "user-channel-fills.yaml")
CLOBSIM = [sys.executable, "-m", "clobsim.sim.tools.cli"]
AUTH = {"apiKey": BOT_CREDS.api_key, "secret": BOT_CREDS.api_secret, "passphrase": BOT_CREDS.api_passphrase}


@pytest.fixture
def served():
    """A `clobsim serve` process on a free port: (base URL, the lines it printed after listening)."""
    process = subprocess.Popen(
        [*CLOBSIM, "serve", SCENARIO, "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline().strip()
        assert first.startswith("listening on http://127.0.0.1:"), (first, process.stderr.read())
        url = first.removeprefix("listening on ")
        variables = {}
        while len(variables) < 13:
            name, _, value = process.stdout.readline().strip().partition("=")
            variables[name] = value
        yield url, variables, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()


def test_serve_prints_the_listening_line_when_it_accepts_connections_and_answers_get_ok(served):
    url, variables, _ = served
    # the line comes after the socket is bound: the very next request is answered
    answer = httpx.get(f"{url}/ok", timeout=10)
    assert (answer.status_code, answer.text) == (200, "OK")
    assert variables["CLOBSIM_CLOB_HOST"] == url
    assert variables["CLOBSIM_WS_URL"] == url.replace("http://", "ws://") + "/ws"


def test_serve_refuses_an_authenticated_route_without_valid_l2_headers(served):
    url, _, _ = served
    answer = httpx.get(f"{url}/data/orders", headers={"POLY_API_KEY": BOT_CREDS.api_key}, timeout=10)
    assert answer.status_code == 401 and answer.json() == {"error": "Unauthorized/Invalid api key"}


def test_serve_accepts_a_user_channel_subscription_and_answers_ping(served):
    _, variables, _ = served
    with connect(variables["CLOBSIM_WS_URL"] + "/user", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "user", "auth": AUTH, "markets": [variables["CLOBSIM_MARKET"]]}))
        ws.send("PING")
        assert ws.recv(timeout=10) == "PONG"


def test_serve_closes_a_user_subscription_with_wrong_credentials(served):
    _, variables, _ = served
    with connect(variables["CLOBSIM_WS_URL"] + "/user", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "user", "auth": {**AUTH, "secret": "wrong"}}))
        with pytest.raises(Exception) as closed:
            ws.recv(timeout=10)
    assert "4001" in str(closed.value) and "Unauthorized" in str(closed.value)


def test_serve_sends_the_book_on_a_market_subscription(served):
    _, variables, _ = served
    with connect(variables["CLOBSIM_WS_URL"] + "/market", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "market", "assets_ids": [variables["CLOBSIM_TOKEN_UP"]]}))
        books = json.loads(ws.recv(timeout=10))
    assert [b["event_type"] for b in books] == ["book"]
    assert books[0]["asset_id"] == variables["CLOBSIM_TOKEN_UP"] and books[0]["asks"]


def test_serve_on_a_port_in_use_exits_2_with_one_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*CLOBSIM, "serve", SCENARIO, "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"clobsim: error: --port {port}: cannot listen on 127.0.0.1: ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_serve_refuses_a_speed_out_of_range_at_once():
    done = subprocess.run(
        [*CLOBSIM, "serve", SCENARIO, "--port", "0", "--speed", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "clobsim: error: --speed: must be a number from 0.01 to 1000, got 0.0",
    )


def test_a_request_the_network_never_answers_leaves_the_client_to_time_out(tmp_path):
    import yaml

    with open(SCENARIO, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["faults"] = [{"kind": "timeout_before_apply", "endpoint": "GET /book", "count": 1}]
    path = tmp_path / "lost-book.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    process = subprocess.Popen(
        [*CLOBSIM, "serve", str(path), "--port", "0", "--speed", "10"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip().removeprefix("listening on ")
        token = next(line.strip().partition("=")[2] for line in process.stdout if line.startswith("CLOBSIM_TOKEN_UP="))
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{url}/book", params={"token_id": token}, timeout=3)
        again = httpx.get(f"{url}/book", params={"token_id": token}, timeout=10)  # count 1: the next one is answered
        assert again.status_code == 200 and again.json()["asset_id"] == token
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 130


def test_serve_answers_a_body_over_a_megabyte_413_and_keeps_serving(served):
    url, _, _ = served
    answer = httpx.post(f"{url}/order", content=b"x" * (2 << 20), timeout=30)
    assert answer.status_code == 413
    assert httpx.get(f"{url}/ok", timeout=10).status_code == 200


def test_serve_answers_a_malformed_market_subscription_with_an_error_message(served):
    _, variables, _ = served
    with connect(variables["CLOBSIM_WS_URL"] + "/market", open_timeout=10) as ws:
        ws.send("[" * 20000 + "]" * 20000)
        assert json.loads(ws.recv(timeout=10)) == {"error": "a subscription is a JSON object"}
        ws.send(json.dumps({"type": "market", "assets_ids": "not a list"}))
        assert json.loads(ws.recv(timeout=10)) == {"error": "assets_ids must be a list of at most 1000 strings"}
