"""A run's venue played on wall time: the simulated clock follows the event loop's, `speed` times
faster.

The venue, market, network and faults are a normal run's (sim.runner.harness.stage): the same
simpy environment, advanced from the server's event loop instead of by a bot's greenlets. The
clock is driven, not free-running: every TICK of wall time (and before each request is handed to
the network) the server calls `advance`, which runs the environment up to

    window start + (loop time - the time the session began) x speed

so market events, fills and the faults' schedules happen when their simulated time comes due in
wall time. A request is a `Call` the network carries on simpy events (its latency legs and
faults on simulated time); the server awaits the answer on its event loop. Nothing waits for the
bot: if it is slow, the market goes on without it, as a real venue's does.

Wall time makes a server-mode run not reproducible byte for byte: the moments requests arrive
depend on the machine and the bot. The market's own history (prices, takers) still comes from
the seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clobsim.sim.runner.scenario import Scenario

if TYPE_CHECKING:
    from clobsim.sim.runner.harness import RunResult

TICK = 0.01  # wall seconds between clock steps
MIN_SPEED, MAX_SPEED = 0.01, 1000.0


class Session:
    """A staged run (`run`: its environment, venue, network and gateway, as sim.runner.harness
    builds them for every run) and the wall clock that drives it."""

    def __init__(self, scenario: Scenario, *, seed: int | None, protocol: str | None, speed: float, workdir: str):
        # the harness loads the clients: `clobsim run --bot-cmd` checks --speed against the bounds
        # above before anything of it is loaded
        from clobsim.sim.runner.harness import stage  # noqa: PLC0415

        self.run = stage(scenario, seed=seed, protocol=protocol, workdir=workdir)
        self.scenario, self.speed = scenario, speed
        self._began_at: float | None = None

    def begin(self, wall: float) -> None:
        self._began_at = wall
        self.run.begin_venue("serve")

    @property
    def finished(self) -> bool:
        return self.run.env.now >= self.run.end

    def advance(self, wall: float) -> None:
        """Run the simulation up to the moment `wall` (the event loop's clock) stands for."""
        if self._began_at is None:
            return
        self.run.run_until(min(self.run.end, self.run.window_start + (wall - self._began_at) * self.speed))

    def finish(self) -> None:
        """Play what is left of the window at once (the bot has gone: nothing waits on wall time)."""
        self.run.run_until(self.run.end)

    def result(self, *, bot: str, task_errors: list[str]) -> RunResult:
        return self.run.venue_result("serve", bot=bot, task_errors=task_errors)
