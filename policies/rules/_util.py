"""Shared helpers for rules: type tokens (old and new), links between records, example builders."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from avg_voip.records import UNKNOWN, RecordSet, ResourceRecord, is_unknown

# pulumi-aws v7 tokens first, then the v6 `V2` tokens users may still have.
BUCKET = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
BUCKET_VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
BUCKET_PAB = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
BUCKET_ACL = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
BUCKET_REPLICATION = ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",)
KMS_KEY = ("aws:kms/key:Key",)
KMS_REPLICA = ("aws:kms/replicaKey:ReplicaKey", "aws:kms/replicaExternalKey:ReplicaExternalKey")
EBS_VOLUME = ("aws:ebs/volume:Volume",)
INSTANCE = ("aws:ec2/instance:Instance",)
LAUNCH_TEMPLATE = ("aws:ec2/launchTemplate:LaunchTemplate",)
SECURITY_GROUP = ("aws:ec2/securityGroup:SecurityGroup",)
DEFAULT_SECURITY_GROUP = ("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",)
SG_RULE = ("aws:ec2/securityGroupRule:SecurityGroupRule",)
SG_INGRESS_RULE = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",)
TRAIL = ("aws:cloudtrail/trail:Trail",)
BACKUP_VAULT = ("aws:backup/vault:Vault",)
BACKUP_PLAN = ("aws:backup/plan:Plan",)
LOG_GROUP = ("aws:cloudwatch/logGroup:LogGroup",)
IAM_ROLE = ("aws:iam/role:Role",)
HC_SERVER = ("hcloud:index/server:Server",)
HC_VOLUME = ("hcloud:index/volume:Volume",)
HC_FIREWALL = ("hcloud:index/firewall:Firewall",)
HC_FIREWALL_ATTACHMENT = ("hcloud:index/firewallAttachment:FirewallAttachment",)
HC_SUBNET = ("hcloud:index/networkSubnet:NetworkSubnet",)
# Tag/label naming which store a bucket is (set by infra/): recordings_store, metadata_store, audit_log_store
STORE_TAG = "avg-voip:store"


def refers_to(side: ResourceRecord, target: ResourceRecord, key: str = "bucket") -> bool:
    """Does a side resource (lifecycle, encryption, policy, ...) configure `target`?"""
    ref = side.props.get(key)
    if (
        isinstance(ref, str)
        and ref
        and ref in {target.id, target.props.get("bucket"), target.name, target.urn}
    ):
        return True
    return target.urn in side.dependencies and (is_unknown(ref) or ref is None)


def side_resources(
    records: RecordSet, types: tuple[str, ...], target: ResourceRecord
) -> list[ResourceRecord]:
    """The side resources of `types` that configure `target`, via an index built once per record set and types.

    Equivalent to filtering every side resource with `refers_to`, without comparing every pair (stacks of
    thousands of resources would otherwise grow quadratically).
    """
    index = _side_index(records, types)
    keys = {
        k
        for k in (target.id, target.props.get("bucket"), target.name, target.urn)
        if isinstance(k, str) and k
    }
    found: dict[str, ResourceRecord] = {}
    for k in keys:
        for s in index.get(("ref", k), []):
            found[s.urn] = s
    for s in index.get(("dep", target.urn), []):
        found[s.urn] = s
    return [s for s in records.of_type(*types) if s.urn in found]


def _side_index(records: RecordSet, types: tuple[str, ...]) -> dict[tuple[str, str], list[ResourceRecord]]:
    cache: dict[tuple[str, ...], dict[tuple[str, str], list[ResourceRecord]]] = records.__dict__.setdefault(
        "_side_index_cache", {}
    )
    if types not in cache:
        index: dict[tuple[str, str], list[ResourceRecord]] = {}
        for s in records.of_type(*types):
            ref = s.props.get("bucket")
            if isinstance(ref, str) and ref:
                index.setdefault(("ref", ref), []).append(s)
            elif is_unknown(ref) or ref is None:
                for dep in s.dependencies:
                    index.setdefault(("dep", dep), []).append(s)
        cache[types] = index
    return cache[types]


def tags(record: ResourceRecord) -> dict[str, Any]:
    t = record.props.get("tags")
    return t if isinstance(t, dict) else {}


def buckets_for_store(records: RecordSet, store: str) -> list[ResourceRecord]:
    return [b for b in records.of_type(*BUCKET) if tags(b).get(STORE_TAG) == store]


def policy_doc(value: Any) -> dict[str, Any] | None:
    if is_unknown(value):
        return None
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except json.JSONDecodeError:
            return None
        return doc if isinstance(doc, dict) else None
    return None


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    st = doc.get("Statement", [])
    return [s for s in (st if isinstance(st, list) else [st]) if isinstance(s, dict)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def cidr_within(cidr: str, allowed: list[str]) -> bool:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    for a in allowed:
        try:
            outer = ipaddress.ip_network(a, strict=False)
        except ValueError:
            continue
        if net.version == outer.version and net.subnet_of(outer):  # type: ignore[arg-type]
            return True
    return False


def is_world(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def arn_region(arn: Any) -> str | None:
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None


# -- example builders ------------------------------------------------------------------------------------

STACK = "example"


def res(
    typ: str,
    name: str,
    props: dict[str, Any] | None = None,
    region: str | None = "eu-central-1",
    rid: str | None = None,
    deps: list[str] | None = None,
) -> dict[str, Any]:
    """A record as a dict, with the default provider of its package (aws gets `region`)."""
    pkg = typ.split(":", 1)[0]
    config = {"region": region} if pkg == "aws" and region else {}
    return {
        "urn": urn(typ, name),
        "type": typ,
        "name": name,
        "id": rid or name,
        "props": props or {},
        "provider": {
            "urn": f"urn:pulumi:{STACK}::avg-voip::pulumi:providers:{pkg}::default",
            "type": f"pulumi:providers:{pkg}",
            "config": config,
        },
        "dependencies": deps or [],
    }


def urn(typ: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::avg-voip::{typ}::{name}"


def bucket(name: str, store: str = "recordings_store") -> dict[str, Any]:
    return res(BUCKET[0], name, {"bucket": name, "tags": {STORE_TAG: store}}, rid=name)


__all__ = ["UNKNOWN"]
