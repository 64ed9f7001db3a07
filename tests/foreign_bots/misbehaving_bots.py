"""Small bots, one behaviour each, that a run must handle: spins, endless loops, asyncio, crashes,
files, random ids."""

import asyncio
import logging
import os
import threading
import time

log = logging.getLogger("misbehaving_bots")


def spins() -> None:
    log.info("about to spin")
    while True:
        pass


def spins_in_a_thread() -> None:
    def busy() -> None:
        total = 0
        while True:
            total += 1

    threading.Thread(target=busy, name="busy", daemon=True).start()
    while True:
        log.info("main still sleeping")
        time.sleep(60)


def loops_forever() -> None:
    while True:
        time.sleep(30)


def uses_asyncio() -> None:
    async def poll() -> None:
        await asyncio.sleep(1)

    asyncio.run(poll())


def crashes() -> None:
    time.sleep(10)
    raise ValueError("the strategy divided by zero")


def writes_files() -> None:
    with open("state.txt", "w") as handle:
        handle.write("kept\n")
    log.info("cwd is the run's: %s", os.getcwd() == os.environ["CLOBSIM_WORKDIR"])
    log.info("env: %s", os.environ.get("GREETING"))


def draws_ids() -> None:
    import random
    import uuid

    log.info("ids %s %s", uuid.uuid4(), random.random())
