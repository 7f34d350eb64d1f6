"""AVG-RET-005: deleted objects do not survive as old versions or abandoned uploads."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import (
    BUCKET,
    BUCKET_LIFECYCLE,
    BUCKET_VERSIONING,
    STORE_TAG,
    as_list,
    bucket,
    res,
    side_resources,
    tags,
)
from policies.rules.ret_001_bucket_lifecycle import lifecycle


def _versioned(name: str = "rec") -> dict[str, object]:
    return res(
        BUCKET_VERSIONING[0],
        f"{name}-versioning",
        {"bucket": name, "versioningConfiguration": {"status": "Enabled"}},
    )


def _bare_lifecycle() -> dict[str, object]:
    return res(
        BUCKET_LIFECYCLE[0],
        "rec-lifecycle",
        {
            "bucket": "rec",
            "rules": [
                {"id": "qa", "status": "Enabled", "filter": {"prefix": "qa/"}, "expiration": {"days": 30}}
            ],
        },
    )


@rule(
    id="AVG-RET-005",
    title="Personal-data buckets expire noncurrent versions and abort incomplete uploads",
    articles=("5(1)(e)",),
    severity=Severity.HIGH,
    rationale=(
        "With versioning on, an expired or erased recording becomes a noncurrent version that is kept until a "
        "rule removes it; an interrupted upload leaves parts that no expiration rule sees. Both outlive retention "
        "and defeat erasure requests (Art. 17)."
    ),
    remediation=(
        "Add noncurrent_version_expiration (noncurrent_days small, e.g. 1) and abort_incomplete_multipart_upload "
        "(days_after_initiation 1) to the bucket's enabled lifecycle rules."
    ),
    types=BUCKET,
    passing=[Example([bucket("rec"), _versioned(), lifecycle("rec", {"qa": 30})])],
    failing=[
        Example([bucket("rec"), _versioned(), _bare_lifecycle()]),
        Example([bucket("rec"), _versioned()], note="no lifecycle at all"),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    if STORE_TAG not in tags(record):
        return  # only buckets that hold personal data are tagged with their store
    lcs = side_resources(ctx.records, BUCKET_LIFECYCLE, record)
    rules = [r for lc in lcs for r in as_list(lc.props.get("rules"))]
    if any(is_unknown(r) for r in rules):
        yield unverified(record, "lifecycle rules unknown at preview")
        return
    enabled = [r for r in rules if isinstance(r, dict) and r.get("status") == "Enabled"]
    versioned = any(
        (v.props.get("versioningConfiguration") or {}).get("status") == "Enabled"
        for v in side_resources(ctx.records, BUCKET_VERSIONING, record)
    )
    missing = []
    if (versioned and not all(r.get("noncurrentVersionExpiration") for r in enabled)) or (
        versioned and not enabled
    ):
        missing.append("noncurrent version expiration")
    if not any(r.get("abortIncompleteMultipartUpload") for r in enabled):
        missing.append("abort of incomplete multipart uploads")
    if missing:
        yield fail(record, "lifecycle lacks " + " and ".join(missing), None, "both configured")
    else:
        yield ok(record, "old versions and incomplete uploads are removed", "configured", "configured")
