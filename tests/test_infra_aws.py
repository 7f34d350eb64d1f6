"""The AWS program rendered under Pulumi's mock runtime: one property per test, each naming the resource."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from avg_voip.profile import Storage
from avg_voip.stackconfig import load_stack
from infra.components.aws_network import CLOUDWATCH_RETENTION_DAYS, cloudwatch_retention
from infra.components.aws_object_store import HOUSEKEEPING_RULE
from infra.mocks import Render, RenderedResource, render_stack

STACK = "mortgage-aws"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"


@pytest.fixture(scope="module")
def stack() -> Any:
    return load_stack(STACK)


@pytest.fixture(scope="module")
def rendered() -> Render:
    return render_stack(STACK)


def _for_bucket(rendered: Render, token: str, bucket: RenderedResource) -> RenderedResource:
    matches = [r for r in rendered.of_type(token) if r.inputs.get("bucket") == bucket.id]
    assert len(matches) == 1, f"bucket {bucket.name}: expected one {token}, found {len(matches)}"
    return matches[0]


def _statements(doc: str) -> list[dict[str, Any]]:
    return json.loads(doc)["Statement"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_three_buckets_recordings_metadata_and_audit_logs(rendered: Render) -> None:
    assert sorted(b.name for b in rendered.of_type(BUCKET)) == ["audit-logs", "metadata", "recordings"]


def test_every_bucket_has_sse_kms_with_a_cmk_and_bucket_key(rendered: Render) -> None:
    key_arns = {k.state["arn"] for k in rendered.of_type(KEY)}
    for bucket in rendered.of_type(BUCKET):
        sse = _for_bucket(
            rendered,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            bucket,
        )
        (rule,) = sse.inputs["rules"]
        default = rule["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "aws:kms", f"bucket {bucket.name}: not SSE-KMS"
        assert default["kmsMasterKeyId"] in key_arns, f"bucket {bucket.name}: not encrypted with a stack CMK"
        assert rule["bucketKeyEnabled"] is True, f"bucket {bucket.name}: bucket key disabled"


def test_every_bucket_blocks_all_public_access(rendered: Render) -> None:
    for bucket in rendered.of_type(BUCKET):
        block = _for_bucket(rendered, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            assert block.inputs[flag] is True, f"bucket {bucket.name}: {flag} is not true"


def test_every_bucket_is_versioned_and_owner_enforced(rendered: Render) -> None:
    for bucket in rendered.of_type(BUCKET):
        versioning = _for_bucket(rendered, "aws:s3/bucketVersioning:BucketVersioning", bucket)
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", f"bucket {bucket.name}"
        ownership = _for_bucket(rendered, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket)
        assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced", f"bucket {bucket.name}"


def test_no_bucket_can_be_force_destroyed(rendered: Render) -> None:
    for bucket in rendered.of_type(BUCKET):
        assert bucket.inputs.get("forceDestroy") is False, f"bucket {bucket.name}: force_destroy is not false"


def test_every_bucket_policy_denies_insecure_transport_and_non_kms_uploads(rendered: Render) -> None:
    for bucket in rendered.of_type(BUCKET):
        policy = _for_bucket(rendered, "aws:s3/bucketPolicy:BucketPolicy", bucket)
        statements = _statements(policy.inputs["policy"])
        transport = [
            s for s in statements if s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert transport and transport[0]["Effect"] == "Deny", f"bucket {bucket.name}: HTTP not denied"
        kms = [
            s
            for s in statements
            if s["Effect"] == "Deny"
            and s["Action"] == "s3:PutObject"
            and "s3:x-amz-server-side-encryption" in json.dumps(s["Condition"])
        ]
        assert kms, f"bucket {bucket.name}: uploads without aws:kms are not denied"


@pytest.mark.parametrize(
    ("bucket_name", "storage"),
    [("recordings", Storage.RECORDINGS_STORE), ("metadata", Storage.METADATA_STORE)],
)
def test_lifecycle_has_one_rule_per_category_with_its_retention(
    rendered: Render, stack: Any, bucket_name: str, storage: Storage
) -> None:
    bucket = rendered.named(BUCKET, bucket_name)
    lifecycle = _for_bucket(
        rendered, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket
    )
    rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
    categories = stack.profile.categories(storage=storage)
    assert set(rules) == {c.id for c in categories} | {HOUSEKEEPING_RULE}, (
        f"bucket {bucket_name}: rules do not match the categories"
    )
    _assert_housekeeping(rules[HOUSEKEEPING_RULE], bucket_name)
    for c in categories:
        rule = rules[c.id]
        assert rule["status"] == "Enabled", f"bucket {bucket_name} rule {c.id}: disabled"
        assert rule["filter"]["prefix"] == c.prefix, f"bucket {bucket_name} rule {c.id}: wrong prefix"
        assert rule["expiration"]["days"] == c.retention_days, f"bucket {bucket_name} rule {c.id}: wrong days"
        assert rule["noncurrentVersionExpiration"]["noncurrentDays"] <= 1, f"rule {c.id}: old versions linger"
        assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 1, f"rule {c.id}"


def test_advice_recordings_expire_after_seven_years(rendered: Render) -> None:
    lifecycle = rendered.named(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "recordings"
    )
    days = {r["id"]: r["expiration"]["days"] for r in lifecycle.inputs["rules"] if "expiration" in r}
    assert days == {"advice_recordings": 2555, "qa_recordings": 90, "transcripts": 90}


def _assert_housekeeping(rule: dict[str, Any], bucket_name: str) -> None:
    """The whole-bucket rule removes parts and old versions but never expires current objects itself."""
    assert rule["status"] == "Enabled" and not rule.get("filter", {}).get("prefix"), (
        f"{bucket_name}: housekeeping"
    )
    assert "expiration" not in rule, f"{bucket_name}: housekeeping must not bound retention"
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 1, bucket_name
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] <= 1, bucket_name


def test_audit_log_bucket_expires_logs_after_the_audit_retention(rendered: Render, stack: Any) -> None:
    lifecycle = rendered.named(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "audit-logs"
    )
    rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
    _assert_housekeeping(rules.pop(HOUSEKEEPING_RULE), "audit-logs")
    (rule,) = rules.values()
    assert rule["filter"]["prefix"] == "AWSLogs/", "audit-logs: lifecycle does not cover AWSLogs/"
    assert rule["expiration"]["days"] == stack.profile.audit_category.retention_days, (
        "audit-logs: wrong expiry"
    )


def test_audit_log_bucket_policy_lets_only_this_trail_deliver(rendered: Render) -> None:
    policy = rendered.named("aws:s3/bucketPolicy:BucketPolicy", "audit-logs")
    allows = [s for s in _statements(policy.inputs["policy"]) if s["Effect"] == "Allow"]
    assert {s["Action"] for s in allows} == {"s3:GetBucketAcl", "s3:PutObject"}, (
        "audit-logs: unexpected grants"
    )
    for s in allows:
        assert s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}, f"audit-logs: {s['Sid']} principal"
        assert s["Condition"]["StringEquals"]["aws:SourceArn"].endswith(":trail/avg-voip-mortgage-aws")


def test_no_security_group_rule_opens_plain_sip(rendered: Render) -> None:
    for group in rendered.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in group.inputs.get("ingress", []) + group.inputs.get("egress", []):
            assert not rule["fromPort"] <= 5060 <= rule["toPort"], f"security group {group.name}: 5060 open"


def test_ssh_only_from_admin_cidrs(rendered: Render, stack: Any) -> None:
    for group in rendered.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in group.inputs.get("ingress", []):
            if rule["fromPort"] <= 22 <= rule["toPort"]:
                sources = rule.get("cidrBlocks", []) + rule.get("ipv6CidrBlocks", [])
                assert set(sources) <= set(stack.profile.network.admin_cidrs), f"security group {group.name}"


def test_nothing_reachable_from_the_whole_internet(rendered: Render) -> None:
    for group in rendered.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in group.inputs.get("ingress", []):
            sources = rule.get("cidrBlocks", []) + rule.get("ipv6CidrBlocks", [])
            assert not {"0.0.0.0/0", "::/0"} & set(sources), (
                f"security group {group.name}: {rule['description']}"
            )


def test_every_security_group_rule_has_a_description(rendered: Render) -> None:
    for group in rendered.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in group.inputs.get("ingress", []) + group.inputs.get("egress", []):
            assert rule.get("description"), f"security group {group.name}: rule without description"


def test_egress_is_never_all_protocols(rendered: Render) -> None:
    for group in rendered.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in group.inputs.get("egress", []):
            assert rule["protocol"] in ("tcp", "udp"), (
                f"security group {group.name}: {rule['protocol']} egress"
            )
            assert rule["toPort"] - rule["fromPort"] < 10000, (
                f"security group {group.name}: wide egress range"
            )


def test_default_security_group_has_no_rules(rendered: Render) -> None:
    (group,) = rendered.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert group.inputs.get("ingress", []) == [] and group.inputs.get("egress", []) == [], (
        "default SG has rules"
    )


def test_instances_require_imdsv2_with_hop_limit_one(rendered: Render) -> None:
    for instance in rendered.of_type("aws:ec2/instance:Instance"):
        meta = instance.inputs["metadataOptions"]
        assert meta["httpTokens"] == "required", f"instance {instance.name}: IMDSv1 allowed"
        assert meta["httpPutResponseHopLimit"] == 1, f"instance {instance.name}: hop limit"


def test_instances_have_cmk_encrypted_root_volumes(rendered: Render) -> None:
    data_key = rendered.outputs["kms_key_arn"]
    for instance in rendered.of_type("aws:ec2/instance:Instance"):
        root = instance.inputs["rootBlockDevice"]
        assert root["encrypted"] is True, f"instance {instance.name}: root volume unencrypted"
        assert root["kmsKeyId"] == data_key, f"instance {instance.name}: root volume not on the data CMK"


def test_instances_are_monitored_ebs_optimised_and_tagged(rendered: Render) -> None:
    for instance in rendered.of_type("aws:ec2/instance:Instance"):
        assert instance.inputs["monitoring"] is True and instance.inputs["ebsOptimized"] is True, (
            instance.name
        )
        tags = instance.inputs["tags"]
        assert tags["avg-voip:stack"] == STACK, f"instance {instance.name}: stack tag"
        assert tags["avg-voip:data-categories"] == "advice_recordings,qa_recordings,transcripts", (
            instance.name
        )


def test_instances_use_the_debian_12_ami(rendered: Render) -> None:
    from infra.mocks import DEBIAN_AMI

    assert {i.inputs["ami"] for i in rendered.of_type("aws:ec2/instance:Instance")} == {DEBIAN_AMI}


def test_recordings_volumes_are_cmk_encrypted_gp3_in_the_hosts_zone(rendered: Render, stack: Any) -> None:
    (subnet,) = rendered.of_type("aws:ec2/subnet:Subnet")
    for volume in rendered.of_type("aws:ebs/volume:Volume"):
        assert volume.inputs["encrypted"] is True, f"volume {volume.name}: unencrypted"
        assert volume.inputs["kmsKeyId"] == rendered.outputs["kms_key_arn"], f"volume {volume.name}: key"
        assert volume.inputs["type"] == "gp3", f"volume {volume.name}: type"
        assert volume.inputs["size"] == stack.profile.hosts.recordings_volume_gb, (
            f"volume {volume.name}: size"
        )
        assert volume.inputs["availabilityZone"] == subnet.inputs["availabilityZone"], f"volume {volume.name}"


def test_each_host_has_its_volume_attached_as_sdf(rendered: Render) -> None:
    attachments = rendered.of_type("aws:ec2/volumeAttachment:VolumeAttachment")
    instances = {i.id: i.name for i in rendered.of_type("aws:ec2/instance:Instance")}
    assert sorted(instances[a.inputs["instanceId"]] for a in attachments) == ["sip-1", "sip-2"]
    for a in attachments:
        assert a.inputs["deviceName"] == "/dev/sdf", f"attachment {a.name}: device"


def test_kms_keys_rotate_yearly_and_stay_single_region(rendered: Render) -> None:
    keys = rendered.of_type(KEY)
    assert len(keys) == 3, "data, logs and one backup-copy key expected"
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True, f"key {key.name}: rotation off"
        assert key.inputs["rotationPeriodInDays"] == 365, f"key {key.name}: rotation period"
        assert key.inputs["multiRegion"] is False, f"key {key.name}: multi-region"
        assert key.inputs["deletionWindowInDays"] == 30, f"key {key.name}: deletion window"


def test_key_policies_name_no_wildcard_principal(rendered: Render) -> None:
    for key in rendered.of_type(KEY):
        for s in _statements(key.inputs["policy"]):
            assert s["Principal"] != "*" and s["Principal"].get("AWS") != "*", f"key {key.name}: {s['Sid']}"


def test_logs_key_lets_cloudtrail_encrypt_only_with_its_context(rendered: Render) -> None:
    statements = _statements(rendered.named(KEY, "logs").inputs["policy"])
    (trail,) = [s for s in statements if s["Sid"] == "CloudTrailEncryptsLogs"]
    context = trail["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"]
    assert context == "arn:aws:cloudtrail:*:123456789012:trail/*"
    logs = [s for s in statements if s["Principal"] == {"Service": "logs.eu-central-1.amazonaws.com"}]
    assert logs, "key logs: CloudWatch Logs of eu-central-1 may not use it"


def test_data_key_usage_goes_through_ec2_s3_and_backup_only(rendered: Render) -> None:
    statements = _statements(rendered.named(KEY, "data").inputs["policy"])
    use = [s for s in statements if "kms:Decrypt" in _as_list(s["Action"])]
    for s in use:
        services = set(s["Condition"]["StringEquals"]["kms:ViaService"])
        assert services == {f"{svc}.eu-central-1.amazonaws.com" for svc in ("ec2", "s3", "backup")}, s["Sid"]


def test_backup_copy_vault_and_its_key_are_in_eu_west_1(rendered: Render) -> None:
    vault = rendered.named("aws:backup/vault:Vault", "backup-copy-eu-west-1")
    key = rendered.named(KEY, "backup-copy-eu-west-1")
    assert vault.inputs["region"] == "eu-west-1", "copy vault: region"
    assert key.inputs["region"] == "eu-west-1", "copy key: region"
    assert vault.inputs["kmsKeyArn"] == key.state["arn"], "copy vault: not encrypted with the copy key"


def test_resources_with_their_own_region_stay_in_eu_regions(rendered: Render) -> None:
    for r in rendered.resources:
        region = r.inputs.get("region")
        assert region in (None, "eu-central-1", "eu-west-1"), f"{r.type} {r.name}: region {region}"


def test_backup_plan_keeps_and_copies_for_the_profile_retention(rendered: Render, stack: Any) -> None:
    (plan,) = rendered.of_type("aws:backup/plan:Plan")
    (rule,) = plan.inputs["rules"]
    days = stack.profile.backups.retention_days
    assert rule["lifecycle"]["deleteAfter"] == days, "plan daily: retention"
    copy_vault = rendered.named("aws:backup/vault:Vault", "backup-copy-eu-west-1")
    (copy,) = rule["copyActions"]
    assert copy["destinationVaultArn"] == copy_vault.state["arn"], "plan daily: copy target"
    assert copy["lifecycle"]["deleteAfter"] == days, "plan daily: copies outlive the source"


def test_backup_vault_uses_the_data_key(rendered: Render) -> None:
    vault = rendered.named("aws:backup/vault:Vault", "backups")
    assert vault.inputs["kmsKeyArn"] == rendered.outputs["kms_key_arn"], "vault backups: key"


def test_backup_selection_covers_hosts_and_recordings_volumes(rendered: Render) -> None:
    (selection,) = rendered.of_type("aws:backup/selection:Selection")
    wanted = {r.state["arn"] for r in rendered.of_type("aws:ebs/volume:Volume")}
    wanted |= {r.state["arn"] for r in rendered.of_type("aws:ec2/instance:Instance")}
    assert set(selection.inputs["resources"]) == wanted, "selection sip-hosts: resources"


def test_backup_role_has_the_aws_backup_policy(rendered: Render) -> None:
    attachment = rendered.named("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "backup")
    assert attachment.inputs["policyArn"].endswith("service-role/AWSBackupServiceRolePolicyForBackup")


def test_cloudtrail_validates_encrypts_and_logs_recording_access(rendered: Render) -> None:
    (trail,) = rendered.of_type("aws:cloudtrail/trail:Trail")
    i = trail.inputs
    assert i["enableLogFileValidation"] is True, "trail audit: log file validation"
    assert i["isMultiRegionTrail"] is True and i["includeGlobalServiceEvents"] is True, "trail audit: scope"
    assert i["kmsKeyId"] == rendered.outputs["logs_kms_key_arn"], "trail audit: key"
    assert i["cloudWatchLogsGroupArn"].endswith(":*") and i["cloudWatchLogsRoleArn"], (
        "trail audit: CloudWatch"
    )
    (selector,) = i["eventSelectors"]
    assert selector["readWriteType"] == "All" and selector["includeManagementEvents"] is True
    (data,) = selector["dataResources"]
    recordings = rendered.named(BUCKET, "recordings").state["arn"]
    assert data["type"] == "AWS::S3::Object" and f"{recordings}/" in data["values"], (
        "trail audit: data events"
    )


def test_log_groups_are_encrypted_and_kept_no_longer_than_the_audit_retention(
    rendered: Render, stack: Any
) -> None:
    bound = stack.profile.audit_category.retention_days
    for group in rendered.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["kmsKeyId"] == rendered.outputs["logs_kms_key_arn"], (
            f"log group {group.name}: key"
        )
        days = group.inputs["retentionInDays"]
        assert days <= bound and days in CLOUDWATCH_RETENTION_DAYS, f"log group {group.name}: {days} days"


@pytest.mark.parametrize(
    ("bound", "expected"), [(730, 545), (731, 731), (365, 365), (1, 1), (10, 7), (4000, 3653)]
)
def test_cloudwatch_retention_rounds_down(bound: int, expected: int) -> None:
    assert cloudwatch_retention(bound) == expected


def test_vpc_has_flow_logs(rendered: Render) -> None:
    (vpc,) = rendered.of_type("aws:ec2/vpc:Vpc")
    (flow,) = rendered.of_type("aws:ec2/flowLog:FlowLog")
    assert flow.inputs["vpcId"] == vpc.id and flow.inputs["trafficType"] == "ALL", "flow log network"


def test_subnet_is_inside_the_vpc_and_assigns_no_public_ips(rendered: Render, stack: Any) -> None:
    (subnet,) = rendered.of_type("aws:ec2/subnet:Subnet")
    inside = ipaddress.ip_network(subnet.inputs["cidrBlock"]).subnet_of(
        ipaddress.ip_network(stack.profile.network.vpc_cidr)
    )
    assert inside, "subnet public-a: outside the VPC"
    assert subnet.inputs["mapPublicIpOnLaunch"] is False, "subnet public-a: public IPs on launch"


def test_reader_roles_require_recent_mfa(rendered: Render) -> None:
    roles = [r for r in rendered.of_type("aws:iam/role:Role") if r.name.startswith("reader-")]
    assert {r.name for r in roles} == {
        "reader-auditor",
        "reader-compliance-officer",
        "reader-qa-reviewer",
        "reader-team-lead",
    }
    for role in roles:
        (s,) = _statements(role.inputs["assumeRolePolicy"])
        assert s["Condition"]["Bool"]["aws:MultiFactorAuthPresent"] == "true", f"role {role.name}: MFA"
        assert "aws:MultiFactorAuthAge" in s["Condition"]["NumericLessThan"], f"role {role.name}: MFA age"


def _object_reads(rendered: Render, policy_name: str) -> set[str]:
    policy = rendered.named("aws:iam/rolePolicy:RolePolicy", policy_name)
    reads: set[str] = set()
    for s in _statements(policy.inputs["policy"]):
        if "s3:GetObject" in _as_list(s["Action"]):
            reads |= set(_as_list(s["Resource"]))
    return reads


def test_qa_reviewer_reads_only_qa_prefixes(rendered: Render) -> None:
    bucket = rendered.named(BUCKET, "recordings").state["arn"]
    assert _object_reads(rendered, "reader-qa-reviewer") == {
        f"{bucket}/qa_recordings/*",
        f"{bucket}/transcripts/*",
    }


def test_compliance_officer_reads_advice_recordings_metadata_and_logs(rendered: Render) -> None:
    arns = {b.name: b.state["arn"] for b in rendered.of_type(BUCKET)}
    assert _object_reads(rendered, "reader-compliance-officer") == {
        f"{arns['recordings']}/advice_recordings/*",
        f"{arns['metadata']}/call_metadata/*",
        f"{arns['audit-logs']}/AWSLogs/*",
    }


def test_auditor_reads_the_audit_trail_only(rendered: Render) -> None:
    arns = {b.name: b.state["arn"] for b in rendered.of_type(BUCKET)}
    assert _object_reads(rendered, "reader-auditor") == {f"{arns['audit-logs']}/AWSLogs/*"}
    policy = rendered.named("aws:iam/rolePolicy:RolePolicy", "reader-auditor")
    actions = {a for s in _statements(policy.inputs["policy"]) for a in _as_list(s["Action"])}
    assert "cloudtrail:LookupEvents" in actions, "role reader-auditor: cannot look up events"


def test_no_policy_grants_wildcard_actions(rendered: Render) -> None:
    for policy in rendered.of_type("aws:iam/rolePolicy:RolePolicy"):
        for s in _statements(policy.inputs["policy"]):
            for action in _as_list(s["Action"]):
                assert action != "*" and not action.endswith(":*"), f"role policy {policy.name}: {action}"


def test_host_role_writes_but_never_reads_recordings(rendered: Render) -> None:
    policy = rendered.named("aws:iam/rolePolicy:RolePolicy", "sip-hosts")
    actions = {a for s in _statements(policy.inputs["policy"]) for a in _as_list(s["Action"])}
    assert "s3:PutObject" in actions and "kms:GenerateDataKey" in actions, "role sip-hosts: cannot upload"
    assert not {a for a in actions if a.startswith("s3:") and a != "s3:PutObject"}, (
        f"role sip-hosts: {actions}"
    )


def test_resource_names_are_unique_per_type(rendered: Render) -> None:
    seen = [(r.type, r.name) for r in rendered.resources]
    assert len(seen) == len(set(seen)), "duplicate logical names"


def test_every_cloud_resource_belongs_to_a_component(rendered: Render) -> None:
    components = {r.urn for r in rendered.resources if not r.custom}
    for r in rendered.resources:
        if r.custom:
            assert r.parent in components, f"{r.type} {r.name}: not parented to a component"


def test_outputs_give_inventory_and_host_vars(rendered: Render) -> None:
    hosts = rendered.outputs["inventory"]["all"]["children"]["sip_servers"]["hosts"]
    eips = {e.name: e.state["publicIp"] for e in rendered.of_type("aws:ec2/eip:Eip")}
    assert {n: h["ansible_host"] for n, h in hosts.items()} == eips, "inventory: addresses are not the EIPs"
    assert rendered.outputs["hostvars"]["avg_voip_recordings_device"] == "/dev/nvme1n1"
    assert rendered.outputs["hostvars"]["avg_voip_stack"] == STACK
    assert rendered.outputs["recordings_bucket"] == rendered.named(BUCKET, "recordings").id


def test_every_bucket_names_the_store_it_is(rendered: Render) -> None:
    stores = {b.name: b.inputs["tags"].get("avg-voip:store") for b in rendered.of_type(BUCKET)}
    assert stores == {
        "recordings": "recordings_store",
        "metadata": "metadata_store",
        "audit-logs": "audit_log_store",
    }


def test_every_bucket_policy_refuses_kms_uploads_that_name_no_key(rendered: Render) -> None:
    for bucket in rendered.of_type(BUCKET):
        policy = _for_bucket(rendered, "aws:s3/bucketPolicy:BucketPolicy", bucket)
        refusing = [
            s
            for s in _statements(policy.inputs["policy"])
            if s["Effect"] == "Deny"
            and s["Condition"].get("Null", {}).get("s3:x-amz-server-side-encryption-aws-kms-key-id") == "true"
        ]
        assert refusing, f"bucket {bucket.name}: aws:kms uploads without a key id would use the aws/s3 key"


def test_backup_copy_key_serves_backup_and_ebs_copies_in_its_region(rendered: Render) -> None:
    statements = _statements(rendered.named(KEY, "backup-copy-eu-west-1").inputs["policy"])
    (use,) = [s for s in statements if s["Sid"] == "AccountPrincipalsUseKeyThroughServices"]
    services = set(use["Condition"]["StringEquals"]["kms:ViaService"])
    assert services == {"ec2.eu-west-1.amazonaws.com", "backup.eu-west-1.amazonaws.com"}, "copy key: services"
