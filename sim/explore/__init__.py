"""Exploration: Hypothesis strategies that draw scenarios, and the seeded search that shrinks a
failure to a scenario file."""
