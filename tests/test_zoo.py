"""The harness has teeth: `clobsim run scenarios/` fails every known-buggy variant and passes core."""

from __future__ import annotations

import json
import os

import pytest

from clobsim.sim.bots.zoo import VARIANTS
from clobsim.sim.checks import INVARIANTS
from clobsim.sim.tools.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The scenario that catches each variant, and exactly the invariants it fails there (the
# scenario's own expectations may fail too; an invariant must: exploration sees only those).
CAUGHT_BY = {
    "check-then-cancel": (
        "cancel-race-fill-before-cancel",
        {
            "exit-covers-position",
            "fill-reaches-ledger",
            "ledger-matches-exchange",
            "lifecycle-complete",
            "payouts-match-ledger",
        },
    ),
    # the cancel's final read shows the fill it drops, so the cancellation line (which waits for
    # that fill to be counted) never comes
    "drop-cancelled-partial": (
        "late-fill-cancelled-with-size-matched",
        {"fill-reaches-ledger", "ledger-matches-exchange", "lifecycle-complete", "notifications-idempotent"},
    ),
    "double-count": ("five-notifications-in-one-batch", {"ledger-matches-exchange"}),
    "blind-repost": ("timeout-after-apply-no-duplicate", {"single-scale-in"}),
    # the order it forgot expires (GTD) before the window ends, so it is no orphan there; it
    # still never gets a terminal line
    "untracked-after-status": ("latency-spikes-and-html-403", {"lifecycle-complete"}),
    "exit-from-balance": ("scale-in-delayed-fill", {"exit-covers-position"}),
    # healed by the end-of-window reconcile: only the in-time check fails there
    "reconcile-only-fills": ("bot-crash-mid-placement-restart-reconciles", {"fill-reaches-ledger"}),
    # the exit it missed fills in the end: only the in-time check of its re-posts fails
    "server-error-not-placed": ("http500-applied-exit-no-repost", {"no-repair-loop"}),
    "fill-keyed-by-order": (
        "day-in-the-life-scale-in-fills-in-pieces",
        {"fill-reaches-ledger", "ledger-matches-exchange", "lifecycle-complete", "notifications-idempotent"},
    ),
    "ghost-fill-trusted": (
        "ghost-fill-trade-failed",
        {"ledger-matches-exchange", "notifications-idempotent", "terminal-matches-venue"},
    ),
    "post-then-record": (
        "bot-crash-mid-placement-restart-reconciles",
        {
            "exit-covers-position",
            "fill-reaches-ledger",
            "ledger-matches-exchange",
            "lifecycle-complete",
            "payouts-match-ledger",
            "single-scale-in",
        },
    ),
    # healed by the window-end cancel: the ledger is right at the end, 270 s late meanwhile
    "stop-following-on-error": ("status-error-then-lost-fill-push", {"exit-covers-position", "fill-reaches-ledger"}),
    # it never learns the shortfall: the refused re-posts show, and the dust it books as paid
    "retry-refused-exit": ("size-shortfall-exit-capped", {"no-repair-loop", "payouts-match-ledger"}),
    # the order it trusts as cancelled expires (GTD) before the window ends; its refused
    # re-posts meanwhile show
    "unverified-cancel-trusted": ("engine-restart-425-then-post-only", {"no-repair-loop"}),
}


def test_every_variant_has_a_catching_scenario():
    assert set(CAUGHT_BY) == set(VARIANTS)


def test_the_library_passes_for_core_and_every_fault_of_it_fires(tmp_path, capsys):
    # --strict: a scenario whose fault never fires tests nothing of it, and fails
    assert main(["run", os.path.join(ROOT, "scenarios"), "--strict", "--out", str(tmp_path / "core")]) == 0


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_library_fails_the_variant_in_the_named_scenario(variant, tmp_path, capsys):
    # the named scenario alone: the library's other 41 runs per variant add nothing this asserts
    out = tmp_path / variant
    scenario, invariants = CAUGHT_BY[variant]
    path = os.path.join(ROOT, "scenarios", f"{scenario}.yaml")
    assert main(["run", path, "--bot", variant, "--out", str(out)]) == 1
    record = json.loads((out / scenario / "result.json").read_text())
    failed = {c["id"] for c in record["checks"] if not c["passed"] and c["id"] in INVARIANTS}
    assert record["verdict"] == "fail"
    assert failed == invariants, (variant, scenario, failed)
    printed = capsys.readouterr().out
    assert "reproduce: clobsim run " in printed and f"--bot {variant}" in printed
