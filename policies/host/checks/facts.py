"""Controls the roles themselves could not apply or observe on this host (avg_voip.fact NOT-VERIFIED)."""

from __future__ import annotations

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from policies.host.base import HostContext, host_check


@host_check(
    "AVG-HOST-CTRL-001",
    "Every control the roles could not apply on the host is listed, with the reason",
    ("32(1)", "5(2)"),
    Severity.MEDIUM,
    "A control that could not be applied must be visible, never silently counted as done.",
    "Apply the control where the host allows it (a full VM, not a container), then converge again.",
)
def role_not_verified(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    out = []
    for control, value in sorted(ctx.facts.items()):
        if isinstance(value, dict) and value.get("status") == "NOT-VERIFIED":
            out.append(
                ctx.finding(
                    meta,
                    Status.NOT_VERIFIED,
                    f"{control}: {value.get('reason', '')}",
                    extra={"control": control, "lab_limitation": ctx.lab},
                )
            )
    return out
