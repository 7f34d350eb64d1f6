"""CloudTrail for the account, including every read and write of a recording, into its own hardened log
bucket.

Who listened to, exported or deleted which recording is the access log the AVG (Art. 32) and NEN 7513 ask for.
The log files are validated (digest files), encrypted with the logs key and deleted after the audit retention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi import Output, ResourceOptions

from avg_voip.profile import Storage
from infra.components.aws_iam import policy_document, service_trust_policy
from infra.components.aws_network import cloudwatch_retention
from infra.components.aws_object_store import LifecycleRule, ObjectStore, ObjectStoreArgs

LOG_PREFIX = "AWSLogs/"


@dataclass(frozen=True)
class AuditTrailArgs:
    trail_name: str
    region: str
    account_id: Output[str]
    logs_kms_key_arn: Output[str]
    retention_days: int
    watched_bucket_arns: list[Output[str]]  # data events (object reads and writes) are logged for these
    tags: dict[str, str] = field(default_factory=dict)


def trail_arn(region: str, account_id: str, trail_name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{account_id}:trail/{trail_name}"


def delivery_statements(bucket_arn: str, account_id: str, source_arn: str) -> list[dict[str, Any]]:
    return [
        {
            "Sid": "CloudTrailChecksBucketAcl",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": {"StringEquals": {"aws:SourceArn": source_arn}},
        },
        {
            "Sid": "CloudTrailDeliversLogs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{LOG_PREFIX}{account_id}/*",
            "Condition": {
                "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": source_arn}
            },
        },
    ]


class AuditTrail(pulumi.ComponentResource):
    store: ObjectStore
    trail: aws.cloudtrail.Trail
    log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: AuditTrailArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:aws:AuditTrail", name, None, opts)
        child = ResourceOptions(parent=self)
        # The trail's arn is known before the trail exists, so the bucket policy can name it without a cycle.
        source_arn = args.account_id.apply(lambda acct: trail_arn(args.region, acct, args.trail_name))

        def extra(bucket_arn: Output[str]) -> Output[list[dict[str, Any]]]:
            return Output.all(bucket_arn, args.account_id).apply(
                lambda v: delivery_statements(v[0], v[1], trail_arn(args.region, v[1], args.trail_name))
            )

        self.store = ObjectStore(
            "audit-logs",
            ObjectStoreArgs(
                store=Storage.AUDIT_LOG_STORE.value,
                kms_key_arn=args.logs_kms_key_arn,
                rules=[
                    LifecycleRule(id="audit-logs", prefix=LOG_PREFIX, expiration_days=args.retention_days)
                ],
                tags=args.tags,
                extra_statements=extra,
            ),
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            "cloudtrail",
            retention_in_days=cloudwatch_retention(args.retention_days),
            kms_key_id=args.logs_kms_key_arn,
            tags=args.tags,
            opts=child,
        )
        role = aws.iam.Role(
            "cloudtrail-logs",
            description="CloudTrail delivers events to its encrypted log group",
            assume_role_policy=source_arn.apply(
                lambda arn: service_trust_policy("cloudtrail.amazonaws.com", source_arn=arn)
            ),
            tags=args.tags,
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            "cloudtrail-logs",
            role=role.id,
            policy=self.log_group.arn.apply(
                lambda arn: policy_document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": f"{arn}:log-stream:*",
                        }
                    ]
                )
            ),
            opts=child,
        )
        self.trail = aws.cloudtrail.Trail(
            name,
            name=args.trail_name,
            s3_bucket_name=self.store.bucket.id,
            enable_logging=True,
            enable_log_file_validation=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            kms_key_id=args.logs_kms_key_arn,
            cloud_watch_logs_group_arn=self.log_group.arn.apply(lambda arn: f"{arn}:*"),
            cloud_watch_logs_role_arn=role.arn,
            event_selectors=[
                aws.cloudtrail.TrailEventSelectorArgs(
                    read_write_type="All",
                    include_management_events=True,
                    data_resources=[
                        aws.cloudtrail.TrailEventSelectorDataResourceArgs(
                            type="AWS::S3::Object",
                            values=[arn.apply(lambda a: f"{a}/") for arn in args.watched_bucket_arns],
                        )
                    ],
                )
            ],
            tags=args.tags,
            opts=ResourceOptions(parent=self, depends_on=[self.store, role_policy]),
        )
        self.register_outputs({"trail_arn": self.trail.arn, "log_bucket": self.store.bucket.bucket})
