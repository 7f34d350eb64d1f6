"""AVG-RES-004: replication targets (S3 replication, KMS replica keys) stay in EU/EEA regions."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown, region_of
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import BUCKET, BUCKET_REPLICATION, KMS_REPLICA, as_list, bucket, res
from policies.rules.res_001_resource_location import location_verdict


def _replication(dest: str) -> dict[str, object]:
    return res(
        BUCKET_REPLICATION[0],
        "repl",
        {
            "bucket": "rec",
            "role": "arn:aws:iam::123456789012:role/r",
            "rules": [{"status": "Enabled", "destination": {"bucket": f"arn:aws:s3:::{dest}"}}],
        },
    )


def _dest_bucket(name: str, region: str) -> dict[str, object]:
    b = bucket(name)
    b["props"]["region"] = region
    return b


@rule(
    id="AVG-RES-004",
    title="Replication targets and replica keys stay in EU/EEA regions",
    articles=("44", "46"),
    severity=Severity.CRITICAL,
    rationale=(
        "Replication copies recordings or key material to another region automatically; the copy is subject "
        "to the same residency duty as the source."
    ),
    remediation="Replicate only to buckets in EU regions and create KMS replica keys only in EU regions.",
    types=BUCKET_REPLICATION + KMS_REPLICA,
    passing=[
        Example([bucket("rec"), _dest_bucket("dr", "eu-west-1"), _replication("dr")]),
        Example(
            [
                res(
                    KMS_REPLICA[0],
                    "replica",
                    {"primaryKeyArn": "arn:aws:kms:eu-central-1:1:key/k", "region": "eu-west-3"},
                )
            ]
        ),
    ],
    failing=[
        Example(
            [bucket("rec"), _dest_bucket("dr", "us-east-1"), _replication("dr")],
            note="replication target outside the EU",
        ),
        Example(
            [
                res(
                    KMS_REPLICA[0],
                    "replica",
                    {"primaryKeyArn": "arn:aws:kms:eu-central-1:1:key/k", "region": "ap-southeast-2"},
                )
            ]
        ),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    if record.type in KMS_REPLICA:
        region = region_of(record)
        if is_unknown(region):
            yield unverified(record, "replica region unknown at preview")
            return
        why = location_verdict(ctx, "aws", str(region)) if region else "replica key has no region"
        yield (
            fail(record, why, region, "EU/EEA")
            if why
            else ok(record, f"replica key in {region}", region, "EU/EEA")
        )
        return
    rules = record.props.get("rules")
    if is_unknown(rules):
        yield unverified(record, "replication rules unknown at preview")
        return
    buckets = ctx.records.of_type(*BUCKET)
    for r in as_list(rules):
        dest = (r.get("destination") or {}).get("bucket") if isinstance(r, dict) else None
        if is_unknown(dest):
            yield unverified(record, "replication destination unknown at preview")
            continue
        name = str(dest).rsplit(":", 1)[-1]
        target = next((b for b in buckets if name in (b.props.get("bucket"), b.id, b.name)), None)
        if target is None:
            yield unverified(
                record, f"replication target {dest} is not in this stack: its region cannot be read"
            )
            continue
        region = region_of(target)
        if is_unknown(region) or region is None:
            yield unverified(record, f"region of replication target {name} unknown")
            continue
        why = location_verdict(ctx, "aws", str(region))
        yield (
            fail(record, f"replication to {why}", region, "EU/EEA")
            if why
            else ok(record, f"replication to {name} in {region}", region, "EU/EEA")
        )
