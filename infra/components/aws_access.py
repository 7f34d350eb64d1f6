"""IAM roles for the people who may read personal data: one per reader role the profile names, MFA required.

Each role reads exactly the category prefixes the profile lets it read; the auditor reads the audit trail
only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi import Output, ResourceOptions

from infra.components.aws_iam import policy_document

MFA_MAX_AGE_SECONDS = 3600
SESSION_SECONDS = 3600
AUDITOR = "auditor"
# LookupEvents has no resource-level permission ("*" is its only resource); the trail reads name the trails.
CLOUDTRAIL_LOOKUP = ["cloudtrail:LookupEvents"]
CLOUDTRAIL_TRAIL_READ = ["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"]


@dataclass(frozen=True)
class ReadGrant:
    """Read access to some prefixes of one bucket, whose objects are encrypted with `kms_key_arn`."""

    bucket_arn: Output[str]
    prefixes: list[str]
    kms_key_arn: Output[str]


@dataclass(frozen=True)
class ReaderRolesArgs:
    account_id: Output[str]
    region: str
    grants: dict[str, list[ReadGrant]]  # reader role name -> what it may read
    tags: dict[str, str] = field(default_factory=dict)


def assume_role_policy(account_id: str) -> str:
    return policy_document(
        [
            {
                "Sid": "PeopleOfTheAccountWithRecentMfa",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "Bool": {"aws:MultiFactorAuthPresent": "true"},
                    "NumericLessThan": {"aws:MultiFactorAuthAge": str(MFA_MAX_AGE_SECONDS)},
                },
            }
        ]
    )


def read_policy(region: str, grants: list[tuple[str, list[str], str]], auditor: bool) -> str:
    statements: list[dict[str, Any]] = []
    for bucket, prefixes, key in grants:
        statements += [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"{bucket}/{p}*" for p in prefixes],
            },
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket,
                "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
            },
            {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ]
    if auditor:
        statements.append({"Effect": "Allow", "Action": CLOUDTRAIL_LOOKUP, "Resource": "*"})
        statements.append(
            {
                "Effect": "Allow",
                "Action": CLOUDTRAIL_TRAIL_READ,
                "Resource": f"arn:aws:cloudtrail:{region}:*:trail/*",
            }
        )
    return policy_document(statements)


class ReaderRoles(pulumi.ComponentResource):
    roles: dict[str, aws.iam.Role]

    def __init__(self, name: str, args: ReaderRolesArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:aws:ReaderRoles", name, None, opts)
        child = ResourceOptions(parent=self)
        self.roles = {}
        for role_name, grants in sorted(args.grants.items()):
            role = aws.iam.Role(
                f"reader-{role_name}",
                description=f"Reader role {role_name}: reads only the data categories the profile allows it",
                assume_role_policy=args.account_id.apply(assume_role_policy),
                max_session_duration=SESSION_SECONDS,
                tags={**args.tags, "avg-voip:reader-role": role_name},
                opts=child,
            )
            bucket_arns = [g.bucket_arn for g in grants]
            key_arns = [g.kms_key_arn for g in grants]
            prefixes = [g.prefixes for g in grants]
            auditor = role_name == AUDITOR
            aws.iam.RolePolicy(
                f"reader-{role_name}",
                role=role.id,
                policy=Output.all(Output.all(*bucket_arns), Output.all(*key_arns)).apply(
                    lambda v, prefixes=prefixes, auditor=auditor: read_policy(
                        args.region, list(zip(v[0], prefixes, v[1], strict=True)), auditor
                    )
                ),
                opts=child,
            )
            self.roles[role_name] = role
        self.register_outputs({"role_arns": {n: r.arn for n, r in self.roles.items()}})
