"""AVG-ACC-001: no bucket can be made public."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import (
    BUCKET,
    BUCKET_ACL,
    BUCKET_PAB,
    BUCKET_POLICY,
    as_list,
    bucket,
    policy_doc,
    res,
    side_resources,
    statements,
)

_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GROUPS = ("/groups/global/AllUsers", "/groups/global/AuthenticatedUsers")
# Condition keys that tie an Allow for Principal * to fixed callers, as S3 itself judges a policy non-public.
RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceIp",
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:userid",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
    )
)


def public_acl(value: Any) -> str | None:
    """The canned ACL when it grants access beyond the account, else None."""
    return value if isinstance(value, str) and value in PUBLIC_CANNED_ACLS else None


def public_grants(grants: Any) -> list[str]:
    """The permissions an ACL's grants give to everyone or to every AWS account."""
    out = []
    for g in as_list(grants):
        if not isinstance(g, dict):
            continue
        grantee = g.get("grantee")
        uri = (grantee.get("uri") if isinstance(grantee, dict) else None) or g.get("uri")
        if isinstance(uri, str) and uri.endswith(PUBLIC_GROUPS):
            who = uri.rsplit("/", 1)[-1]
            perms = as_list(g.get("permission") or g.get("permissions"))
            out.append(f"{who}:{'/'.join(str(p) for p in perms) or '?'}")
    return out


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in as_list(principal.get("AWS"))
    return False


def _restricted(condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    for op, clause in condition.items():
        if not isinstance(clause, dict) or str(op).endswith("IfExists"):
            continue
        for key, values in clause.items():
            if str(key).lower() not in RESTRICTING_KEYS:
                continue
            vals = as_list(values)
            if vals and all(isinstance(v, str) and v and "*" not in v and v != "0.0.0.0/0" for v in vals):
                return True
    return False


def public_statements(doc: dict[str, Any]) -> list[str]:
    """Sids (or indices) of statements that Allow everyone without a condition tying them to fixed callers."""
    out = []
    for i, st in enumerate(statements(doc)):
        if st.get("Effect") != "Allow":
            continue
        if (_everyone(st.get("Principal")) or "NotPrincipal" in st) and not _restricted(st.get("Condition")):
            out.append(str(st.get("Sid") or f"statement {i}"))
    return out


def _public_policy(allow_everyone: bool = True, condition: dict[str, Any] | None = None) -> dict[str, object]:
    st: dict[str, Any] = {
        "Sid": "ReadRecordings",
        "Effect": "Allow",
        "Principal": "*" if allow_everyone else {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::rec/*",
    }
    if condition:
        st["Condition"] = condition
    deny_plain = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::rec", "arn:aws:s3:::rec/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    doc = {"Version": "2012-10-17", "Statement": [deny_plain, st]}
    return res(BUCKET_POLICY[0], "rec-policy", {"bucket": "rec", "policy": json.dumps(doc)})


def _pab(**overrides: bool) -> dict[str, object]:
    props: dict[str, object] = {"bucket": "rec", **dict.fromkeys(_FLAGS, True)}
    props.update(overrides)
    return res(BUCKET_PAB[0], "rec-pab", props)


def _acl(typ: str = BUCKET_ACL[0], acl: str | None = None, grant: str | None = None) -> dict[str, object]:
    props: dict[str, object] = {"bucket": "rec"}
    if acl:
        props["acl"] = acl
    if grant:
        props["accessControlPolicy"] = {
            "owner": {"id": "owner"},
            "grants": [
                {"grantee": {"type": "CanonicalUser", "id": "owner"}, "permission": "FULL_CONTROL"},
                {"grantee": {"type": "Group", "uri": grant}, "permission": "READ"},
            ],
        }
    return res(typ, "rec-acl", props)


@rule(
    id="AVG-ACC-001",
    title="Every bucket blocks public access (all four public-access-block settings) and has no public ACL or policy",
    articles=("32(1)(b)", "5(1)(f)", "25(2)"),
    severity=Severity.CRITICAL,
    rationale=(
        "A public recording is a data breach (Art. 33). Blocking public ACLs and policies at the bucket makes "
        "a later mistake in an object ACL or policy harmless."
    ),
    remediation=(
        "Add a BucketPublicAccessBlock with all four settings True; remove public-read, public-read-write and "
        "authenticated-read ACLs and grants to AllUsers/AuthenticatedUsers; allow named principals only in "
        "bucket policies (or tie Principal * to aws:SourceArn/SourceAccount)."
    ),
    types=BUCKET,
    passing=[
        Example([bucket("rec"), _pab()]),
        Example(
            [bucket("rec"), _pab(), _public_policy(allow_everyone=False), _acl(acl="private")],
            note="a private ACL and a policy allowing one account, beside the Deny for Principal *",
        ),
        Example(
            [
                bucket("rec"),
                _pab(),
                _public_policy(
                    condition={"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:eu-central-1:1:trail/t"}}
                ),
            ],
            note="Principal * tied to one source by a condition",
        ),
    ],
    failing=[
        Example([bucket("rec")], note="no public access block"),
        Example([bucket("rec"), _pab(restrictPublicBuckets=False)]),
        Example(
            [bucket("rec"), _pab(), res(BUCKET_ACL[0], "rec-acl", {"bucket": "rec", "acl": "public-read"})]
        ),
        Example(
            [{**bucket("rec"), "props": {**bucket("rec")["props"], "acl": "public-read"}}, _pab()],
            note="the bucket's own (deprecated) acl input is public-read",
        ),
        Example([bucket("rec"), _pab(), _acl(BUCKET_ACL[1], acl="authenticated-read")], note="BucketAclV2"),
        Example(
            [bucket("rec"), _pab(), _acl(grant="http://acs.amazonaws.com/groups/global/AllUsers")],
            note="access control policy grants AllUsers READ",
        ),
        Example(
            [bucket("rec"), _pab(), _acl(grant="http://acs.amazonaws.com/groups/global/AuthenticatedUsers")],
            note="access control policy grants every AWS account READ",
        ),
        Example([bucket("rec"), _pab(), _public_policy()], note="bucket policy allows Principal *"),
        Example(
            [
                bucket("rec"),
                _pab(),
                _public_policy(condition={"Bool": {"aws:SecureTransport": "true"}}),
            ],
            note="bucket policy allows Principal * under a condition that does not restrict the caller",
        ),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    own = public_acl(record.props.get("acl"))
    if own:
        yield fail(record, f"bucket acl {own} grants access beyond the account", own, "private")
        return
    grants = public_grants(record.props.get("grants"))
    if grants:
        yield fail(record, "bucket grants give access to " + ", ".join(grants), grants, "no public grants")
        return
    for acl in side_resources(ctx.records, BUCKET_ACL, record):
        value, policy = acl.props.get("acl"), acl.props.get("accessControlPolicy")
        if is_unknown(value) or is_unknown(policy):
            yield unverified(record, "bucket ACL unknown at preview")
            return
        if public_acl(value):
            yield fail(record, f"bucket ACL {value} grants access beyond the account", value, "private")
            return
        grants = public_grants(policy.get("grants") if isinstance(policy, dict) else None)
        if grants:
            yield fail(record, "bucket ACL grants access to " + ", ".join(grants), grants, "no public grants")
            return
    docs = [p.props.get("policy") for p in side_resources(ctx.records, BUCKET_POLICY, record)]
    docs += [record.props["policy"]] if record.props.get("policy") else []
    for raw in docs:
        if is_unknown(raw):
            yield unverified(record, "bucket policy unknown at preview")
            return
        doc = policy_doc(raw)
        public = public_statements(doc) if doc else []
        if public:
            yield fail(
                record,
                "bucket policy allows Principal * without a condition restricting the caller: "
                + ", ".join(public),
                public,
                "no Allow for everyone",
            )
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
