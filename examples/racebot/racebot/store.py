"""The bot's own state, in its own SQLite file: one row per position it manages."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass
class Position:
    token: str
    outcome: str
    entry: float  # shares the bot held when it found the position
    held: float  # shares it believes it holds now
    opened_at: float
    number: int
    scale_in_id: str = ""
    scale_in_price: float = 0.0
    scale_in_size: float = 0.0
    scale_in_matched: float = 0.0
    scale_in_state: str = ""  # "", live, filled, cancelled
    exit_id: str = ""
    exit_size: float = 0.0
    exit_sold: float = 0.0
    state: str = "open"  # open, closed


COLUMNS = [name for name in Position.__dataclass_fields__]


class Store:
    def __init__(self, path: str):
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS positions (token TEXT PRIMARY KEY, outcome TEXT, entry REAL, held REAL,"
            " opened_at REAL, number INTEGER, scale_in_id TEXT, scale_in_price REAL, scale_in_size REAL,"
            " scale_in_matched REAL, scale_in_state TEXT, exit_id TEXT, exit_size REAL, exit_sold REAL, state TEXT)"
        )
        self.db.commit()
        self.saved: dict[str, list] = {}  # what the file holds: a save that changes nothing writes nothing

    def save(self, position: Position) -> None:
        values = [getattr(position, name) for name in COLUMNS]
        if self.saved.get(position.token) == values:
            return
        self.saved[position.token] = values
        marks = ", ".join("?" for _ in COLUMNS)
        with self.db:
            self.db.execute(f"INSERT OR REPLACE INTO positions ({', '.join(COLUMNS)}) VALUES ({marks})", values)

    def all(self) -> list[Position]:
        rows = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM positions ORDER BY number").fetchall()
        return [Position(*row) for row in rows]

    def close(self) -> None:
        self.db.close()
