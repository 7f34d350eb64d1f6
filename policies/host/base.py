"""Registry and context of the host checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from avg_voip.findings import Finding, RuleMeta, Severity, Status


@dataclass
class HostContext:
    """What a host check sees: the host (testinfra, commands run with sudo), its variables and facts."""

    name: str
    address: str
    host: Any  # testinfra.host.Host
    hostvars: dict[str, Any]
    lab: bool = True
    # Results of the probes run from the host side of the link (ssh-audit, sslyze, sipsak, ...), by name.
    probes: dict[str, Any] = field(default_factory=dict)
    _facts: dict[str, Any] | None = None

    @property
    def facts(self) -> dict[str, Any]:
        """Control status the roles recorded in /etc/ansible/facts.d/avg_voip.fact ({} when absent)."""
        if self._facts is None:
            cmd = self.host.run("cat /etc/ansible/facts.d/avg_voip.fact")
            try:
                self._facts = json.loads(cmd.stdout) if cmd.rc == 0 else {}
            except ValueError:
                self._facts = {}
        return self._facts

    def fact_not_verified(self, *needles: str) -> tuple[str, str] | None:
        """(control id, reason) of a control the roles marked NOT-VERIFIED whose id contains a needle."""
        for control, value in sorted(self.facts.items()):
            if not isinstance(value, dict) or value.get("status") != "NOT-VERIFIED":
                continue
            if any(n in control.lower() for n in needles):
                return control, str(value.get("reason", ""))
        return None

    def finding(self, meta: RuleMeta, status: Status, message: str, **kw: Any) -> Finding:
        return Finding(
            rule_id=meta.id,
            status=status,
            target=f"host:{self.name}",
            message=message,
            source="host",
            **kw,
        )


HostCheck = Callable[[HostContext, RuleMeta], list[Finding]]
CHECKS: list[tuple[RuleMeta, HostCheck]] = []


def host_check(
    id: str, title: str, articles: tuple[str, ...], severity: Severity, rationale: str, remediation: str
) -> Callable[[HostCheck], HostCheck]:
    meta = RuleMeta(id, title, articles, severity, rationale, remediation)

    def register(fn: HostCheck) -> HostCheck:
        CHECKS.append((meta, fn))
        return fn

    return register


def run_checks(ctx: HostContext, only: set[str] | None = None) -> list[Finding]:
    """Run every registered check on one host; a check that errors is NOT-VERIFIED with the error."""
    from policies.host import checks  # noqa: F401  (registers the checks)

    out: list[Finding] = []
    for meta, fn in CHECKS:
        if only is not None and meta.id not in only:
            continue
        try:
            out += fn(ctx, meta)
        except Exception as exc:  # a broken check must show up, not vanish
            out.append(ctx.finding(meta, Status.NOT_VERIFIED, f"check could not run: {exc!r}"[:500]))
    return out


def meta_by_id() -> dict[str, RuleMeta]:
    from policies.host import checks  # noqa: F401

    return {m.id: m for m, _ in CHECKS}
