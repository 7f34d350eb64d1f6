"""AVG-RET-001: every data category kept in object storage expires within its profile retention."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.profile import Provider, Storage
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import BUCKET_LIFECYCLE, as_list, bucket, buckets_for_store, res, side_resources

# The mortgage-aws profile: advice_recordings 2555, qa_recordings 90, transcripts 90 days (recordings_store);
# call_metadata 365 days (metadata_store).
_RECORDINGS = {"advice_recordings": 2555, "qa_recordings": 90, "transcripts": 90}


def lifecycle(
    bucket_name: str, days: dict[str, int], status: str = "Enabled", prefix_override: str | None = None
) -> dict[str, Any]:
    rules = [
        {
            "id": cat,
            "status": status,
            "filter": {"prefix": prefix_override if prefix_override is not None else f"{cat}/"},
            "expiration": {"days": d},
            "noncurrentVersionExpiration": {"noncurrentDays": 1},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1},
        }
        for cat, d in days.items()
    ]
    return res(BUCKET_LIFECYCLE[0], f"{bucket_name}-lifecycle", {"bucket": bucket_name, "rules": rules})


def _stores(days: dict[str, int] | None = None, **kw: Any) -> list[dict[str, Any]]:
    return [
        bucket("rec"),
        lifecycle("rec", days or _RECORDINGS, **kw),
        bucket("meta", "metadata_store"),
        lifecycle("meta", {"call_metadata": 365}),
    ]


def rule_prefix(r: dict[str, Any]) -> Any:
    f = r.get("filter")
    if isinstance(f, dict):
        if "prefix" in f:
            return f["prefix"]
        if isinstance(f.get("and"), dict) and "prefix" in f["and"]:
            return f["and"]["prefix"]
        if f.get("tag") or (isinstance(f.get("and"), dict) and f["and"].get("tags")):
            return None  # tag filters cannot be shown to cover a prefix
        return ""
    return r.get("prefix", "")


def covering_rules(lifecycles: list[ResourceRecord], prefix: str) -> list[dict[str, Any]]:
    out = []
    for lc in lifecycles:
        for r in as_list(lc.props.get("rules")):
            if is_unknown(r):
                out.append({"$unknown": True})
                continue
            p = rule_prefix(r)
            if is_unknown(p) or (isinstance(p, str) and prefix.startswith(p)):
                out.append(r)
    return out


def expiry_days(r: dict[str, Any]) -> Any:
    exp = r.get("expiration")
    if isinstance(exp, list):
        exp = exp[0] if exp else None
    return exp.get("days") if isinstance(exp, dict) else None


@rule(
    id="AVG-RET-001",
    title="Each data category in object storage has an enabled lifecycle rule on its prefix expiring within its retention",
    articles=("5(1)(e)", "25(2)"),
    severity=Severity.CRITICAL,
    rationale=(
        "Storage limitation: each purpose has its own documented retention, and deletion must be automatic, not "
        "manual. A lifecycle rule that is missing, disabled, on the wrong prefix or longer than the profile's "
        "retention keeps recordings or call records longer than the purpose allows."
    ),
    remediation=(
        "Add to the bucket's BucketLifecycleConfiguration an Enabled rule whose filter prefix is the category "
        "prefix (e.g. 'qa_recordings/') with expiration days <= the category's retention_days in the profile."
    ),
    scope="stack",
    needs_profile=True,
    passing=[Example(_stores())],
    failing=[
        Example(_stores({**_RECORDINGS, "qa_recordings": 120}), note="expires after the profile's 90 days"),
        Example(_stores(status="Disabled"), note="lifecycle rule disabled"),
        Example(_stores(prefix_override="recordings/"), note="filter misses the category prefixes"),
        Example([bucket("rec"), bucket("meta", "metadata_store")], note="no lifecycle at all"),
        Example(_stores()[2:], note="no bucket holds the recordings"),
    ],
)
def check(ctx: Context) -> Iterator[Result]:
    profile = ctx.profile
    assert profile is not None
    if profile.provider is not Provider.AWS:
        return
    for store in (Storage.RECORDINGS_STORE, Storage.METADATA_STORE):
        cats = profile.categories(storage=store)
        if not cats:
            continue
        buckets = buckets_for_store(ctx.records, store.value)
        if not buckets:
            for c in cats:
                yield fail(
                    ctx.stack_target,
                    f"{c.id}: no bucket tagged as {store.value} holds this category",
                    None,
                    f"a bucket with a lifecycle rule on {c.prefix}",
                )
            continue
        for b in buckets:
            lifecycles = side_resources(ctx.records, BUCKET_LIFECYCLE, b)
            for c in cats:
                yield _judge(b, c.id, c.prefix, c.retention_days, lifecycles)


def _judge(b: ResourceRecord, cat: str, prefix: str, bound: int, lifecycles: list[ResourceRecord]) -> Result:
    rules = covering_rules(lifecycles, prefix)
    if any("$unknown" in r for r in rules):
        return unverified(b, f"{cat}: lifecycle rules unknown at preview")
    if not rules:
        return fail(
            b,
            f"{cat}: no lifecycle rule covers prefix {prefix}",
            None,
            f"expire {prefix} within {bound} days",
        )
    enabled = [r for r in rules if r.get("status") == "Enabled"]
    if not enabled:
        return fail(b, f"{cat}: the lifecycle rule covering {prefix} is disabled", "Disabled", "Enabled")
    days = [expiry_days(r) for r in enabled]
    if any(is_unknown(d) for d in days):
        return unverified(b, f"{cat}: expiration unknown at preview")
    valid = [d for d in days if isinstance(d, int)]
    if not valid:
        return fail(b, f"{cat}: the rule covering {prefix} has no expiration in days", None, f"<= {bound}")
    best = min(valid)
    if best > bound:
        return fail(
            b, f"{cat}: expires after {best} days, longer than the profile's {bound}", best, f"<= {bound}"
        )
    return ok(b, f"{cat}: {prefix} expires after {best} days (profile: {bound})", best, f"<= {bound}")
