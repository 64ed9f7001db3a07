"""For bot authors and tests: the in-memory fake exchange, the pytest plugin and the scripted demo."""
