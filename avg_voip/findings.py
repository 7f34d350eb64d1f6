"""Verdict vocabulary shared by every rule source: plan rules, host checks and manual obligations."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Status(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    # Could not be checked (unknown at preview, not checkable in the lab, ...). Never counted as PASS.
    NOT_VERIFIED = "NOT-VERIFIED"
    # An obligation no machine can check; carries the owner from the profile.
    MANUAL = "MANUAL"


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return ["low", "medium", "high", "critical"].index(self.value)


@dataclass(frozen=True)
class RuleMeta:
    """What an auditor reads about a rule: id, what must hold, which AVG articles, why, and how to fix it."""

    id: str
    title: str
    articles: tuple[str, ...]
    severity: Severity
    rationale: str
    remediation: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["articles"] = list(self.articles)
        d["severity"] = self.severity.value
        return d


@dataclass(frozen=True)
class Finding:
    """One rule applied to one target (a resource urn, a host, or the stack)."""

    rule_id: str
    status: Status
    target: str
    message: str
    observed: Any = None
    expected: Any = None
    source: str = "plan"  # plan | host | manual
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "rule_id": self.rule_id,
            "status": self.status.value,
            "target": self.target,
            "message": self.message,
            "observed": self.observed,
            "expected": self.expected,
            "source": self.source,
        }
        if self.extra:
            d["extra"] = self.extra
        return d

    def sort_key(self) -> tuple[str, str, str]:
        return (self.rule_id, self.target, self.message)
