"""AVG-RET-001: every data category kept in object storage expires within its profile retention."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.profile import Provider, Storage
from avg_voip.records import UNKNOWN, ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import BUCKET_LIFECYCLE, as_list, bucket, buckets_for_store, res, side_resources

# The mortgage-aws profile: advice_recordings 2555, qa_recordings 90, transcripts 90 days (recordings_store);
# call_metadata 365 days (metadata_store).
_RECORDINGS = {"advice_recordings": 2555, "qa_recordings": 90, "transcripts": 90}


def lifecycle(
    bucket_name: str,
    days: dict[str, int],
    status: str = "Enabled",
    prefix_override: str | None = None,
    filter_override: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A lifecycle configuration with one rule per category; `filter_override` replaces every rule's filter
    (its "{prefix}" strings become the category prefix)."""
    rules = [
        {
            "id": cat,
            "status": status,
            "filter": _filter(filter_override, f"{cat}/")
            if filter_override is not None
            else {"prefix": prefix_override if prefix_override is not None else f"{cat}/"},
            "expiration": {"days": d},
            "noncurrentVersionExpiration": {"noncurrentDays": 1},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1},
        }
        for cat, d in days.items()
    ]
    return res(BUCKET_LIFECYCLE[0], f"{bucket_name}-lifecycle", {"bucket": bucket_name, "rules": rules})


def _filter(template: Any, prefix: str) -> Any:
    if isinstance(template, dict):
        return {k: _filter(v, prefix) for k, v in template.items()}
    return prefix if template == "{prefix}" else template


def _stores(days: dict[str, int] | None = None, **kw: Any) -> list[dict[str, Any]]:
    return [
        bucket("rec"),
        lifecycle("rec", days or _RECORDINGS, **kw),
        bucket("meta", "metadata_store"),
        lifecycle("meta", {"call_metadata": 365}),
    ]


# Filter parts that narrow a rule to some of the objects under its prefix: such a rule cannot bound the
# retention of a category, since objects without the tag or outside the size range are never expired.
_NARROWING = ("tag", "tags", "objectSizeGreaterThan", "objectSizeLessThan")


def _narrows(part: dict[str, Any]) -> Any:
    """True when a filter (or its `and`) narrows by tag or object size; UNKNOWN when that is unknown."""
    for k in _NARROWING:
        v = part.get(k)
        if is_unknown(v):
            return UNKNOWN
        if isinstance(v, dict) and any(is_unknown(x) for x in v.values()):
            return UNKNOWN
        if v not in (None, 0, "", "0", {}, []):
            return True
    return False


def rule_scope(r: dict[str, Any]) -> tuple[Any, Any]:
    """(prefix, narrowed) of a lifecycle rule: the key prefix it applies to, and whether its filter narrows it
    further by tag or object size. Either can be UNKNOWN at preview."""
    f = r.get("filter")
    if is_unknown(f):
        return UNKNOWN, UNKNOWN
    if isinstance(f, list):
        f = f[0] if f else None
    if not isinstance(f, dict):
        p = r.get("prefix")
        return (p if is_unknown(p) else p or ""), False
    narrowed = _narrows(f)
    prefix = f.get("prefix")
    conj = f.get("and")
    if is_unknown(conj):
        return UNKNOWN, UNKNOWN
    if isinstance(conj, list):
        conj = conj[0] if conj else None
    if isinstance(conj, dict):
        if prefix in (None, ""):
            prefix = conj.get("prefix")
        inner = _narrows(conj)
        narrowed = UNKNOWN if UNKNOWN in (narrowed, inner) else (narrowed or inner)
    return (prefix if is_unknown(prefix) else prefix or ""), narrowed


def rule_prefix(r: dict[str, Any]) -> Any:
    """The prefix a rule covers in full, None when its filter narrows it to some objects, or UNKNOWN."""
    prefix, narrowed = rule_scope(r)
    if is_unknown(narrowed):
        return UNKNOWN
    return None if narrowed else prefix


def covering_rules(lifecycles: list[ResourceRecord], prefix: str) -> list[dict[str, Any]]:
    """The rules (any status) whose filter covers every object under `prefix`; {"$unknown": True} marks a rule
    that cannot be judged at preview."""
    out = []
    for lc in lifecycles:
        for r in as_list(lc.props.get("rules")):
            if is_unknown(r):
                out.append({"$unknown": True})
                continue
            if not isinstance(r, dict):
                continue
            p = rule_prefix(r)
            if is_unknown(p):
                out.append({"$unknown": True})
            elif isinstance(p, str) and prefix.startswith(p):
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
        Example(
            _stores(filter_override={"and": {"prefix": "{prefix}", "tags": {"legal-hold": "no"}}}),
            note="prefix and tag filter: untagged recordings never expire",
        ),
        Example(
            _stores(filter_override={"prefix": "{prefix}", "objectSizeGreaterThan": 1024}),
            note="prefix and object size filter: small objects never expire",
        ),
        Example(
            _stores(filter_override={"and": {"prefix": "{prefix}", "objectSizeLessThan": 10485760}}),
            note="prefix and object size filter in 'and': large objects never expire",
        ),
        Example(
            _stores(filter_override={"tag": {"key": "category", "value": "qa"}}),
            note="tag-only filter",
        ),
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
    expected = f"an Enabled rule on {prefix} expiring within {bound} days"
    rules = [r for lc in lifecycles for r in as_list(lc.props.get("rules"))]
    if any(is_unknown(r) for r in rules):
        return unverified(b, f"{cat}: lifecycle rules unknown at preview")
    rules = [r for r in rules if isinstance(r, dict)]
    scoped = [(r, *rule_scope(r)) for r in rules]
    if any(is_unknown(p) or is_unknown(n) for _, p, n in scoped):
        return unverified(b, f"{cat}: lifecycle rule filters unknown at preview")
    on_prefix = [(r, n) for r, p, n in scoped if isinstance(p, str) and prefix.startswith(p)]
    expiring = [(r, n) for r, n in on_prefix if expiry_days(r) is not None]
    if any(is_unknown(expiry_days(r)) for r, _ in expiring) or any(
        is_unknown(r.get("status")) for r, _ in expiring
    ):
        return unverified(b, f"{cat}: expiration unknown at preview")
    full = [r for r, n in expiring if not n and r.get("status") == "Enabled"]
    valid = [d for d in (expiry_days(r) for r in full) if isinstance(d, int)]
    if valid:
        best = min(valid)
        if best > bound:
            return fail(
                b, f"{cat}: expires after {best} days, longer than the profile's {bound}", best, f"<= {bound}"
            )
        return ok(b, f"{cat}: {prefix} expires after {best} days (profile: {bound})", best, f"<= {bound}")
    partial = [r for r, n in expiring if n and r.get("status") == "Enabled"]
    if partial:
        return fail(
            b,
            f"{cat}: the rule expiring {prefix} ({_ids(partial)}) filters by tag or object size, so objects "
            "outside that filter are never expired",
            _ids(partial),
            expected,
        )
    if expiring:
        return fail(
            b,
            f"{cat}: the rule covering {prefix} ({_ids([r for r, _ in expiring])}) is disabled",
            "Disabled",
            "Enabled",
        )
    if not rules:
        return fail(b, f"{cat}: no lifecycle rule covers prefix {prefix}", None, expected)
    others = sorted(
        {p or "(whole bucket)" for r, p, _ in scoped if expiry_days(r) is not None and isinstance(p, str)}
    )
    without = [r for r, n in on_prefix if not n and r.get("status") == "Enabled"]
    msg = f"{cat}: no enabled rule {'expires' if without else 'covers'} {prefix}"
    if others:
        msg += "; rules expire only " + ", ".join(others)
    if without:
        msg += f"; {_ids(without)} covers it but expires no current objects"
    return fail(b, msg, others or None, expected)


def _ids(rules: list[dict[str, Any]]) -> str:
    return ", ".join(repr(str(r.get("id") or "unnamed")) for r in rules)
