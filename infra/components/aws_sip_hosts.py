"""The SIP servers on EC2: IMDSv2-only instances with CMK-encrypted root and recordings volumes.

The hosts only spool recordings until they are uploaded; their role may write to the stores' category prefixes
and nothing else — reading a recording back needs a reader role with MFA.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
from pulumi import Input, Output, ResourceOptions

from infra.components.aws_iam import policy_document, service_trust_policy
from infra.components.tags import CATEGORIES_TAG

DATA_DEVICE_NAME = "/dev/sdf"
# Nitro instances expose EBS volumes as NVMe devices: the first attached data volume is nvme1n1.
DATA_DEVICE_ON_HOST = "/dev/nvme1n1"
ROOT_VOLUME_GB = 20


@dataclass(frozen=True)
class UploadTarget:
    bucket_arn: Output[str]
    prefixes: list[str]


@dataclass(frozen=True)
class SipHostsArgs:
    count: int
    instance_type: str
    ami: Input[str]
    region: str
    availability_zone: str
    subnet_id: Input[str]
    security_group_id: Input[str]
    kms_key_arn: Output[str]
    recordings_volume_gb: int
    admin_ssh_keys: list[str]
    content_category_ids: list[str]
    uploads: list[UploadTarget]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SipHost:
    name: str
    instance: aws.ec2.Instance
    data_volume: aws.ebs.Volume
    address: aws.ec2.Eip


def host_policy(region: str, key_arn: str, targets: list[tuple[str, list[str]]]) -> str:
    objects = [f"{bucket}/{prefix}*" for bucket, prefixes in targets for prefix in prefixes]
    buckets = [bucket for bucket, _ in targets]
    statements = [
        {"Sid": "UploadToCategoryPrefixes", "Effect": "Allow", "Action": "s3:PutObject", "Resource": objects},
        {"Sid": "EncryptUploads", "Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": key_arn},
        {
            # Completing a multipart upload of an SSE-KMS object needs Decrypt on the upload's data key;
            # without s3:GetObject it opens no stored recording.
            "Sid": "CompleteMultipartUploads",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": buckets + [f"{b}/*" for b in buckets]},
            },
        },
    ]
    return policy_document(statements)


def cloud_config(extra_keys: list[str]) -> str:
    """Further admin keys beyond the EC2 key pair, for cloud-init's default user."""
    lines = ["#cloud-config", "ssh_authorized_keys:"] + [f"  - {key}" for key in extra_keys]
    return "\n".join(lines) + "\n"


class SipHosts(pulumi.ComponentResource):
    hosts: list[SipHost]
    role: aws.iam.Role

    def __init__(self, name: str, args: SipHostsArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:aws:SipHosts", name, None, opts)
        child = ResourceOptions(parent=self)
        categories = ",".join(args.content_category_ids)
        self.role = aws.iam.Role(
            name,
            description="SIP hosts: upload recordings and call metadata, read nothing back",
            assume_role_policy=service_trust_policy("ec2.amazonaws.com"),
            tags=args.tags,
            opts=child,
        )
        bucket_arns = [t.bucket_arn for t in args.uploads]
        prefixes = [t.prefixes for t in args.uploads]
        aws.iam.RolePolicy(
            name,
            role=self.role.id,
            policy=Output.all(args.kms_key_arn, *bucket_arns).apply(
                lambda v: host_policy(args.region, v[0], list(zip(v[1:], prefixes, strict=True)))
            ),
            opts=child,
        )
        profile = aws.iam.InstanceProfile(name, role=self.role.id, tags=args.tags, opts=child)
        key_pair = aws.ec2.KeyPair("admin", public_key=args.admin_ssh_keys[0], tags=args.tags, opts=child)
        extra_keys = args.admin_ssh_keys[1:]

        self.hosts = []
        for index in range(1, args.count + 1):
            host = f"sip-{index}"
            host_tags = {**args.tags, "Name": f"{args.tags.get('avg-voip:stack', name)}-{host}"}
            instance = aws.ec2.Instance(
                host,
                ami=args.ami,
                instance_type=args.instance_type,
                subnet_id=args.subnet_id,
                vpc_security_group_ids=[args.security_group_id],
                iam_instance_profile=profile.id,
                key_name=key_pair.id,  # the key pair's id is its name
                user_data=cloud_config(extra_keys) if extra_keys else None,
                monitoring=True,
                ebs_optimized=True,
                metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",
                    http_put_response_hop_limit=1,
                    instance_metadata_tags="disabled",
                ),
                root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                    encrypted=True,
                    kms_key_id=args.kms_key_arn,
                    volume_type="gp3",
                    volume_size=ROOT_VOLUME_GB,
                    delete_on_termination=True,
                    tags={**host_tags, CATEGORIES_TAG: categories},
                ),
                tags={**host_tags, CATEGORIES_TAG: categories},
                opts=child,
            )
            volume = aws.ebs.Volume(
                f"recordings-{host}",
                availability_zone=args.availability_zone,
                size=args.recordings_volume_gb,
                type="gp3",
                encrypted=True,
                kms_key_id=args.kms_key_arn,
                tags={**host_tags, "Name": f"{host_tags['Name']}-recordings", CATEGORIES_TAG: categories},
                opts=child,
            )
            aws.ec2.VolumeAttachment(
                f"recordings-{host}",
                device_name=DATA_DEVICE_NAME,
                instance_id=instance.id,
                volume_id=volume.id,
                opts=child,
            )
            # SIP trunks allow-list a fixed address.
            address = aws.ec2.Eip(host, domain="vpc", instance=instance.id, tags=host_tags, opts=child)
            self.hosts.append(SipHost(name=host, instance=instance, data_volume=volume, address=address))
        self.register_outputs(
            {
                "instance_ids": [h.instance.id for h in self.hosts],
                "addresses": [h.address.public_ip for h in self.hosts],
            }
        )
