"""AWS Backup of the SIP hosts and their recordings volumes, with copies to other EU regions.

Each copy region gets its own vault and its own key, created in that region through the resource's `region`
input, so the residency check sees every place a copy lands. Copies expire with the same retention as the
source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
from pulumi import Output, ResourceOptions

from infra.components.aws_iam import service_trust_policy
from infra.components.aws_kms import CustomerKey, CustomerKeyArgs, KeyUse

BACKUP_SERVICE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
DAILY_SCHEDULE = "cron(0 2 * * ? *)"


@dataclass(frozen=True)
class BackupsArgs:
    stack: str
    region: str
    account_id: Output[str]
    kms_key_arn: Output[str]
    copy_regions: list[str]
    retention_days: int
    resource_arns: list[Output[str]]
    tags: dict[str, str] = field(default_factory=dict)


class Backups(pulumi.ComponentResource):
    vault: aws.backup.Vault
    copy_vaults: dict[str, aws.backup.Vault]
    plan: aws.backup.Plan

    def __init__(self, name: str, args: BackupsArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:aws:Backups", name, None, opts)
        child = ResourceOptions(parent=self)
        self.vault = aws.backup.Vault(
            name, kms_key_arn=args.kms_key_arn, force_destroy=False, tags=args.tags, opts=child
        )
        self.copy_vaults = {}
        for region in args.copy_regions:
            key = CustomerKey(
                f"backup-copy-{region}",
                CustomerKeyArgs(
                    description=f"Backup copies of stack {args.stack} in {region}",
                    alias=f"{args.stack}-backup-copy",
                    uses=(KeyUse.BACKUP, KeyUse.EBS),  # EBS snapshot copies are made by EC2
                    account_id=args.account_id,
                    region=region,
                    set_region=True,
                    tags=args.tags,
                ),
                opts=child,
            )
            self.copy_vaults[region] = aws.backup.Vault(
                f"backup-copy-{region}",
                kms_key_arn=key.arn,
                region=region,
                force_destroy=False,
                tags=args.tags,
                opts=child,
            )
        lifecycle = aws.backup.PlanRuleLifecycleArgs(delete_after=args.retention_days)
        self.plan = aws.backup.Plan(
            "daily",
            rules=[
                aws.backup.PlanRuleArgs(
                    rule_name="daily",
                    target_vault_name=self.vault.id,  # a vault's id is its name
                    schedule=DAILY_SCHEDULE,
                    start_window=60,
                    completion_window=360,
                    lifecycle=lifecycle,
                    copy_actions=[
                        aws.backup.PlanRuleCopyActionArgs(
                            destination_vault_arn=vault.arn,
                            lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                                delete_after=args.retention_days
                            ),
                        )
                        for vault in self.copy_vaults.values()
                    ],
                )
            ],
            tags=args.tags,
            opts=child,
        )
        role = aws.iam.Role(
            "backup",
            description="AWS Backup snapshots the SIP hosts and copies the recovery points",
            assume_role_policy=service_trust_policy("backup.amazonaws.com"),
            tags=args.tags,
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            "backup", role=role.id, policy_arn=BACKUP_SERVICE_POLICY, opts=child
        )
        aws.backup.Selection(
            "sip-hosts",
            plan_id=self.plan.id,
            iam_role_arn=role.arn,
            resources=args.resource_arns,
            opts=ResourceOptions(parent=self, depends_on=[attachment]),
        )
        self.register_outputs(
            {
                "vault_arn": self.vault.arn,
                "copy_vault_arns": {r: v.arn for r, v in self.copy_vaults.items()},
            }
        )
