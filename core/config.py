"""Strategy parameters, in one place (design.md: "live in one config object")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any


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


class ConfigError(ValueError):
    def __init__(self, key: str, rule: str):
        super().__init__(f"{key}: {rule}")
        self.key, self.rule = key, rule


def _number(key: str, value: object) -> Decimal:
    if isinstance(value, bool):
        raise ConfigError(key, f"must be a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ConfigError(key, f"must be a number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ConfigError(key, f"must be a non-negative number, got {value!r}")
    return number


def _convert(key: str, value: object, current: object) -> tuple[ScaleInTier, ...] | Decimal | str | int | float:
    """An override in the type of the field it replaces."""
    if isinstance(current, tuple):  # scale_in_tiers: a list of {min_confidence, min_price, max_time_left}
        if not isinstance(value, (list, tuple)) or not value:
            raise ConfigError(key, "must be a non-empty list of {min_confidence, min_price, max_time_left}")
        tiers = []
        for i, tier in enumerate(value):
            if not isinstance(tier, dict) or set(tier) != {"min_confidence", "min_price", "max_time_left"}:
                raise ConfigError(f"{key}[{i}]", "must have exactly min_confidence, min_price, max_time_left")
            seconds = _number(f"{key}[{i}].max_time_left", tier["max_time_left"])
            tiers.append(
                ScaleInTier(
                    _number(f"{key}[{i}].min_confidence", tier["min_confidence"]),
                    _number(f"{key}[{i}].min_price", tier["min_price"]),
                    int(seconds),
                )
            )
        return tuple(tiers)
    if isinstance(current, Decimal):
        return _number(key, value)
    if isinstance(current, str):
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(key, f"must be a string, got {value!r}")
        return str(value)
    number = _number(key, value)
    if isinstance(current, int):
        if number != number.to_integral_value():
            raise ConfigError(key, f"must be a whole number, got {value!r}")
        return int(number)
    return float(number)


# The real clients core can trade through (core/clob_adapter.py maps both): py-clob-client-v2
# speaks CLOB V2, production's protocol since 2026-04-28; py-clob-client (V1) stays for venues
# that still speak V1.
CLOB_CLIENT_V2 = "py-clob-client-v2"
CLOB_CLIENT_V1 = "py-clob-client"
CLOB_CLIENTS = (CLOB_CLIENT_V2, CLOB_CLIENT_V1)


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
    clob_client: str = CLOB_CLIENT_V2  # one of CLOB_CLIENTS

    monitor_interval: float = 5.0
    notification_interval: float = 5.0
    # leftovers are cancelled this long before the window ends: room for a lost answer (the
    # client's 5 s timeout) and the re-sent cancel before the market stops taking them
    cancel_before_end: int = 30
    # Every order core places is GTD and expires this long before its window ends: the backstop
    # for a bot that is down across the window's end (it cannot cancel its leftovers then; the
    # venue expires them). 0 places GTC orders, which outlive a dead bot. See docs/design.md.
    order_expiry_before_end: int = 10
    # the venue expires a GTD order this long BEFORE the expiration it carries, and refuses one
    # expiring sooner than that (Polymarket's one-minute security threshold)
    gtd_security_margin: int = 60
    resolution_poll_interval: float = 15.0
    # A trade's trades listing is read at least this often while an order of it rests. A status
    # read can answer a stale snapshot (a cached LIVE) for minutes while every push of the fill
    # is lost: the listing is another endpoint, and a fill it shows is counted within this
    # interval (plus a cycle) rather than when the reads heal. fill-reaches-ledger allows 60 s.
    trades_check_interval: float = 30.0

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

    def with_overrides(self, overrides: Mapping[str, object]) -> StrategyConfig:
        """A copy with overrides applied, each converted to the field's type.

        A bad override is a ConfigError naming the key and the rule, never a crash later.
        """
        known = {f.name for f in fields(self)}
        # Any: each value has its own field's type (_convert sees to that), which mypy cannot tie to the key
        changes: dict[str, Any] = {}
        for key in sorted(overrides):
            if key not in known:
                raise ConfigError(key, "unknown config key")
            changes[key] = _convert(key, overrides[key], getattr(self, key))
        client = changes.get("clob_client", self.clob_client)
        if client not in CLOB_CLIENTS:
            raise ConfigError("clob_client", f"must be one of {', '.join(CLOB_CLIENTS)}; got {client!r}")
        return replace(self, **changes)

    def order_lifetime(self, window_end: float, now: float) -> tuple[str, int] | None:
        """(order type, expiration) for an order placed at `now` in a window ending at
        `window_end`: GTD, expiring order_expiry_before_end seconds before the end; None when that
        moment is already past (the venue would refuse the expiration: nothing to place)."""
        if self.order_expiry_before_end <= 0:
            return "GTC", 0
        expires = int(window_end) - self.order_expiry_before_end
        if expires <= now:
            return None
        return "GTD", expires + self.gtd_security_margin

    @property
    def tick(self) -> Decimal:
        return Decimal(self.tick_size)
