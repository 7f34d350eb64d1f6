"""AVG-RET-002: audit logs expire within the profile's audit-log retention."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.profile import Provider, Storage
from avg_voip.records import is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import BUCKET_LIFECYCLE, LOG_GROUP, bucket, buckets_for_store, res, side_resources
from policies.rules.ret_001_bucket_lifecycle import covering_rules, expiry_days, lifecycle

LOG_PREFIX = "AWSLogs/"
_KEY = "arn:aws:kms:eu-central-1:123456789012:key/1"


def _logs(days: int, group_days: int | None = 545) -> list[dict[str, object]]:
    recs = [
        bucket("logs", "audit_log_store"),
        lifecycle("logs", {"AWSLogs": days}, prefix_override=LOG_PREFIX),
    ]
    group: dict[str, object] = {"kmsKeyId": _KEY}
    if group_days is not None:
        group["retentionInDays"] = group_days
    recs.append(res(LOG_GROUP[0], "trail-events", group))
    return recs


@rule(
    id="AVG-RET-002",
    title="Audit logs (trail bucket, log groups) expire within the profile's audit-log retention",
    articles=("5(1)(e)", "32"),
    severity=Severity.MEDIUM,
    rationale=(
        "Access logs are personal data about employees and callers. They must be kept long enough to investigate "
        "incidents, and deleted when that purpose ends — not kept forever by default."
    ),
    remediation=(
        "Give the log bucket a lifecycle rule on 'AWSLogs/' and every log group a retention_in_days no longer "
        "than the retention_days of the profile's audit data category (CloudWatch: the largest allowed value not "
        "above it)."
    ),
    scope="stack",
    needs_profile=True,
    passing=[Example(_logs(730))],
    failing=[
        Example(_logs(3650), note="log bucket keeps ten years"),
        Example(_logs(730, group_days=None), note="log group never expires"),
        Example(_logs(730, group_days=1827), note="log group keeps five years"),
        Example(_logs(730)[1:], note="no audit log bucket"),
        Example(
            [
                bucket("logs", "audit_log_store"),
                lifecycle(
                    "logs",
                    {"AWSLogs": 730},
                    filter_override={"prefix": LOG_PREFIX, "tag": {"key": "k", "value": "v"}},
                ),
                *_logs(730)[2:],
            ],
            note="the log rule expires only tagged objects",
        ),
    ],
)
def check(ctx: Context) -> Iterator[Result]:
    assert ctx.profile is not None
    bound = ctx.profile.audit_retention_days
    log_buckets = buckets_for_store(ctx.records, Storage.AUDIT_LOG_STORE.value)
    if ctx.profile.provider is Provider.AWS and not log_buckets:
        yield fail(
            ctx.stack_target,
            "no bucket is tagged as the audit log store",
            None,
            f"logs expiring <= {bound} days",
        )
    for b in log_buckets:
        rules = [
            r
            for r in covering_rules(side_resources(ctx.records, BUCKET_LIFECYCLE, b), LOG_PREFIX)
            if r.get("status") == "Enabled"
        ]
        days = [expiry_days(r) for r in rules]
        # a covering rule without expiration (e.g. whole-bucket housekeeping) does not count as a bound
        valid = [d for d in days if isinstance(d, int)]
        if any(is_unknown(d) for d in days) or any("$unknown" in r for r in rules):
            yield unverified(b, "log lifecycle unknown at preview")
        elif not valid:
            yield fail(b, f"no enabled lifecycle rule expires {LOG_PREFIX}", None, f"<= {bound}")
        elif min(valid) > bound:
            yield fail(b, f"logs kept {min(valid)} days, longer than {bound}", min(valid), f"<= {bound}")
        else:
            yield ok(b, f"logs expire after {min(valid)} days", min(valid), f"<= {bound}")
    for g in ctx.records.of_type(*LOG_GROUP):
        days = g.props.get("retentionInDays")
        if is_unknown(days):
            yield unverified(g, "retention unknown at preview")
        elif not isinstance(days, int) or days <= 0:
            yield fail(g, "log group never expires", days, f"<= {bound}")
        elif days > bound:
            yield fail(g, f"log group keeps {days} days, longer than {bound}", days, f"<= {bound}")
        else:
            yield ok(g, f"log group keeps {days} days", days, f"<= {bound}")
