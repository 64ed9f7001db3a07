"""core's own exception types.

The exchange adapter maps every third-party exception into exactly one of three kinds
(design.md): the venue said no (Rejected), the venue could not serve the request right
now and nothing happened (Transient), or nobody knows whether the request was applied
(OutcomeUnknown). The third kind is the dangerous one: a request that timed out may have
placed an order, so it is never treated as "not placed".
"""

from __future__ import annotations


class ExchangeError(Exception):
    """Base of every error an Exchange port raises."""

    kind = "error"

    def __init__(self, message: str, *, status: int | None = None, order_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.order_id = order_id

    def describe(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no status"
        return f"{self.kind} ({status}): {self.message}"


class Rejected(ExchangeError):
    """A definite 4xx answer: the request was not applied and retrying it unchanged is pointless."""

    kind = "rejected"


class Transient(ExchangeError):
    """429/425/5xx: the request was not applied; it may succeed later."""

    kind = "transient"

    def __init__(
        self, message: str, *, status: int | None = None, order_id: str | None = None, retry_after: float | None = None
    ):
        super().__init__(message, status=status, order_id=order_id)
        self.retry_after = retry_after


class OutcomeUnknown(ExchangeError):
    """No status came back (timeout, connection drop): the request MAY have been applied.

    For a placement, `order_id` carries the id computed locally from the signed order, so
    reconciliation can look the order up instead of re-posting it.
    """

    kind = "outcome-unknown"


class NotFound(Rejected):
    """A 404 for a lookup. The venue returns this even for orders that matched immediately
    (clob-reference failure mode 2), so it never proves an order does not exist."""

    kind = "not-found"
