"""AVG-ACC-001: no bucket can be made public."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import BUCKET, BUCKET_ACL, BUCKET_PAB, bucket, res, side_resources

_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _pab(**overrides: bool) -> dict[str, object]:
    props: dict[str, object] = {"bucket": "rec", **dict.fromkeys(_FLAGS, True)}
    props.update(overrides)
    return res(BUCKET_PAB[0], "rec-pab", props)


@rule(
    id="AVG-ACC-001",
    title="Every bucket blocks public access (all four public-access-block settings) and has no public ACL",
    articles=("32(1)(b)", "5(1)(f)", "25(2)"),
    severity=Severity.CRITICAL,
    rationale=(
        "A public recording is a data breach (Art. 33). Blocking public ACLs and policies at the bucket makes "
        "a later mistake in an object ACL or policy harmless."
    ),
    remediation="Add a BucketPublicAccessBlock with all four settings True; remove public-read ACLs.",
    types=BUCKET,
    passing=[Example([bucket("rec"), _pab()])],
    failing=[
        Example([bucket("rec")], note="no public access block"),
        Example([bucket("rec"), _pab(restrictPublicBuckets=False)]),
        Example(
            [bucket("rec"), _pab(), res(BUCKET_ACL[0], "rec-acl", {"bucket": "rec", "acl": "public-read"})]
        ),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    for acl in side_resources(ctx.records, BUCKET_ACL, record):
        value = acl.props.get("acl")
        if isinstance(value, str) and value.startswith(("public", "authenticated")):
            yield fail(record, f"bucket ACL {value} grants access beyond the account", value, "private")
            return
    pabs = side_resources(ctx.records, BUCKET_PAB, record)
    if not pabs:
        yield fail(record, "no public access block", None, dict.fromkeys(_FLAGS, True))
        return
    props = pabs[0].props
    if any(is_unknown(props.get(f)) for f in _FLAGS):
        yield unverified(record, "public access block settings unknown at preview")
        return
    off = [f for f in _FLAGS if props.get(f) is not True]
    if off:
        yield fail(
            record,
            "public access block incomplete: " + ", ".join(off) + " not set",
            {f: props.get(f) for f in off},
            dict.fromkeys(off, True),
        )
    else:
        yield ok(record, "all public access blocked", True, True)
