"""The Check record: one verdict of one invariant or expectation, with its evidence."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    id: str  # an invariant id, or expect.<kind>
    kind: str  # "invariant" | "expectation"
    passed: bool
    message: str = ""
    evidence: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "passed": self.passed,
            "message": self.message,
            "evidence": list(self.evidence),
        }


def ok(check_id: str, kind: str = "invariant") -> Check:
    return Check(check_id, kind, True)


def fail(check_id: str, message: str, evidence=(), kind: str = "invariant") -> Check:
    return Check(check_id, kind, False, message, tuple(evidence))
