"""A trace record's "t" is round(t, 6), byte for byte, however it is computed."""

import math
import random

from clobsim.sim.trace import to_microsecond

EPOCH = 1_764_028_800.0  # a window's start, as the scenarios have it


def same(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b) or (math.isnan(a) and math.isnan(b))


def test_a_time_is_rounded_to_the_microsecond_exactly_as_round_does():
    rng = random.Random(7)
    times = [EPOCH + rng.uniform(0, 2000) for _ in range(20_000)]
    for _ in range(5_000):  # a request's clock: sums of whole-millisecond legs
        t = EPOCH
        for _ in range(rng.randrange(1, 40)):
            t += rng.randrange(30, 160) / 1000.0
        times.append(t)
    for _ in range(20_000):  # halfway between two microseconds, and the floats beside it
        half = (EPOCH * 1e6 + rng.randrange(0, 2 * 10**9) + 0.5) / 1e6
        times += [half, math.nextafter(half, math.inf), math.nextafter(half, -math.inf)]
    # exact halves: k / 128 seconds is a whole number of microseconds and a half
    times += [k / 128 for k in range(1, 3_000)] + [EPOCH + k / 128 for k in range(0, 300_000, 7)]
    times += [rng.uniform(-5.0, 5.0) * 10.0 ** rng.randrange(-9, 10) for _ in range(20_000)]
    times += [0.0, -0.0, 1e-7, -1e-7, 4.5e9, 8.99e9, 9e9, 1e20, -1e20, math.inf, -math.inf, math.nan, 1000.0000005]
    differ = [t for t in times if not same(to_microsecond(t), round(t, 6))]
    assert differ == []


def test_a_tiny_negative_time_keeps_its_sign_as_round_does():
    assert math.copysign(1.0, to_microsecond(-1e-7)) == -1.0
