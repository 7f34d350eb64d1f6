"""The AWS deployment: keys, network, SIP hosts, recordings and metadata stores, audit trail, backups,
reader roles.

Resources without their own `region` land in the provider's region (`aws:region`, checked to equal the profile
location); only the backup copies elsewhere set `region` themselves.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pulumi_aws as aws
from pulumi import Output

from avg_voip.profile import DataKind, Profile, Storage
from infra.addressing import host_subnet
from infra.components.aws_access import AUDITOR, ReaderRoles, ReaderRolesArgs, ReadGrant
from infra.components.aws_audit_trail import LOG_PREFIX, AuditTrail, AuditTrailArgs
from infra.components.aws_backup import Backups, BackupsArgs
from infra.components.aws_firewall import AMAZON_TIME_SYNC, SipFirewall, SipFirewallArgs
from infra.components.aws_kms import CustomerKey, CustomerKeyArgs, KeyUse
from infra.components.aws_network import Network, NetworkArgs, vpc_resolver
from infra.components.aws_object_store import LifecycleRule, ObjectStore, ObjectStoreArgs
from infra.components.aws_sip_hosts import DATA_DEVICE_ON_HOST, SipHosts, SipHostsArgs, UploadTarget
from infra.components.sip_rules import ANYWHERE_V4, sip_traffic_args, sip_traffic_rules
from infra.components.tags import aws_tags
from infra.outputs import HostRecord, host_outputs

DEBIAN_OWNER = "136693071363"  # the Debian cloud team's AWS account
DEBIAN_12_AMI = "debian-12-amd64-*"


def debian_ami(profile: Profile) -> Output[str] | str:
    if profile.hosts.image:
        return profile.hosts.image
    return aws.ec2.get_ami_output(
        owners=[DEBIAN_OWNER],
        most_recent=True,
        filters=[
            aws.ec2.GetAmiFilterArgs(name="name", values=[DEBIAN_12_AMI]),
            aws.ec2.GetAmiFilterArgs(name="architecture", values=["x86_64"]),
        ],
    ).id


def _alias_part(stack: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "-", stack)


def _store(
    name: str, profile: Profile, storage: Storage, key: CustomerKey, tags: dict[str, str]
) -> ObjectStore | None:
    categories = profile.categories(storage=storage)
    if not categories:
        return None
    return ObjectStore(
        name,
        ObjectStoreArgs(
            store=storage.value,
            kms_key_arn=key.arn,
            rules=[
                LifecycleRule(id=c.id, prefix=c.prefix, expiration_days=c.retention_days) for c in categories
            ],
            tags=tags,
        ),
    )


def build(profile: Profile, stack: str) -> dict[str, Output[Any]]:
    region = profile.location
    zone = f"{region}a"
    tags = aws_tags(stack)
    account_id = aws.get_caller_identity_output().account_id
    alias = _alias_part(stack)

    data_key = CustomerKey(
        "data",
        CustomerKeyArgs(
            description=f"Recordings, metadata, volumes and backups of stack {stack}",
            alias=f"{alias}-data",
            uses=(KeyUse.EBS, KeyUse.S3, KeyUse.BACKUP),
            account_id=account_id,
            region=region,
            tags=tags,
        ),
    )
    logs_key = CustomerKey(
        "logs",
        CustomerKeyArgs(
            description=f"Audit trail, flow logs and their log bucket of stack {stack}",
            alias=f"{alias}-logs",
            uses=(KeyUse.CLOUDTRAIL, KeyUse.LOGS, KeyUse.S3),
            account_id=account_id,
            region=region,
            tags=tags,
        ),
    )
    network = Network(
        "network",
        NetworkArgs(
            vpc_cidr=profile.network.vpc_cidr,
            subnet_cidr=host_subnet(profile.network.vpc_cidr, profile.hosts.count),
            availability_zone=zone,
            log_retention_days=profile.audit_retention_days,
            logs_kms_key_arn=logs_key.arn,
            tags=tags,
        ),
    )
    traffic = sip_traffic_args(
        profile,
        resolvers=[vpc_resolver(profile.network.vpc_cidr)],
        time_servers=[AMAZON_TIME_SYNC],
        internet=ANYWHERE_V4,  # the VPC has no IPv6
    )
    firewall = SipFirewall(
        "sip", SipFirewallArgs(vpc_id=network.vpc.id, rules=sip_traffic_rules(traffic), tags=tags)
    )
    stores = {
        Storage.RECORDINGS_STORE: _store("recordings", profile, Storage.RECORDINGS_STORE, data_key, tags),
        Storage.METADATA_STORE: _store("metadata", profile, Storage.METADATA_STORE, data_key, tags),
    }
    uploads = [
        UploadTarget(
            bucket_arn=store.bucket.arn, prefixes=[c.prefix for c in profile.categories(storage=storage)]
        )
        for storage, store in stores.items()
        if store is not None
    ]
    hosts = SipHosts(
        "sip-hosts",
        SipHostsArgs(
            count=profile.hosts.count,
            instance_type=profile.hosts.size,
            ami=debian_ami(profile),
            region=region,
            availability_zone=zone,
            subnet_id=network.subnet.id,
            security_group_id=firewall.security_group.id,
            kms_key_arn=data_key.arn,
            recordings_volume_gb=profile.hosts.recordings_volume_gb,
            admin_ssh_keys=list(profile.hosts.admin_ssh_keys),
            content_category_ids=[c.id for c in profile.categories(kind=DataKind.CONTENT)],
            uploads=uploads,
            tags=tags,
        ),
    )
    trail = AuditTrail(
        "audit",
        AuditTrailArgs(
            trail_name=f"avg-voip-{alias}",
            region=region,
            account_id=account_id,
            logs_kms_key_arn=logs_key.arn,
            retention_days=profile.audit_retention_days,
            watched_bucket_arns=[s.bucket.arn for s in stores.values() if s is not None],
            tags=tags,
        ),
    )

    # Who reads what: each category's readers get its prefix; the auditor and readers of audit-log categories
    # get the audit trail.
    grants: dict[str, list[ReadGrant]] = defaultdict(list)
    for storage, store in stores.items():
        if store is None:
            continue
        by_reader: dict[str, list[str]] = defaultdict(list)
        for category in profile.categories(storage=storage):
            for reader in category.readers:
                by_reader[reader].append(category.prefix)
        for reader, prefixes in by_reader.items():
            grants[reader].append(ReadGrant(store.bucket.arn, prefixes, data_key.arn))
    log_readers = {AUDITOR} | {
        r for c in profile.categories(storage=Storage.AUDIT_LOG_STORE) for r in c.readers
    }
    for reader in log_readers:
        grants[reader].append(ReadGrant(trail.store.bucket.arn, [LOG_PREFIX], logs_key.arn))
    readers = ReaderRoles(
        "readers", ReaderRolesArgs(account_id=account_id, region=region, grants=dict(grants), tags=tags)
    )

    outputs: dict[str, Output[Any]] = {}
    if profile.backups.enabled:
        backups = Backups(
            "backups",
            BackupsArgs(
                stack=stack,
                region=region,
                account_id=account_id,
                kms_key_arn=data_key.arn,
                copy_regions=list(profile.backups.copy_regions),
                retention_days=profile.backups.retention_days,
                resource_arns=[h.data_volume.arn for h in hosts.hosts]
                + [h.instance.arn for h in hosts.hosts],
                tags=tags,
            ),
        )
        outputs["backup_vault_arn"] = backups.vault.arn
        outputs["backup_copy_vault_arns"] = Output.from_input(
            {r: v.arn for r, v in backups.copy_vaults.items()}
        )

    # Every host's recordings volume is its first NVMe data device, so the device is the same on all hosts.
    outputs.update(
        host_outputs(
            profile,
            stack,
            [HostRecord(h.name, h.address.public_ip, DATA_DEVICE_ON_HOST) for h in hosts.hosts],
        )
    )
    outputs.update(
        kms_key_arn=data_key.arn,
        logs_kms_key_arn=logs_key.arn,
        vpc_id=network.vpc.id,
        security_group_id=firewall.security_group.id,
        audit_log_bucket=trail.store.bucket.bucket,
        trail_arn=trail.trail.arn,
        reader_role_arns=Output.from_input({n: r.arn for n, r in readers.roles.items()}),
    )
    if stores[Storage.RECORDINGS_STORE] is not None:
        outputs["recordings_bucket"] = stores[Storage.RECORDINGS_STORE].bucket.bucket
    if stores[Storage.METADATA_STORE] is not None:
        outputs["metadata_bucket"] = stores[Storage.METADATA_STORE].bucket.bucket
    return dict(sorted(outputs.items()))
