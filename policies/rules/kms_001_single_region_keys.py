"""AVG-KMS-001: KMS keys are single-region."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import KMS_KEY, res


@rule(
    id="AVG-KMS-001",
    title="KMS keys are single-region, so key material cannot be replicated outside the EU",
    articles=("32", "44"),
    severity=Severity.HIGH,
    rationale=(
        "A multi-region key can be replicated to any region, including outside the EU, by anyone allowed to "
        "create replicas; whoever holds the key can read every recording it protects."
    ),
    remediation="Create the key with multi_region=False; use a separate key per EU region for backup copies.",
    types=KMS_KEY,
    passing=[
        Example([res(KMS_KEY[0], "data", {"enableKeyRotation": True, "multiRegion": False})]),
        Example([res(KMS_KEY[0], "data", {"enableKeyRotation": True})], note="multiRegion defaults to false"),
    ],
    failing=[Example([res(KMS_KEY[0], "data", {"enableKeyRotation": True, "multiRegion": True})])],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    value = record.props.get("multiRegion", False)
    if is_unknown(value):
        yield unverified(record, "multiRegion unknown at preview")
    elif value is True:
        yield fail(record, "key is multi-region", True, False)
    else:
        yield ok(record, "single-region key", False, False)
