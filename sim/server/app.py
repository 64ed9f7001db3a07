"""The server of `clobsim serve`: aiohttp on 127.0.0.1, REST and the WebSocket channels.

    REST         every route of the run's protocol (sim.exchange.gateway), behind the same front
                 door as wire mode (sim.clients.wire.FrontDoor: L2 HMAC, order signatures), then
                 the network (latency, faults) on simulated time, then the venue
    /ws/market   Polymarket's market channel      (sim.server.channels)
    /ws/user     Polymarket's user channel, authenticated by the subscription's api credentials

L2 headers are signed by real clients with the wall clock, so POLY_TIMESTAMP is checked against
the wall clock here (the venue's own clock is the simulated one, which runs `speed` times
faster). A request the network answers with no answer (a timeout fault) is held open until the
client gives up, up to NO_ANSWER_HOLD seconds, then answered 504. The server binds 127.0.0.1
only.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import traceback
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from clobsim.sim.clients.wire import FrontDoor
from clobsim.sim.exchange.gateway import Answer, error
from clobsim.sim.faults.sockets import MARKET, USER
from clobsim.sim.server.channels import PING, PONG, UNAUTHORIZED_CLOSE, BadSubscription, Channels, Connection
from clobsim.sim.server.session import TICK, Session
from clobsim.sim.trace import TraceType

HOST = "127.0.0.1"
NO_ANSWER_HOLD = 30.0  # wall seconds a request without an answer is held open
MAX_BODY = 1 << 20  # bytes of a request body
MAX_WS_MESSAGE = 64 << 10  # bytes of a WebSocket message from a client
WINDOW_OVER = "the scenario's window is over"


class PortUnavailable(Exception):
    """The port cannot be bound (in use, or not allowed): the message says which."""


class Server:
    def __init__(self, session: Session, *, port: int = 0):
        self.session = session
        self.requested_port = port
        self.port = 0
        self.channels = Channels(session.run.venue, session.run.network, session.run.record)
        self.door = FrontDoor(session.run.gateway, time.time)
        self.contacted = asyncio.Event()  # the first request or WebSocket connection arrived
        self.over = asyncio.Event()  # the simulated horizon was reached (or the clock failed)
        self.failure: BaseException | None = None  # what stopped the clock, if it did not end well
        self.requests = 0
        self._pending: set[asyncio.Future] = set()
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- life ------------------------------------------------------------------------------

    async def start(self) -> int:
        """Bind, start the simulated clock and return the port (once it accepts connections)."""
        self._loop = asyncio.get_running_loop()
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/ws/market", self._market)
        app.router.add_get("/ws/user", self._user)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.requested_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise PortUnavailable(
                f"--port {self.requested_port}: cannot listen on {HOST}: {exc.strerror or exc}"
            ) from None
        sockets: list = list(getattr(site._server, "sockets", None) or [])
        self.port = int(sockets[0].getsockname()[1])
        self.session.begin(self._loop.time())
        self._ticker = asyncio.create_task(self._tick())
        return self.port

    async def stop(self) -> None:
        """Close every connection and the listening socket; release waiting requests."""
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
            self._ticker = None
        for future in list(self._pending):
            if not future.done():
                future.set_result(error(503, WINDOW_OVER))
        for connection in list(self.channels.connections):
            self.channels.forget(connection)
            connection.queue.put_nowait(None)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _tick(self) -> None:
        assert self._loop is not None
        try:
            while not self.session.finished:
                self.session.advance(self._loop.time())
                self.channels.flush()
                await asyncio.sleep(TICK)
            self.channels.flush()
        except Exception as exc:  # noqa: BLE001 - kept for the caller, who ends the run with it
            self.failure = exc
        finally:
            for future in list(self._pending):
                if not future.done():
                    future.set_result(error(503, WINDOW_OVER))
            self.over.set()

    def _advance(self) -> None:
        assert self._loop is not None
        if self.failure is None and not self.session.finished:
            try:
                self.session.advance(self._loop.time())
            except Exception as exc:  # noqa: BLE001 - the ticker reports it
                self.failure = exc

    # ---- REST ------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._serve(request)
        except web.HTTPException:
            raise  # aiohttp's own answers (a body over MAX_BODY: 413)
        except Exception:  # noqa: BLE001 - a simulator bug: answered 500 and kept for simulator-healthy
            self.session.run.gateway.internal_errors.append(
                f"server {request.method} {request.path}: {traceback.format_exc()}"
            )
            return _response(error(500, "Internal server error"))

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        self.contacted.set()
        self.requests += 1
        raw = await request.read()
        self._advance()
        admitted = self.door.admit(
            request.method,
            request.path,
            request.rel_url.raw_query_string.encode("ascii", "replace"),
            request.headers,
            raw,
        )
        if isinstance(admitted, Answer):
            return _response(admitted)
        if self.session.finished or self.failure is not None:
            return _response(error(503, WINDOW_OVER))
        gateway = self.session.run.gateway
        call = gateway.new_call(admitted.route, **admitted.call_fields())
        done = self.session.run.network.dispatch(call)
        assert self._loop is not None
        future: asyncio.Future = self._loop.create_future()
        self._pending.add(future)
        done.callbacks.append(lambda event: _settle(future, event.value))
        try:
            answer = await future
        finally:
            self._pending.discard(future)
        self.channels.flush()
        if answer.status is None:
            await self._hold()
            return _response(error(504, "no answer"))
        return _response(answer)

    async def _hold(self) -> None:
        """A timeout: say nothing until the client gives up or the run ends."""
        try:
            await asyncio.wait_for(self.over.wait(), NO_ANSWER_HOLD)
        except TimeoutError:
            pass

    # ---- WebSocket -------------------------------------------------------------------------

    async def _market(self, request: web.Request) -> web.StreamResponse:
        return await self._socket(request, MARKET)

    async def _user(self, request: web.Request) -> web.StreamResponse:
        return await self._socket(request, USER)

    async def _socket(self, request: web.Request, channel: str) -> web.StreamResponse:
        self.contacted.set()
        self._advance()
        if not self.channels.accepting(channel) or self.session.finished:
            return web.json_response({"error": f"the {channel} channel is not accepting connections"}, status=503)
        socket = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE)
        await socket.prepare(request)
        connection = self.channels.connect(channel, socket)
        record = self.session.run.record
        record(TraceType.CONNECTION, channel=channel, action="open")
        writer = asyncio.create_task(_write(connection))
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                self._advance()
                if message.data.strip() == PING:
                    connection.queue.put_nowait(PONG)
                    continue
                try:
                    first = self.channels.subscribe(connection, json.loads(message.data))
                except (ValueError, RecursionError, BadSubscription) as exc:
                    text = str(exc) if isinstance(exc, BadSubscription) else "a subscription is a JSON object"
                    record(TraceType.CONNECTION, channel=channel, action="refused", reason=text)
                    if channel == USER and not connection.subscribed:
                        await socket.close(code=UNAUTHORIZED_CLOSE, message=text.encode()[:120])
                        break
                    connection.queue.put_nowait(json.dumps({"error": text}))
                    continue
                record(TraceType.CONNECTION, channel=channel, action="subscribed", ids=len(connection.ids))
                if first:
                    connection.queue.put_nowait(json.dumps(first, separators=(",", ":")))
        finally:
            self.channels.forget(connection)
            connection.queue.put_nowait(None)
            await writer
            record(TraceType.CONNECTION, channel=channel, action="closed")
        return socket


async def _write(connection: Connection) -> None:
    """The connection's one writer: messages go out in the order they were queued."""
    while True:
        text = await connection.queue.get()
        if text is None:
            if not connection.socket.closed:
                await connection.socket.close()
            return
        try:
            await connection.socket.send_str(text)
        except (ConnectionError, RuntimeError):
            return  # the client went away; its reader ends the connection


def _settle(future: asyncio.Future, answer: Answer) -> None:
    if not future.done():  # the server may have released it already (the window ended)
        future.set_result(answer)


def _response(answer: Answer) -> web.Response:
    headers = dict(answer.headers)
    if isinstance(answer.body, str):
        return web.Response(status=answer.status or 504, text=answer.body, headers=headers)
    return web.Response(
        status=answer.status or 504,
        body=json.dumps(answer.body, separators=(",", ":")).encode(),
        content_type="application/json",
        headers=headers,
    )


async def serve(
    session: Session, *, port: int, say: Callable[[str], Any], environment: Callable[[int], dict]
) -> Server:
    """`clobsim serve`: listen, say so, and serve until the scenario's horizon."""
    server = Server(session, port=port)
    bound = await server.start()
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # stop cleanly: connections closed, port freed
        loop.add_signal_handler(signum, stopped.set)
    try:
        say(f"listening on http://{HOST}:{bound}")
        for name, value in environment(bound).items():
            say(f"{name}={value}")
        over, interrupted = asyncio.ensure_future(server.over.wait()), asyncio.ensure_future(stopped.wait())
        await asyncio.wait({over, interrupted}, return_when=asyncio.FIRST_COMPLETED)
        over.cancel()
        interrupted.cancel()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await server.stop()
    if stopped.is_set():
        raise KeyboardInterrupt  # the CLI's exit 130
    return server
