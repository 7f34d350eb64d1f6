"""AVG-RET-005: deleted objects do not survive as old versions or abandoned uploads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.records import UNKNOWN, ResourceRecord, is_unknown
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

# Noncurrent versions exist only to undo an accidental overwrite or delete; recovery beyond that is the job of
# the backups, whose retention AVG-RET-004 bounds. A version kept longer than this after it stopped being
# current outlives the expiration and erasure that made it noncurrent (Art. 5(1)(e), Art. 17).
MAX_NONCURRENT_DAYS = 30


def _noncurrent(r: dict[str, Any]) -> tuple[Any, Any]:
    """(noncurrentDays, newerNoncurrentVersions) of a lifecycle rule; (None, None) when it sets none."""
    nve = r.get("noncurrentVersionExpiration")
    if isinstance(nve, list):
        nve = nve[0] if nve else None
    if is_unknown(nve):
        return UNKNOWN, UNKNOWN
    if not isinstance(nve, dict):
        return None, None
    return nve.get("noncurrentDays"), nve.get("newerNoncurrentVersions")


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


def _noncurrent_lifecycle(nve: dict[str, int]) -> dict[str, object]:
    lc = lifecycle("rec", {"qa": 30})
    for r in lc["props"]["rules"]:
        r["noncurrentVersionExpiration"] = dict(nve)
    return lc


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
        "Add noncurrent_version_expiration (noncurrent_days small, e.g. 1, at most 30; no "
        "newer_noncurrent_versions) and abort_incomplete_multipart_upload (days_after_initiation 1) to the "
        "bucket's enabled lifecycle rules."
    ),
    types=BUCKET,
    passing=[Example([bucket("rec"), _versioned(), lifecycle("rec", {"qa": 30})])],
    failing=[
        Example([bucket("rec"), _versioned(), _bare_lifecycle()]),
        Example([bucket("rec"), _versioned()], note="no lifecycle at all"),
        Example(
            [bucket("rec"), _versioned(), _noncurrent_lifecycle({"noncurrentDays": 3650})],
            note="expired versions kept ten years",
        ),
        Example(
            [
                bucket("rec"),
                _versioned(),
                _noncurrent_lifecycle({"noncurrentDays": 1, "newerNoncurrentVersions": 3}),
            ],
            note="the three newest noncurrent versions are kept without a time bound",
        ),
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
    if versioned:
        noncurrent = [(r, *_noncurrent(r)) for r in enabled]
        if any(is_unknown(d) or is_unknown(n) for _, d, n in noncurrent):
            yield unverified(record, "noncurrent version expiration unknown at preview")
            return
        if not enabled or any(not isinstance(d, int) for _, d, _ in noncurrent):
            missing.append("noncurrent version expiration")
        long = sorted({d for _, d, _ in noncurrent if isinstance(d, int) and d > MAX_NONCURRENT_DAYS})
        if long:
            yield fail(
                record,
                f"noncurrent versions are kept {max(long)} days after they stop being current, more than the "
                f"{MAX_NONCURRENT_DAYS} days recovery from an accidental overwrite or delete needs",
                max(long),
                f"<= {MAX_NONCURRENT_DAYS}",
            )
            return
        kept = sorted({n for _, _, n in noncurrent if isinstance(n, int) and n > 0})
        if kept:
            yield fail(
                record,
                f"newer_noncurrent_versions keeps the {max(kept)} newest noncurrent versions of every object "
                "without a time bound",
                max(kept),
                None,
            )
            return
    if not any(r.get("abortIncompleteMultipartUpload") for r in enabled):
        missing.append("abort of incomplete multipart uploads")
    if missing:
        yield fail(record, "lifecycle lacks " + " and ".join(missing), None, "both configured")
    else:
        yield ok(record, "old versions and incomplete uploads are removed", "configured", "configured")
