"""`clobsim run SCENARIO --bot-cmd "CMD"`: a bot process against `clobsim serve`.

The server starts on a free port of 127.0.0.1 and its clock with it; the command starts right
after, in a shell, in a session of its own (so its whole process group can be stopped), with the
variables of `bot_environment` added to clobsim's environment, stdin closed, and its stdout and
stderr written to bot.stdout.log and bot.stderr.log in the scenario's run folder.

- The bot must reach the server (a request or a WebSocket connection) within `connect_timeout`
  wall seconds: a bot that exits first, or never does, is a setup error (`BotSetupError`, exit 2).
- The run ends at the scenario's horizon (the process group is sent SIGTERM, then SIGKILL after
  STOP_GRACE seconds), or when the bot exits: the rest of the window is then played at once, so
  orders it left behind meet the window's end as they would have.
- A bot that exits with a code other than 0 after it connected is a crash (`no-crash` reports it).
The server is always stopped, whatever happens.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass

from clobsim.sim.runner.harness import BOT_CREDS, BOT_KEY, CHAIN_ID, RunResult
from clobsim.sim.server.app import HOST, Server
from clobsim.sim.server.session import Session

STOP_GRACE = 5.0  # wall seconds between SIGTERM and SIGKILL
STDOUT, STDERR = "bot.stdout.log", "bot.stderr.log"
TAIL = 300  # characters of the bot's stderr quoted in a setup error


class BotSetupError(Exception):
    """The bot could not be run against the server: the message says what happened."""


@dataclass
class BotOutcome:
    command: str
    exit_code: int | None  # None: stopped at the horizon
    stdout: str
    stderr: str
    requests: int
    wall_seconds: float


def bot_environment(session: Session, port: int) -> dict[str, str]:
    """What a bot needs to trade against the server (README, "Server mode")."""
    market = session.run.market
    up, down = (market.token(outcome).token_id for outcome in ("Up", "Down"))
    scenario = session.scenario
    return {
        "CLOBSIM_CLOB_HOST": f"http://{HOST}:{port}",
        "CLOBSIM_WS_URL": f"ws://{HOST}:{port}/ws",
        "CLOBSIM_CHAIN_ID": str(CHAIN_ID),
        "CLOBSIM_PROTOCOL": session.run.protocol,
        "CLOBSIM_PRIVATE_KEY": BOT_KEY,
        "CLOBSIM_API_KEY": BOT_CREDS.api_key,
        "CLOBSIM_API_SECRET": BOT_CREDS.api_secret,
        "CLOBSIM_API_PASSPHRASE": BOT_CREDS.api_passphrase,
        "CLOBSIM_MARKET": market.condition_id,
        "CLOBSIM_TOKEN_UP": up,
        "CLOBSIM_TOKEN_DOWN": down,
        "CLOBSIM_SPEED": f"{session.speed:g}",
        # wall seconds from the server's start until the window ends (orders must be gone by then)
        "CLOBSIM_WINDOW_SECONDS": f"{scenario.window_length / session.speed:.3f}",
    }


async def run_bot(
    session: Session, command: str, *, folder: str, connect_timeout: float
) -> tuple[RunResult, BotOutcome]:
    started = time.monotonic()
    server = Server(session)
    port = await server.start()
    stdout_path, stderr_path = os.path.join(folder, STDOUT), os.path.join(folder, STDERR)
    exit_code: int | None = None
    try:
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            process = await asyncio.create_subprocess_shell(
                command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env={**os.environ, **bot_environment(session, port)},
                start_new_session=True,
            )
            try:
                exit_code = await _supervise(server, session, process, connect_timeout, stderr_path)
            finally:
                await _stop(process)
    finally:
        await server.stop()
    if server.failure is not None:
        raise server.failure
    errors = [] if exit_code in (None, 0) else [f"bot process: exited with code {exit_code}"]
    outcome = BotOutcome(command, exit_code, stdout_path, stderr_path, server.requests, time.monotonic() - started)
    return session.result(bot=f"cmd: {command}", task_errors=errors), outcome


async def _supervise(
    server: Server, session: Session, process: asyncio.subprocess.Process, timeout: float, stderr_path: str
) -> int | None:
    exited = asyncio.ensure_future(process.wait())
    contacted = asyncio.ensure_future(server.contacted.wait())
    over = asyncio.ensure_future(server.over.wait())
    try:
        await asyncio.wait({exited, contacted, over}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not contacted.done():
            await asyncio.sleep(0)  # a request racing the exit is still a contact
        if not server.contacted.is_set():
            if exited.done():
                raise BotSetupError(
                    f"--bot-cmd: the bot exited with code {exited.result()} before it connected to the server"
                    f"{_tail(stderr_path)}"
                )
            raise BotSetupError(
                f"--bot-cmd: the bot did not connect to the server within {timeout:g} s "
                f"(it is given the server's address in CLOBSIM_CLOB_HOST and CLOBSIM_WS_URL){_tail(stderr_path)}"
            )
        await asyncio.wait({exited, over}, return_when=asyncio.FIRST_COMPLETED)
        if exited.done() and not over.done():
            session.finish()  # the bot is gone: the rest of the window needs no wall time
            await over
            return exited.result()
        return exited.result() if exited.done() else None
    finally:
        for waiter in (exited, contacted, over):
            if not waiter.done():
                waiter.cancel()


async def _stop(process: asyncio.subprocess.Process) -> None:
    """End the bot's whole process group: SIGTERM, then SIGKILL after STOP_GRACE seconds."""
    if process.returncode is not None:
        _kill_group(process.pid, signal.SIGKILL)  # children it left behind
        return
    _kill_group(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_GRACE)
    except TimeoutError:
        _kill_group(process.pid, signal.SIGKILL)
        await process.wait()
    _kill_group(process.pid, signal.SIGKILL)


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
    if not text:
        return ""
    text = text[-TAIL:].replace("\n", " | ")
    return f"; its stderr ends: {text}"
