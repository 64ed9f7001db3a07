"""What users run: the clobsim CLI, reports (metrics, alerts, timelines), bench and parallel sweeps."""

import time

# When a `clobsim` process began loading its tools, before the heavy imports (core, the clients,
# hypothesis): `clobsim explore --budget` counts from here, so the budget bounds the command.
STARTED = time.perf_counter()
