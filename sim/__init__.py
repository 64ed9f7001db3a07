"""clobsim's simulated CLOB and harness. `sim.run(scenario, seed=..., mode=...)` runs one scenario."""


def run(scenario, **options):
    """Run one scenario (see sim.harness.run); imported lazily, the harness is heavy."""
    from .harness import run as _run  # noqa: PLC0415

    return _run(scenario, **options)


def load(path):
    """Load and validate a scenario file (see sim.scenario.load)."""
    from .scenario import load as _load  # noqa: PLC0415

    return _load(path)
