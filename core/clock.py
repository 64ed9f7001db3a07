"""The live Clock: the one place in core that reads the system clock (that is its job).

Simulation passes its own Clock (virtual time); nothing else in core reads time.
"""

from __future__ import annotations

import time


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
