"""What every part of the position manager shares: the ports (clock, exchange, probe), the ledger, the audit log and
the strategy config. Passed explicitly; there is no global state."""

from __future__ import annotations

from dataclasses import dataclass, field

from .audit import AuditLog
from .config import StrategyConfig
from .ledger import Ledger, TradeRecord
from .ports import Clock, Exchange, NoProbe, Probe


@dataclass
class BotContext:
    clock: Clock
    exchange: Exchange
    ledger: Ledger
    audit: AuditLog
    config: StrategyConfig
    probe: Probe = field(default_factory=NoProbe)

    def now(self) -> float:
        return self.clock.now()

    def emit_for(self, trade: TradeRecord, kind: str, **fields: object) -> None:
        """An audit event scoped to a trade (trade and exit scopes need its context)."""
        self.audit.emit(kind, **trade.context, **fields)
