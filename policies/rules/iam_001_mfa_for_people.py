"""AVG-IAM-001: roles that people assume require MFA."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import IAM_ROLE, as_list, policy_doc, res, statements


def role(principal: dict[str, Any], mfa: bool) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if mfa:
        st["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    return res(
        IAM_ROLE[0],
        "qa-reviewer",
        {"assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [st]})},
    )


_PEOPLE = {"AWS": "arn:aws:iam::123456789012:root"}


def requires_mfa(st: dict[str, Any]) -> bool:
    cond = st.get("Condition") or {}
    for op in ("Bool", "BoolIfExists"):
        if str((cond.get(op) or {}).get("aws:MultiFactorAuthPresent", "")).lower() == "true":
            return True
    return "aws:MultiFactorAuthAge" in (cond.get("NumericLessThan") or {})


@rule(
    id="AVG-IAM-001",
    title="Roles that people assume (recording reviewers, auditors) require MFA",
    articles=("32(1)(b)",),
    severity=Severity.HIGH,
    rationale=(
        "Reading recordings and access logs is the most sensitive operation on the platform; a stolen password "
        "alone must not be enough. Service roles (EC2, CloudTrail, Backup) are exempt: no person signs in as them."
    ),
    remediation="Add Condition Bool aws:MultiFactorAuthPresent=true to the role's assume-role policy.",
    types=IAM_ROLE,
    passing=[
        Example([role(_PEOPLE, mfa=True)]),
        Example([role({"Service": "ec2.amazonaws.com"}, mfa=False)], note="a service role"),
    ],
    failing=[Example([role(_PEOPLE, mfa=False)])],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    raw = record.props.get("assumeRolePolicy")
    if is_unknown(raw):
        yield unverified(record, "assume-role policy unknown at preview")
        return
    doc = policy_doc(raw)
    if doc is None:
        yield fail(record, "assume-role policy is not valid JSON", None, "a JSON policy")
        return
    human = [
        st
        for st in statements(doc)
        if st.get("Effect") == "Allow"
        and isinstance(st.get("Principal"), dict)
        and as_list(st["Principal"].get("AWS"))
    ]
    if not human:
        yield ok(record, "service role: no person can assume it", None, None)
        return
    if all(requires_mfa(st) for st in human):
        yield ok(record, "people must use MFA to assume this role", True, True)
    else:
        yield fail(record, "people can assume this role without MFA", False, True)
