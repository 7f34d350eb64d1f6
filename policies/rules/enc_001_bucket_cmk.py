"""AVG-ENC-001: every bucket is encrypted with SSE-KMS under a customer-managed key, with a bucket key."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import BUCKET, BUCKET_SSE, as_list, bucket, res, side_resources

KEY = "arn:aws:kms:eu-central-1:123456789012:key/1111"


def _sse(algorithm: str, key: str | None = KEY, bucket_key: bool = True) -> dict[str, object]:
    default: dict[str, object] = {"sseAlgorithm": algorithm}
    if key:
        default["kmsMasterKeyId"] = key
    return res(
        BUCKET_SSE[0],
        "rec-sse",
        {
            "bucket": "rec",
            "rules": [{"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": bucket_key}],
        },
    )


@rule(
    id="AVG-ENC-001",
    title="Buckets are encrypted with SSE-KMS under a customer-managed key, with a bucket key",
    articles=("32(1)(a)", "5(1)(f)"),
    severity=Severity.HIGH,
    rationale=(
        "Recordings, call records and logs at rest must be encrypted under a key the organisation controls, so "
        "access can be revoked, audited in CloudTrail and limited by key policy; SSE-S3 keys are AWS-managed."
    ),
    remediation=(
        "Add a BucketServerSideEncryptionConfiguration with sse_algorithm 'aws:kms', kms_master_key_id set to "
        "the stack's CMK and bucket_key_enabled=True."
    ),
    types=BUCKET,
    passing=[Example([bucket("rec"), _sse("aws:kms")])],
    failing=[
        Example([bucket("rec")], note="no encryption configuration"),
        Example([bucket("rec"), _sse("AES256", key=None)], note="SSE-S3 instead of KMS"),
        Example([bucket("rec"), _sse("aws:kms", key=None)], note="AWS-managed key, not a CMK"),
        Example([bucket("rec"), _sse("aws:kms", key="alias/aws/s3")], note="AWS-managed key alias"),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    configs = side_resources(ctx.records, BUCKET_SSE, record)
    inline = record.props.get("serverSideEncryptionConfiguration")  # pre-v7 inline form
    rules = [r for c in configs for r in as_list(c.props.get("rules"))]
    # A separate configuration resource governs the bucket; the inline form counts only without one (in a
    # state's outputs the inline value is the bucket's default as read at creation, AES256, not the config).
    if isinstance(inline, dict) and not configs:
        rules += as_list(inline.get("rule") or {})
    if not rules:
        yield fail(record, "no server-side encryption configuration with a CMK", None, "aws:kms with a CMK")
        return
    for r in rules:
        if is_unknown(r):
            yield unverified(record, "encryption settings unknown at preview")
            return
        d = r.get("applyServerSideEncryptionByDefault") or {}
        alg, key = d.get("sseAlgorithm"), d.get("kmsMasterKeyId")
        if is_unknown(alg) or is_unknown(key):
            yield unverified(record, "encryption key unknown until it exists")
            return
        if alg not in ("aws:kms", "aws:kms:dsse"):
            yield fail(record, f"encrypted with {alg}, not with a customer-managed KMS key", alg, "aws:kms")
            return
        if not key or str(key).startswith("alias/aws/"):
            yield fail(
                record, "SSE-KMS uses the AWS-managed key, not a customer-managed key", key, "a CMK ARN"
            )
            return
        if r.get("bucketKeyEnabled") is not True:
            yield fail(
                record,
                "bucket key disabled: every object costs a KMS call and a CloudTrail event",
                r.get("bucketKeyEnabled"),
                True,
            )
            return
    yield ok(record, "SSE-KMS with a customer-managed key and bucket key", "aws:kms", "aws:kms")
