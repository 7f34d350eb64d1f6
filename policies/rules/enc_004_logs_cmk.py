"""AVG-ENC-004: the audit trail and its log groups are encrypted with a customer-managed key."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import LOG_GROUP, TRAIL, res

KEY = "arn:aws:kms:eu-central-1:123456789012:key/1"


@rule(
    id="AVG-ENC-004",
    title="CloudTrail trails and CloudWatch log groups are encrypted with a customer-managed key",
    articles=("32(1)(a)", "5(1)(f)"),
    severity=Severity.MEDIUM,
    rationale=(
        "Access logs name who listened to which caller's recording; they are personal data themselves and must "
        "be as protected as the recordings."
    ),
    remediation="Set kms_key_id on the trail and on every log group to the stack's CMK.",
    types=TRAIL + LOG_GROUP,
    passing=[
        Example([res(TRAIL[0], "trail", {"kmsKeyId": KEY, "s3BucketName": "logs"})]),
        Example([res(LOG_GROUP[0], "flow", {"kmsKeyId": KEY, "retentionInDays": 365})]),
    ],
    failing=[
        Example([res(TRAIL[0], "trail", {"s3BucketName": "logs"})]),
        Example([res(LOG_GROUP[0], "flow", {"retentionInDays": 365})]),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    key = record.props.get("kmsKeyId")
    if is_unknown(key):
        yield unverified(record, "key unknown until it exists")
    elif not key:
        yield fail(record, "logs are not encrypted with a customer-managed key", None, "a CMK ARN")
    else:
        yield ok(record, "encrypted with a customer-managed key", key, "a CMK ARN")
