"""Submitting an order: sign, record, post. The one place the write-ahead rule lives.

The order id is known once the order is signed, and it is recorded BEFORE the post. So a post
that times out leaves an order the bot can look up by id (state UNKNOWN, never "not placed"),
and a crash between the post and the answer loses nothing. Callers keep their own bookkeeping
and audit lines; this module only moves the order's state with the venue's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from .context import BotContext
from .errors import ExchangeError, OutcomeUnknown
from .ledger import TradeRecord
from .model import OrderState, Placement, PlaceOrder, Role
from .ports import CodePoint


@dataclass(frozen=True)
class Submitted:
    order_id: str | None  # None: signing failed, nothing was recorded or sent
    placement: Placement | None  # the venue's answer, when it answered yes
    error: ExchangeError | None  # signing failed, no answer (OutcomeUnknown), or refused

    @property
    def outcome_unknown(self) -> bool:
        return isinstance(self.error, OutcomeUnknown)


def submit(ctx: BotContext, trade: TradeRecord, role: Role, command: PlaceOrder) -> Submitted:
    try:
        prepared = ctx.exchange.prepare_order(command)
    except ExchangeError as exc:
        return Submitted(None, None, exc)
    order_id = prepared.order_id
    ctx.ledger.record_order(order_id, trade.trade_id, role, command, ctx.now())
    try:
        placement = ctx.exchange.post_order(prepared)
    except OutcomeUnknown as exc:
        ctx.probe.reached(CodePoint.POST_ANSWERED)
        ctx.ledger.set_order_state(order_id, OrderState.UNKNOWN, ctx.now())
        return Submitted(order_id, None, exc)
    except ExchangeError as exc:
        ctx.probe.reached(CodePoint.POST_ANSWERED)
        ctx.ledger.set_order_state(order_id, OrderState.REJECTED, ctx.now())
        return Submitted(order_id, None, exc)
    # The answer is in hand and nothing of it is written: a crash here leaves only the
    # write-ahead record (PREPARED), which start-up reconciliation resolves by the order's id.
    ctx.probe.reached(CodePoint.POST_ANSWERED)
    return Submitted(order_id, placement, None)
