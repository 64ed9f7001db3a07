"""The CLOB protocol versions a run can speak (scenario `market.protocol`, `--protocol`).

- v1: the CLOB as py-clob-client 0.34.6 knows it (order struct with taker, nonce, feeRateBps;
  EIP-712 domain version "1"). Kept for legacy bots and recorded runs: a v1 run's outputs are
  byte-identical to those of clobsim before protocols existed.
- v2: production since 2026-04-28 (Polymarket's "Migrating to CLOB V2"): the 11-field order
  struct (timestamp, metadata, builder; no taker, nonce or feeRateBps), domain version "2"
  against the V2 exchange, GET /version, V1 orders refused with 400 order_version_mismatch.
  docs/venue-shapes.md lists what clobsim implements of it.
"""

from __future__ import annotations

V1 = "v1"
V2 = "v2"
PROTOCOLS = (V1, V2)
DEFAULT_PROTOCOL = V2
# What the venue answers on GET /version (the client signs orders for that version)
VERSION_NUMBER = {V1: 1, V2: 2}
# The V2 venue's answer to an order signed for another version; py-clob-client-v2 looks for
# this text in the error to refresh its cached version.
ORDER_VERSION_MISMATCH = "order_version_mismatch"
INVALID_HEARTBEAT_ID = "Invalid Heartbeat ID"
