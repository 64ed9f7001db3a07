"""racebot: a small scale-in bot written straight against py-clob-client-v2 (see ../README.md)."""
