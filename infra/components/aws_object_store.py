"""A private, versioned, SSE-KMS S3 bucket whose lifecycle deletes each data category after its retention."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi import Output, ResourceOptions

from infra.components.aws_iam import policy_document
from infra.components.tags import STORE_TAG

# Versions of deleted or expired objects stay recoverable this long, then go: a recording must not outlive its
# retention by more than a day through an old version.
HOUSEKEEPING_RULE = "housekeeping"
NONCURRENT_DAYS = 1
ABORT_MULTIPART_DAYS = 1


@dataclass(frozen=True)
class LifecycleRule:
    id: str  # the data category id (or a fixed name for logs)
    prefix: str  # e.g. `qa_recordings/`
    expiration_days: int


# Given the bucket arn, further bucket-policy statements (e.g. CloudTrail's delivery grant).
PolicyStatements = Callable[[Output[str]], Output[list[dict[str, Any]]]]


@dataclass(frozen=True)
class ObjectStoreArgs:
    store: str  # the profile's storage this bucket is, e.g. recordings_store
    kms_key_arn: Output[str]
    rules: list[LifecycleRule]
    tags: dict[str, str] = field(default_factory=dict)
    extra_statements: PolicyStatements | None = None


def baseline_statements(bucket_arn: str, kms_key_arn: str) -> list[dict[str, Any]]:
    objects = f"{bucket_arn}/*"
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, objects],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            # Uploads without the header get the bucket's default SSE-KMS; any other algorithm is refused.
            "Sid": "DenyUploadsWithoutKms",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        },
        {
            # `aws:kms` without a key id would fall back to the AWS-managed aws/s3 key, not the bucket's CMK.
            "Sid": "DenyKmsUploadsWithoutAKeyId",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {
                "StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "true"},
            },
        },
        {
            "Sid": "DenyUploadsWithOtherKeys",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {
                "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": kms_key_arn}
            },
        },
    ]


class ObjectStore(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    lifecycle: aws.s3.BucketLifecycleConfiguration

    def __init__(self, name: str, args: ObjectStoreArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:aws:ObjectStore", name, None, opts)
        child = ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            name,
            force_destroy=False,  # a stack update never empties a store of personal data
            tags={**args.tags, STORE_TAG: args.store},
            opts=child,
        )
        bucket_id = self.bucket.id
        ownership = aws.s3.BucketOwnershipControls(
            name,
            bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_block = aws.s3.BucketPublicAccessBlock(
            name,
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            name,
            bucket=bucket_id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=bucket_id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        extra = args.extra_statements(self.bucket.arn) if args.extra_statements else Output.from_input([])

        def policy(values: list[Any]) -> str:
            bucket_arn, key_arn, more = values
            statements = baseline_statements(bucket_arn, key_arn) + list(more)
            return policy_document(statements)

        aws.s3.BucketPolicy(
            name,
            bucket=bucket_id,
            policy=Output.all(self.bucket.arn, args.kms_key_arn, extra).apply(policy),
            opts=ResourceOptions(parent=self, depends_on=[public_block, ownership]),
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=bucket_id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=rule.id,
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule.prefix),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=rule.expiration_days
                    ),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=NONCURRENT_DAYS
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_MULTIPART_DAYS
                    ),
                )
                for rule in args.rules
            ]
            + [
                # Whole-bucket housekeeping: parts of interrupted uploads and old versions of objects outside
                # any category prefix are removed too. It sets no expiration of current objects, so each
                # category's own rule stays the bound on its retention.
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=HOUSEKEEPING_RULE,
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=NONCURRENT_DAYS
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_MULTIPART_DAYS
                    ),
                )
            ],
            opts=ResourceOptions(parent=self, depends_on=[versioning]),
        )
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})
