"""clobsim's simulated CLOB and harness. `sim.run(scenario, seed=..., mode=...)` runs one scenario.

The layers, lowest first (docs/architecture.md; the import contracts in pyproject.toml hold them):
exchange (the simulated CLOB), clients and faults and bots (the ways in, the network with its
faults, the bots a run drives), runner (virtual time, the market, scenarios, the harness), checks,
explore, testing, tools (the CLI and reports).
"""


def run(scenario, **options):
    """Run one scenario and check it (see sim.checks.run); imported lazily, the harness is heavy."""
    from clobsim.sim.checks import run as _run  # noqa: PLC0415

    return _run(scenario, **options)


def load(path):
    """Load and validate a scenario file (see sim.runner.scenario.load)."""
    from clobsim.sim.runner.scenario import load as _load  # noqa: PLC0415

    return _load(path)
