"""AVG-RES-003: backup copies go only to EU/EEA regions."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import BACKUP_PLAN, arn_region, as_list, res
from policies.rules.res_001_resource_location import location_verdict


def _plan(*dest_regions: str) -> dict[str, object]:
    copies = [
        {
            "destinationVaultArn": f"arn:aws:backup:{r}:123456789012:backup-vault:copy-{r}",
            "lifecycle": {"deleteAfter": 35},
        }
        for r in dest_regions
    ]
    return res(
        BACKUP_PLAN[0],
        "plan",
        {
            "rules": [
                {
                    "ruleName": "daily",
                    "targetVaultName": "vault",
                    "lifecycle": {"deleteAfter": 35},
                    "copyActions": copies,
                }
            ]
        },
    )


@rule(
    id="AVG-RES-003",
    title="Backup copies are kept only in EU/EEA regions",
    articles=("44", "32(1)(c)"),
    severity=Severity.CRITICAL,
    rationale=(
        "Backups and disaster-recovery copies hold the same recordings and call data as the source; a copy "
        "outside the EU is a transfer just like the original would be."
    ),
    remediation="Point every copy action of the backup plan at a vault in an EU region (profile backups.copy_regions).",
    types=BACKUP_PLAN,
    passing=[Example([_plan("eu-west-1")]), Example([_plan()])],
    failing=[Example([_plan("us-east-1")]), Example([_plan("eu-west-1", "eu-west-2")])],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    rules = record.props.get("rules")
    if is_unknown(rules):
        yield unverified(record, "backup rules unknown at preview")
        return
    copies = [c for r in as_list(rules) if isinstance(r, dict) for c in as_list(r.get("copyActions"))]
    if not copies:
        yield ok(record, "no backup copies leave the home region", [], "EU/EEA copy targets")
        return
    for c in copies:
        arn = c.get("destinationVaultArn") if isinstance(c, dict) else None
        if is_unknown(arn):
            yield unverified(record, "copy destination unknown until the vault exists")
            continue
        region = arn_region(arn)
        if region is None:
            yield fail(record, f"copy destination {arn!r} names no region", arn, "an EU vault ARN")
            continue
        why = location_verdict(ctx, "aws", region)
        yield (
            fail(record, f"backup copy to {why}", region, "EU/EEA")
            if why
            else ok(record, f"backup copy to {region}", region, "EU/EEA")
        )
