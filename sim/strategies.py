"""Hypothesis strategies for scenarios, for bot authors (a public entry point; the strategies
live in sim.explore.strategies).

    from clobsim.sim.strategies import scenarios, fault_schedules, market_paths, trade_setups
"""

from clobsim.sim.explore.strategies import fault_schedules, market_events, market_paths, scenarios, trade_setups

__all__ = ["fault_schedules", "market_events", "market_paths", "scenarios", "trade_setups"]
