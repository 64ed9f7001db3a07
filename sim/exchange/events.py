"""The kinds of event the Venue records (`Venue.events`, and the trace's `venue` records).

Every producer and every consumer names a kind through VenueEvent, never a bare string: a kind
renamed in one place only would otherwise make a check that looks for it pass vacuously.
StrEnum members are their strings (equal, same hash, same JSON), so the records and the
files written from them are unchanged.

The order and trade statuses these events carry are in sim.exchange.records.
"""

from __future__ import annotations

from enum import StrEnum


class VenueEvent(StrEnum):
    # setup
    ACCOUNT_OPENED = "account_opened"
    DEPOSIT = "deposit"
    MARKET_LISTED = "market_listed"
    # orders
    ORDER_REJECTED = "order_rejected"
    ORDER_PLACED = "order_placed"
    ORDER_STATUS = "order_status"
    MATCH_DELAY = "match_delay"
    # trades
    TRADE_MATCHED = "trade_matched"
    TRADE_STATUS = "trade_status"
    TRADE_VOIDED = "trade_voided"
    # the rest of the market
    CROWD_DEPTH = "crowd_depth"
    CROWD_TAKE = "crowd_take"
    DIRECT_FILL = "direct_fill"
    # heartbeats
    HEARTBEAT = "heartbeat"
    HEARTBEAT_EXPIRED = "heartbeat_expired"
    # resolution
    MARKET_RESOLVED = "market_resolved"
    PAYOUT = "payout"
    # notifications
    NOTIFICATION = "notification"
    NOTIFICATIONS_DROPPED = "notifications_dropped"
