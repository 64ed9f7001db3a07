"""Strategy parameters, in one place (design.md: "live in one config object")."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal


@dataclass(frozen=True)
class ScaleInTier:
    """Scale in when time_left <= max_time_left, if confidence and price reach these floors.

    Tiers widen the window with confidence and price: a surer, pricier winning side may be
    added to earlier in the window.
    """

    min_confidence: Decimal
    min_price: Decimal
    max_time_left: int


DEFAULT_TIERS = (
    ScaleInTier(Decimal("0.85"), Decimal("0.75"), 480),
    ScaleInTier(Decimal("0.75"), Decimal("0.70"), 420),
    ScaleInTier(Decimal("0.65"), Decimal("0.60"), 300),
)


@dataclass(frozen=True)
class StrategyConfig:
    scale_in_tiers: tuple[ScaleInTier, ...] = DEFAULT_TIERS
    scale_in_min_time_left: int = 60  # too close to resolution: a resting bid would not fill
    scale_in_price_min: Decimal = Decimal("0.60")
    scale_in_price_max: Decimal = Decimal("0.92")
    scale_in_multiplier: Decimal = Decimal("1.0")  # scale-in size = position x multiplier
    min_order_size: Decimal = Decimal("5")  # venue minimum; a smaller size is bumped when affordable
    balance_buffer: Decimal = Decimal("0")  # collateral kept aside by the balance pre-check
    exit_price: Decimal = Decimal("0.99")
    tick_size: str = "0.01"

    monitor_interval: float = 5.0
    notification_interval: float = 5.0
    # leftovers are cancelled this long before the window ends: room for a lost answer (the
    # client's 5 s timeout) and the re-sent cancel before the market stops taking them
    cancel_before_end: int = 30
    resolution_poll_interval: float = 15.0

    recent_fill_window: int = 300  # a fill this recent means "do not trust a LIVE status"
    recent_fill_cleanup: int = 600  # tracker entries older than this are dropped
    verify_attempts: int = 2  # reads of the final size_matched after a cancel
    verify_delay: float = 1.0
    cancel_attempts: int = 3  # transient cancel failures retried this often
    unknown_grace: float = 30.0  # an unknown-outcome order unseen this long is declared NOT_PLACED
    # consecutive rejected exit placements per trade before the bot backs off (a placed exit
    # resets the count; transient 425/429/5xx answers are retried and never count). Past the
    # limit it retries after exit_backoff x 2^(extra failures) seconds, at most exit_backoff_max:
    # a lagging balance heals, and a bounded rate is no repair loop (failure mode 7).
    exit_retry_limit: int = 3
    exit_backoff: float = 10.0
    exit_backoff_max: float = 20.0  # a healed balance waits at most this long for the next try

    def with_overrides(self, overrides: dict) -> "StrategyConfig":
        """A copy with overrides applied; unknown names are a ValueError naming the key."""
        known = {f.name: f for f in fields(self)}
        changes = {}
        for key in sorted(overrides):
            if key not in known:
                raise ValueError(f"unknown config key {key!r}")
            value = overrides[key]
            current = getattr(self, key)
            if isinstance(current, Decimal):
                value = Decimal(str(value))
            changes[key] = value
        return replace(self, **changes)

    @property
    def tick(self) -> Decimal:
        return Decimal(self.tick_size)


