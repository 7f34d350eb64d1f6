"""AVG-RET-004: backups (and their copies) expire within the profile's backup retention."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.profile import Provider
from avg_voip.records import is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import BACKUP_PLAN, HC_SERVER, as_list, res

HETZNER_BACKUP_DAYS = 7  # Hetzner keeps seven daily backup slots; not configurable


def _plan(days: int | None, copy_days: int | None = 35) -> dict[str, Any]:
    rule_: dict[str, Any] = {"ruleName": "daily", "targetVaultName": "vault"}
    if days is not None:
        rule_["lifecycle"] = {"deleteAfter": days}
    if copy_days is not None:
        rule_["copyActions"] = [
            {
                "destinationVaultArn": "arn:aws:backup:eu-west-1:1:backup-vault:c",
                "lifecycle": {"deleteAfter": copy_days},
            }
        ]
    return res(BACKUP_PLAN[0], "plan", {"rules": [rule_]})


@rule(
    id="AVG-RET-004",
    title="Backups and backup copies expire within the profile's backup retention",
    articles=("5(1)(e)", "32(1)(c)"),
    severity=Severity.HIGH,
    rationale=(
        "A recording deleted from storage still lives in every backup until the backup expires; backup "
        "retention is part of the category's effective retention and must be bounded and documented."
    ),
    remediation="Set lifecycle.delete_after (and on every copy action) to at most backups.retention_days.",
    scope="stack",
    needs_profile=True,
    passing=[
        Example([_plan(35)]),
        Example(
            [res(HC_SERVER[0], "sip-1", {"location": "nbg1", "backups": True})], profile="healthcare-hcloud"
        ),
    ],
    failing=[
        Example([_plan(None)], note="backups never expire"),
        Example([_plan(35, copy_days=365)], note="copies kept a year"),
        Example([_plan(90)], note="longer than the profile's 35 days"),
        Example([res(BACKUP_PLAN[0], "plan", {"rules": []})], note="a plan without rules"),
    ],
)
def check(ctx: Context) -> Iterator[Result]:
    assert ctx.profile is not None
    bound = ctx.profile.backups.retention_days
    if ctx.profile.provider is Provider.HCLOUD:
        for s in ctx.records.of_type(*HC_SERVER):
            if s.props.get("backups") is True:
                # Hetzner's fixed rotation is the effective retention; the profile must document it
                if bound < HETZNER_BACKUP_DAYS:
                    yield fail(
                        s,
                        f"Hetzner keeps backups {HETZNER_BACKUP_DAYS} days, profile says {bound}",
                        HETZNER_BACKUP_DAYS,
                        f"<= {bound}",
                    )
                else:
                    yield ok(
                        s,
                        f"Hetzner backups rotate after {HETZNER_BACKUP_DAYS} days",
                        HETZNER_BACKUP_DAYS,
                        f"<= {bound}",
                    )
        return
    for plan in ctx.records.of_type(*BACKUP_PLAN):
        rules = plan.props.get("rules")
        if is_unknown(rules):
            yield unverified(plan, "backup rules unknown at preview")
            continue
        if not [r for r in as_list(rules) if isinstance(r, dict)]:
            yield fail(
                plan, "the plan has no rules: it backs up nothing and sets no retention", 0, ">= 1 rule"
            )
            continue
        for r in as_list(rules):
            if not isinstance(r, dict):
                continue
            lifecycles = [("backup", r.get("lifecycle"))]
            lifecycles += [
                ("copy", c.get("lifecycle")) for c in as_list(r.get("copyActions")) if isinstance(c, dict)
            ]
            for label, lc in lifecycles:
                days = lc.get("deleteAfter") if isinstance(lc, dict) else None
                if is_unknown(days):
                    yield unverified(plan, f"{label} lifecycle unknown at preview")
                elif not isinstance(days, int):
                    yield fail(plan, f"{r.get('ruleName')}: {label} never expires", None, f"<= {bound}")
                elif days > bound:
                    yield fail(
                        plan,
                        f"{r.get('ruleName')}: {label} kept {days} days, profile allows {bound}",
                        days,
                        f"<= {bound}",
                    )
                else:
                    yield ok(
                        plan, f"{r.get('ruleName')}: {label} expires after {days} days", days, f"<= {bound}"
                    )
