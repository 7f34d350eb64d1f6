"""Customer-managed KMS key with a key policy that names who may use it, and through which service."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi import Output, ResourceOptions


class KeyUse(enum.StrEnum):
    EBS = "ec2"  # encrypted volumes and their snapshots; EC2 asks for grants
    S3 = "s3"  # SSE-KMS objects
    BACKUP = "backup"  # AWS Backup vaults and copies
    LOGS = "logs"  # CloudWatch log groups
    CLOUDTRAIL = "cloudtrail"  # CloudTrail log files


# Key administration without use: the account can manage and repair the policy, but reading data needs one of
# the service-scoped statements below (and an IAM policy that allows it).
ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
]
USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


@dataclass(frozen=True)
class CustomerKeyArgs:
    description: str
    alias: str  # without the `alias/` prefix
    uses: tuple[KeyUse, ...]
    account_id: Output[str]
    region: str  # the region the key lives in; the services that may use it are scoped to that region
    set_region: bool = False  # set the resource's own `region` input (keys outside the provider's region)
    tags: dict[str, str] = field(default_factory=dict)


def key_policy(account_id: str, region: str, uses: tuple[KeyUse, ...]) -> dict[str, Any]:
    root = f"arn:aws:iam::{account_id}:root"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministersKey",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": ADMIN_ACTIONS,
            "Resource": "*",
        }
    ]
    via = [f"{u.value}.{region}.amazonaws.com" for u in uses if u in (KeyUse.EBS, KeyUse.S3, KeyUse.BACKUP)]
    if via:
        statements.append(
            {
                "Sid": "AccountPrincipalsUseKeyThroughServices",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": USE_ACTIONS,
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": via, "kms:CallerAccount": account_id}},
            }
        )
        statements.append(
            {
                "Sid": "ServicesCreateGrantsForTheirResources",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": "*",
                "Condition": {
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                    "StringEquals": {"kms:ViaService": via, "kms:CallerAccount": account_id},
                },
            }
        )
    if KeyUse.CLOUDTRAIL in uses:
        statements += [
            {
                "Sid": "CloudTrailEncryptsLogs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            f"arn:aws:cloudtrail:*:{account_id}:trail/*"
                        )
                    },
                },
            },
            {
                "Sid": "CloudTrailDescribesKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
            },
        ]
    if KeyUse.LOGS in uses:
        statements.append(
            {
                "Sid": "CloudWatchLogsEncryptsLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:*"}
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


class CustomerKey(pulumi.ComponentResource):
    """A symmetric, single-region CMK with yearly rotation, and its alias."""

    key: aws.kms.Key
    alias: aws.kms.Alias
    arn: Output[str]

    def __init__(self, name: str, args: CustomerKeyArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:aws:CustomerKey", name, None, opts)
        child = ResourceOptions(parent=self)
        region = args.region if args.set_region else None
        policy = args.account_id.apply(lambda acct: json.dumps(key_policy(acct, args.region, args.uses)))
        self.key = aws.kms.Key(
            name,
            description=args.description,
            enable_key_rotation=True,
            rotation_period_in_days=365,
            multi_region=False,  # a replica would copy the key material to another region
            deletion_window_in_days=30,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=policy,
            region=region,
            tags=args.tags,
            opts=child,
        )
        self.alias = aws.kms.Alias(
            name, name=f"alias/{args.alias}", target_key_id=self.key.key_id, region=region, opts=child
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn, "alias": self.alias.name})
