"""AVG-KMS-002: customer-managed keys rotate at least yearly."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import KMS_KEY, res

MAX_ROTATION_DAYS = 365


@rule(
    id="AVG-KMS-002",
    title="Customer-managed KMS keys have automatic rotation at most every 365 days",
    articles=("32(1)(a)",),
    severity=Severity.HIGH,
    rationale=(
        "Rotation limits how much data one key version protects and is the state of the art Art. 32 refers to; "
        "recordings kept for years must not depend on one key version for all of them."
    ),
    remediation="Set enable_key_rotation=True and rotation_period_in_days between 90 and 365.",
    types=KMS_KEY,
    passing=[
        Example([res(KMS_KEY[0], "data", {"enableKeyRotation": True, "rotationPeriodInDays": 365})]),
        Example([res(KMS_KEY[0], "data", {"enableKeyRotation": True})]),
    ],
    failing=[
        Example([res(KMS_KEY[0], "data", {"enableKeyRotation": False})]),
        Example([res(KMS_KEY[0], "data", {})], note="rotation is off by default"),
        Example([res(KMS_KEY[0], "data", {"enableKeyRotation": True, "rotationPeriodInDays": 730})]),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    enabled = record.props.get("enableKeyRotation", False)
    period = record.props.get("rotationPeriodInDays", MAX_ROTATION_DAYS)
    if is_unknown(enabled) or is_unknown(period):
        yield unverified(record, "rotation settings unknown at preview")
    elif enabled is not True:
        yield fail(record, "automatic key rotation is off", False, True)
    elif not isinstance(period, int) or period > MAX_ROTATION_DAYS:
        yield fail(
            record, f"rotation period {period} days is longer than a year", period, f"<= {MAX_ROTATION_DAYS}"
        )
    else:
        yield ok(record, f"rotates every {period} days", period, f"<= {MAX_ROTATION_DAYS}")
