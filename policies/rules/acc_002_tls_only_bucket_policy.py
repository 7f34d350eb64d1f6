"""AVG-ACC-002: every bucket denies requests that do not use TLS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import (
    BUCKET,
    BUCKET_POLICY,
    as_list,
    bucket,
    policy_doc,
    res,
    side_resources,
    statements,
)


def _policy(effect: str = "Deny", value: str = "false") -> dict[str, object]:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": effect,
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::rec", "arn:aws:s3:::rec/*"],
                "Condition": {"Bool": {"aws:SecureTransport": value}},
            }
        ],
    }
    return res(BUCKET_POLICY[0], "rec-policy", {"bucket": "rec", "policy": json.dumps(doc)})


def denies_plain_http(st: dict[str, Any]) -> bool:
    if st.get("Effect") != "Deny":
        return False
    actions = as_list(st.get("Action"))
    if not any(a in ("s3:*", "*") for a in actions):
        return False
    cond = st.get("Condition") or {}
    bool_cond = cond.get("Bool") or {}
    return str(bool_cond.get("aws:SecureTransport", "")).lower() == "false"


@rule(
    id="AVG-ACC-002",
    title="Every bucket policy denies all requests that are not sent over TLS",
    articles=("32(1)(a)", "5(1)(f)"),
    severity=Severity.HIGH,
    rationale="Recordings and call records must be encrypted in transit too; S3 still accepts plain HTTP unless denied.",
    remediation=(
        "Attach a BucketPolicy with a Deny of s3:* for Principal * on the bucket and its objects when "
        "aws:SecureTransport is false."
    ),
    types=BUCKET,
    passing=[Example([bucket("rec"), _policy()])],
    failing=[
        Example([bucket("rec")], note="no bucket policy"),
        Example(
            [bucket("rec"), _policy(effect="Allow", value="true")],
            note="allows TLS but does not deny plain HTTP",
        ),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    policies = side_resources(ctx.records, BUCKET_POLICY, record)
    if not policies:
        yield fail(
            record, "no bucket policy denying non-TLS access", None, "Deny when aws:SecureTransport=false"
        )
        return
    for p in policies:
        raw = p.props.get("policy")
        if is_unknown(raw):
            yield unverified(record, "bucket policy unknown at preview")
            return
        doc = policy_doc(raw)
        if doc and any(denies_plain_http(st) for st in statements(doc)):
            yield ok(record, "plain-HTTP requests denied", "Deny", "Deny when aws:SecureTransport=false")
            return
    yield fail(
        record, "bucket policy does not deny non-TLS requests", None, "Deny when aws:SecureTransport=false"
    )
