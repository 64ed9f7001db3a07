"""Invariants that look in time: each names the simulated moment it first broke, so harm that the
redundant recovery paths heal by the end of a run is still seen."""

from __future__ import annotations

import os
from decimal import Decimal
from types import SimpleNamespace

import yaml

from clobsim import sim
from clobsim.core.bot import Bot
from clobsim.core.notifications import NotificationProcessor
from clobsim.sim.checks import exit_covers_position, facts, fill_reaches_ledger
from clobsim.sim.checks.facts import cut_off
from clobsim.sim.exchange.records import COLLATERAL
from clobsim.sim.exchange.venue import Venue
from clobsim.sim.faults.bot_crash import restarts, unread_answers
from clobsim.sim.runner.scenario import from_dict, load
from clobsim.sim.trace import TraceType, responses_with_requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = os.path.join(ROOT, "scenarios")


def scenario(name: str):
    return load(os.path.join(SCENARIOS, f"{name}.yaml"))


def check_of(result, check_id: str):
    (found,) = [c for c in result.checks if c.id == check_id]
    return found


def test_a_sell_matched_beyond_the_shares_held_breaks_balances_non_negative_at_that_moment(monkeypatch):
    # the venue as it was before it cancelled uncovered SELLs: the ghost exit matches in full
    monkeypatch.setattr(Venue, "_cancel_uncovered", lambda self, account, asset: None)
    result = sim.run(scenario("ghost-exit-after-failed-cancels-uncovered-sell"))
    broken = check_of(result, "balances-non-negative")
    assert not broken.passed
    assert len(broken.evidence) == 1
    assert broken.evidence[0].startswith("2025-11-25 00:08:29.000: the bot holds -10.5 of ")
    assert " after trade " in broken.evidence[0] and broken.evidence[0].endswith(" matched")


def test_the_venue_cancels_the_uncovered_exit_so_core_keeps_every_balance_non_negative():
    result = sim.run(scenario("ghost-exit-after-failed-cancels-uncovered-sell"))
    assert result.passed, [(c.id, c.evidence) for c in result.failures]
    statuses = [e["fields"].get("reason") for e in result.venue.events if e["kind"] == "order_status"]
    assert "insufficient balance after a FAILED trade" in statuses


def test_a_fill_counted_only_by_the_end_of_window_reconcile_breaks_fill_reaches_ledger_though_the_ledger_ends_right():
    result = sim.run(scenario("bot-crash-mid-placement-restart-reconciles"), bot="reconcile-only-fills")
    failed = {c.id for c in result.failures if c.kind == "invariant"}
    assert failed == {"fill-reaches-ledger"}  # ledger-matches-exchange passes: the harm was healed
    (evidence,) = check_of(result, "fill-reaches-ledger").evidence
    assert "reached the ledger only " in evidence and evidence.endswith("s later")
    late = float(evidence.rsplit("only ", 1)[1].removesuffix("s later"))
    assert late > 60.0


def test_core_counts_every_fill_within_the_bound_even_across_a_crash():
    result = sim.run(scenario("bot-crash-mid-placement-restart-reconciles"))
    assert check_of(result, "fill-reaches-ledger").passed


def test_time_spent_on_unanswered_trades_listing_reads_does_not_count_against_a_fill(monkeypatch):
    name = "fill-reaches-ledger-trades-listing-outage-false-positive"
    result = sim.run(regression(name))
    assert check_of(result, "fill-reaches-ledger").passed
    # eleven reads time out (5 s each) and each is retried 5 s after: excused from the first read
    # sent in the outage until the read that answered
    spans = facts.merged(facts.unanswered_trades_reads(result.trace))
    assert [
        (round(a - result.scenario.window_start, 3), round(b - result.scenario.window_start, 3)) for a, b in spans
    ] == [(493.963, 605.801)]
    # without the excuse, the same run breaks the check: only the reads' own 5 s timeouts are
    # excused then (eleven of them, cut_off: 55 s), not the bot's waits between them
    monkeypatch.setattr(fill_reaches_ledger, "unanswered_trades_reads", lambda trace: [])
    (evidence,) = check_of(sim.run(regression(name)), "fill-reaches-ledger").evidence
    assert evidence.startswith("2025-11-25 00:10:05.000: fill ")
    assert evidence.endswith(" (5 shares, matched 2025-11-25 00:08:10.000) reached the ledger only 116.0s later")


def test_an_unanswered_trades_read_is_excused_until_the_next_read_or_ten_seconds_after_its_answer():
    def read(seq, sent, answered, status):
        return [
            {"t": sent, "type": TraceType.REQUEST, "seq": seq, "route": "GET /data/trades"},
            {"t": answered, "type": TraceType.RESPONSE, "seq": seq, "status": status},
        ]

    trace = read(1, 0.0, 5.0, None) + read(2, 8.0, 8.1, 425) + read(3, 9.0, 9.2, 200) + read(4, 30.0, 35.0, None)
    # the last read is never tried again: a bot that stops reading gets RETRY_ALLOWANCE, no more
    assert facts.unanswered_trades_reads(trace) == [(0.0, 8.0), (8.0, 9.0), (30.0, 45.0)]


def test_excused_spans_that_overlap_count_once():
    assert facts.merged([(10.0, 15.0), (0.0, 5.0), (12.0, 20.0), (20.0, 21.0)]) == [
        (0.0, 5.0),
        (10.0, 21.0),
    ]


def regression(name: str):
    return load(os.path.join(SCENARIOS, "regressions", f"{name}.yaml"))


def test_refused_cancels_of_a_resting_exit_excuse_the_resize_they_hold_back(monkeypatch):
    result = sim.run(regression("core-exit-covers-position-5ab09199"))
    assert check_of(result, "exit-covers-position").passed
    # without the excuse, the same run breaks the check: the engine restart refused the cancels
    monkeypatch.setattr(exit_covers_position, "CANCEL_PATH", ())
    unexcused = sim.run(regression("core-exit-covers-position-5ab09199"))
    (evidence,) = check_of(unexcused, "exit-covers-position").evidence
    assert evidence == (
        "trade #1: from 2025-11-25 00:08:00.000 for 31s the bot held 10.00 shares with live exit orders for only 5.00"
    )


def test_a_bot_that_covers_its_shares_again_inside_its_declared_unknown_grace_keeps_exit_covers_position():
    result = sim.run(regression("exit-covers-position-declared-unknown-grace-false-positive"))
    assert result.passed, [(c.id, c.evidence) for c in result.failures]
    # the stretch really was longer than EXIT_GRACE after the lost answer: only the excuse saves it
    (lost,) = [e.time for e in result.events if e.kind == "exit.outcome_unknown"]
    placed = [e.time for e in result.events if e.kind == "exit.placed"]
    assert placed[-1] - lost > exit_covers_position.EXIT_GRACE


def test_a_declared_unknown_grace_is_excused_only_up_to_its_cap():
    with open(
        os.path.join(SCENARIOS, "regressions", "exit-covers-position-declared-unknown-grace-false-positive.yaml")
    ) as f:
        data = yaml.safe_load(f)
    data["bot"]["unknown_grace"] = 120.0  # core waits 120 s; the check excuses 60 of them
    result = sim.run(from_dict(data))
    assert [c.id for c in result.failures] == ["exit-covers-position"]
    (evidence,) = check_of(result, "exit-covers-position").evidence
    assert evidence == (
        "trade #1: from 2025-11-25 00:08:11.104 for 57s the bot held 10.00 shares with live exit orders for only 5.00"
    )


def test_a_crashed_bot_is_excused_only_up_to_its_restart():
    trace = [
        {"t": 10.0, "type": TraceType.FAULT, "kind": "bot_crash", "phase": "killed"},
        {"t": 15.0, "type": TraceType.FAULT, "kind": "bot_crash", "phase": "restarted"},
        {"t": 40.0, "type": TraceType.FAULT, "kind": "bot_crash", "phase": "killed"},
    ]
    assert restarts(trace) == [15.0]  # the second crash never restarted: no moment it came back


def test_a_request_whose_answer_came_at_or_after_the_crash_is_unread_by_the_restarted_bot():
    def request(seq, t):
        return {"t": t, "type": TraceType.REQUEST, "seq": seq, "route": "POST /order"}

    def response(seq, t):
        return {"t": t, "type": TraceType.RESPONSE, "seq": seq, "status": 400}

    trace = [
        request(1, 5.0),
        response(1, 6.0),  # read before the crash
        request(2, 9.0),
        {"t": 10.0, "type": TraceType.FAULT, "kind": "bot_crash", "phase": "killed"},
        response(2, 10.0),  # in hand as the bot died (a crash at `post-answered`)
        request(3, 10.0),
        response(3, 10.5),  # landed while the bot was down
        request(4, 10.0),  # never answered
        {"t": 15.0, "type": TraceType.FAULT, "kind": "bot_crash", "phase": "restarted"},
        request(5, 39.0),
        {"t": 40.0, "type": TraceType.FAULT, "kind": "bot_crash", "phase": "killed"},
    ]
    assert [(r["seq"], back) for r, back in unread_answers(trace)] == [(2, 15.0), (3, 15.0), (4, 15.0)]


def test_an_exit_placement_lost_in_a_crash_excuses_the_declared_grace_from_the_restart(monkeypatch):
    name = "exit-covers-position-crash-during-exit-placement-false-positive"
    assert check_of(sim.run(regression(name)), "exit-covers-position").passed
    # without the excuse, the same run breaks the check: 56 s uncovered, counted from 65 s
    monkeypatch.setattr(exit_covers_position, "unread_answers", lambda trace: [])
    (evidence,) = check_of(sim.run(regression(name)), "exit-covers-position").evidence
    assert evidence == (
        "trade #1: from 2025-11-25 00:01:05.000 for 56s the bot held 5.00 shares with live exit orders for only 0.00"
    )


def test_a_trades_listing_outage_that_hides_a_scale_in_fill_excuses_the_resize_until_it_answers(monkeypatch):
    name = "exit-covers-position-trades-listing-outage-false-positive"
    assert check_of(sim.run(regression(name)), "exit-covers-position").passed
    # without the excuse, the same run breaks the check: nothing but the listing showed the fill
    monkeypatch.setattr(exit_covers_position, "unanswered_trades_reads", lambda trace, token: [])
    (evidence,) = check_of(sim.run(regression(name)), "exit-covers-position").evidence
    assert evidence == (
        "trade #1: from 2025-11-25 00:10:10.000 for 34s the bot held 10.00 shares with live exit orders for only 5.00"
    )


def test_a_failed_sale_only_the_lagging_listing_shows_is_counted_from_the_listing_s_answer(monkeypatch):
    name = "exit-covers-position-failed-sale-listing-lags-false-positive"
    result = sim.run(regression(name))
    assert check_of(result, "exit-covers-position").passed
    start = result.scenario.window_start
    told = exit_covers_position._failures_told(result)
    assert {token: [round(t - start, 1) for t in moments] for token, moments in told.items()} == {
        result.trade_tokens[1]: [346.2]
    }
    # without the excuse, the same run breaks the check
    monkeypatch.setattr(exit_covers_position, "_failures_told", lambda result: {})
    (evidence,) = check_of(sim.run(regression(name)), "exit-covers-position").evidence
    assert evidence == (
        "trade #1: from 2025-11-25 00:05:00.000 for 47s the bot held 5.00 shares with live exit orders for only 0.00"
    )


def test_exit_covers_position_counts_the_shares_delivered_not_those_matched():
    result = sim.run(regression("shortfall-exact-minimum-false-positive"))
    assert check_of(result, "exit-covers-position").passed
    delivered = [
        Decimal(delta)
        for e in result.venue.events
        if e["kind"] == "trade_matched"
        for owner, asset, delta in e["fields"]["movements"]
        if owner == result.owner and asset != COLLATERAL and Decimal(delta) > 0
    ]
    assert Decimal("4.95") in delivered  # the 5 matched shares the scale-in bought, short of 0.05


def test_a_500_read_as_not_placed_breaks_no_repair_loop_at_the_eleventh_refused_repost():
    result = sim.run(scenario("http500-applied-exit-no-repost"), bot="server-error-not-placed")
    broken = check_of(result, "no-repair-loop")
    assert not broken.passed
    (evidence,) = broken.evidence
    # the exit the venue applied rests and fills in the end: no end-of-run invariant objects
    assert {c.id for c in result.failures if c.kind == "invariant"} == {"no-repair-loop"}
    assert evidence.startswith('2025-11-25 00:02:53.448: POST /order {"makerAmount": "10500000", ')
    assert evidence.endswith(
        'refused 27 times in a row (last answer 400 {"error": "not enough balance / allowance"}), more than 10'
    )


def test_core_reconciles_an_applied_500_by_its_order_id_and_never_reposts():
    result = sim.run(scenario("http500-applied-exit-no-repost"))
    assert result.passed, [(c.id, c.evidence) for c in result.failures]
    posts = [
        (request["body"]["makerAmount"], response["status"])
        for request, response in responses_with_requests(result.trace)
        if request and request["route"] == "POST /order"
    ]
    # the applied exit (500), the scale-in, the exit resized to the whole position
    assert posts == [("10500000", 500), ("8295000", 200), ("21000000", 200)]


class _VoidOnlyFromTheListing(NotificationProcessor):
    """core before it voided a fill by the trade a fill-failed notice names: it read the listing."""

    def _fill_failed(self, note):
        order = self.ctx.ledger.order(note.order_id)
        if order is not None:
            self.recon.sync_fills(order, source="notification")


class _VoidOnlyFromTheListingBot(Bot):
    notifications_class = _VoidOnlyFromTheListing


def test_an_exit_sale_that_failed_counts_against_the_bot_from_the_notice_that_told_it():
    # the fill-failed notice reached the bot 4.9 s after the match; the listing lags 45 s
    result = sim.run(regression("core-exit-covers-position-b5376212"), bot=_VoidOnlyFromTheListingBot)
    broken = check_of(result, "exit-covers-position")
    assert broken.evidence == (
        "trade #1: from 2025-11-25 00:05:04.845 for 41s the bot held 5.00 shares with live exit orders for only 0.00",
    )
    assert sim.run(regression("core-exit-covers-position-b5376212")).passed


def test_an_exit_sale_that_failed_is_excused_until_an_answer_tells_the_bot():
    # every push lost: only the lagging listing tells, 45 s after the match
    result = sim.run(regression("core-exit-covers-position-6307f4fd"), bot=_VoidOnlyFromTheListingBot)
    assert check_of(result, "exit-covers-position").passed
    told = [
        r["t"]
        for q, r in responses_with_requests(result.trace)
        if q is not None and q["route"] == "GET /data/trades" and '"FAILED"' in str(r.get("body")).replace("'", '"')
    ]
    (placed,) = [e.time for e in result.events if e.kind == "exit.placed"][1:]
    assert 0 < placed - told[0] < 30  # the new exit follows the first answer that said FAILED


def test_time_the_bot_could_not_reach_the_venue_does_not_count_against_a_fill():
    # every request takes 6 s (past the client's 5 s timeout) from 420 s to 480 s: an outage
    result = sim.run(regression("core-fill-reaches-ledger-e235b425"))
    assert check_of(result, "fill-reaches-ledger").passed
    start = result.scenario.window_start
    assert [(round(a - start, 3), round(b - start, 3)) for a, b in cut_off(result)] == [(420.981, 476.635)]
    (matched,) = [e["time"] for e in result.venue.events if e["kind"] == "trade_matched"]
    (counted,) = [e.time for e in result.events if e.kind == "exit.filled"]
    assert round(counted - matched, 1) == 61.2  # past the bound, but 55.7 s of it the bot could reach nothing


def test_a_single_timeout_between_answers_excuses_only_its_own_seconds():
    result = sim.run(scenario("timeout-after-apply-no-duplicate"))
    (stretch,) = cut_off(result)
    assert 0 < stretch[1] - stretch[0] <= 6


def test_any_answer_ends_a_stretch_without_answers_a_refusal_too():
    def call(seq, sent, answered, status):
        return [
            {"t": sent, "type": TraceType.REQUEST, "seq": seq, "route": "GET /data/order"},
            {"t": answered, "type": TraceType.RESPONSE, "seq": seq, "status": status},
        ]

    trace = (
        call(1, 0.0, 5.0, None)
        + call(2, 6.0, 6.1, 500)  # a refusal is an answer
        + call(3, 7.0, 12.0, None)
        + call(4, 13.0, 13.1, 200)
        + call(5, 20.0, 25.0, None)
        + [{"t": 21.0, "type": TraceType.VENUE, "event": "order_status", "fields": {}}]
        + call(6, 22.0, 27.0, None)  # two in a row: one stretch, from the first's sending to the last's end
    )
    result = SimpleNamespace(trace=trace)
    assert cut_off(result) == [(0.0, 5.0), (7.0, 12.0), (20.0, 27.0)]
    with facts.FinalLedger(SimpleNamespace(trace=trace, foreign=True, final_ledger=None)):
        assert cut_off(result) == [(0.0, 5.0), (7.0, 12.0), (20.0, 27.0)]  # from the pass made once for all checks
        assert facts.exchanges(result) == list(responses_with_requests(trace))
        assert facts.not_ok_exchanges(result) == [
            pair for pair in responses_with_requests(trace) if pair[1]["status"] != 200
        ]


def test_an_exit_that_ended_while_its_reads_were_stale_counts_from_the_last_stale_answer():
    # the sweep cancels the exit at 480 s; its status reads answer a snapshot frozen at 420 s until 540 s
    result = sim.run(regression("core-exit-covers-position-9be315be"))
    assert check_of(result, "exit-covers-position").passed
    start = result.scenario.window_start
    stale = [r["t"] - start for r in result.trace if r.get("kind") == "stale_read" and r.get("phase") == "stale answer"]
    (placed,) = [e.time - start for e in result.events if e.kind == "exit.placed"][1:]
    assert 480 < max(stale) < 540 < placed < max(stale) + 30  # the bot saw the end only after the last
