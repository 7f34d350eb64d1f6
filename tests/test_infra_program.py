"""The program as a whole: a bad profile stops it before any resource, and profile changes flow through."""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any

import pulumi
import pytest

from avg_voip.stackconfig import load_stack
from infra.addressing import host_address, host_subnet
from infra.mocks import Render, render


def _config(stack: str, **changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(load_stack(stack).config)
    profile = config["avg-voip:profile"]
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = profile
        for part in path:
            node = node[part]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return config


def _refused(stack: str, config: dict[str, Any]) -> tuple[str, Render]:
    collected = Render(stack=stack)
    with pytest.raises(pulumi.RunError) as err:
        render(stack, config, into=collected)
    return str(err.value), collected


def test_location_outside_the_eu_is_refused_before_any_resource() -> None:
    config = _config("mortgage-aws", location="us-east-1")
    config["aws:region"] = "us-east-1"
    message, collected = _refused("mortgage-aws", config)
    assert message.startswith("location: us-east-1 is in US"), message
    assert collected.resources == [], "resources were registered for a refused profile"


def test_backup_copy_region_outside_the_eu_is_refused() -> None:
    config = _config("mortgage-aws", backups__copy_regions=["us-west-2"])
    message, collected = _refused("mortgage-aws", config)
    assert message.startswith("backups.copy_regions.0:"), message
    assert collected.resources == []


def test_hetzner_location_outside_the_eu_is_refused() -> None:
    message, collected = _refused("healthcare-hcloud", _config("healthcare-hcloud", location="ash"))
    assert message.startswith("location: ash"), message
    assert collected.resources == []


def test_provider_region_must_match_the_profile_location() -> None:
    config = _config("mortgage-aws")
    config["aws:region"] = "eu-west-1"
    message, collected = _refused("mortgage-aws", config)
    assert message.startswith("aws:region:"), message
    assert collected.resources == []


def test_missing_key_is_named() -> None:
    message, collected = _refused("healthcare-hcloud", _config("healthcare-hcloud", hosts=None))
    assert message == "hosts: is required", message
    assert collected.resources == []


def test_plain_ssh_from_everywhere_is_refused() -> None:
    config = _config("healthcare-hcloud", network__admin_cidrs=["0.0.0.0/0"])
    message, collected = _refused("healthcare-hcloud", config)
    assert message.startswith("network.admin_cidrs:"), message
    assert collected.resources == []


def test_profile_may_arrive_as_a_json_string() -> None:
    config = _config("healthcare-hcloud")
    config["avg-voip:profile"] = json.dumps(config["avg-voip:profile"])
    assert render("healthcare-hcloud", config).of_type("hcloud:index/server:Server")


def test_host_count_sets_servers_and_volumes() -> None:
    rendered = render("healthcare-hcloud", _config("healthcare-hcloud", hosts__count=3))
    assert sorted(s.name for s in rendered.of_type("hcloud:index/server:Server")) == [
        "sip-1",
        "sip-2",
        "sip-3",
    ]
    assert len(rendered.of_type("hcloud:index/volume:Volume")) == 3


def test_retention_change_reaches_the_bucket_lifecycle() -> None:
    config = _config("mortgage-aws")
    for category in config["avg-voip:profile"]["data_categories"]:
        if category["id"] == "qa_recordings":
            category["retention_days"] = 30
    rendered = render("mortgage-aws", config)
    lifecycle = rendered.named(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "recordings"
    )
    days = {r["id"]: r["expiration"]["days"] for r in lifecycle.inputs["rules"] if "expiration" in r}
    assert days["qa_recordings"] == 30
    assert rendered.outputs["hostvars"]["avg_voip_retention_days"]["qa_recordings"] == 30


@pytest.mark.parametrize("stack", ["mortgage-aws", "healthcare-hcloud"])
def test_audit_category_retention_is_the_one_log_retention(stack: str) -> None:
    config = _config(stack)
    for category in config["avg-voip:profile"]["data_categories"]:
        if category["kind"] == "audit":
            category["retention_days"] = 400
    rendered = render(stack, config)
    hostvars = rendered.outputs["hostvars"]
    assert hostvars["avg_voip_audit_log_retention_days"] == 400, "journal bound not from the audit category"
    assert hostvars["avg_voip_retention_days"]["access_logs"] == 400
    if stack != "mortgage-aws":
        return
    lifecycle = rendered.named(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "audit-logs"
    )
    days = [r["expiration"]["days"] for r in lifecycle.inputs["rules"] if "expiration" in r]
    assert days == [400], "log bucket not bound by the audit category"
    groups = rendered.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert groups and all(g.inputs["retentionInDays"] == 400 for g in groups)


def test_disabled_backups_register_no_backup_resources() -> None:
    rendered = render("mortgage-aws", _config("mortgage-aws", backups__enabled=False))
    assert not [r for r in rendered.resources if r.type.startswith("aws:backup/")]
    assert "backup_vault_arn" not in rendered.outputs


def test_disabled_backups_turn_off_hetzner_backups() -> None:
    rendered = render("healthcare-hcloud", _config("healthcare-hcloud", backups__enabled=False))
    assert all(s.inputs["backups"] is False for s in rendered.of_type("hcloud:index/server:Server"))


def test_further_admin_keys_reach_the_hosts() -> None:
    keys = load_stack("mortgage-aws").profile.hosts.admin_ssh_keys
    extra = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHtR0dQ5p9m6oNs1GkZ1f0e2mXbq3y3m0Yd3kVd0pPqR second@example"
    aws_render = render("mortgage-aws", _config("mortgage-aws", hosts__admin_ssh_keys=[*keys, extra]))
    for instance in aws_render.of_type("aws:ec2/instance:Instance"):
        assert extra in instance.inputs["userData"], f"instance {instance.name}: second key missing"
    hc_render = render(
        "healthcare-hcloud", _config("healthcare-hcloud", hosts__admin_ssh_keys=[*keys, extra])
    )
    assert len(hc_render.of_type("hcloud:index/sshKey:SshKey")) == 2


def test_a_given_image_replaces_the_debian_lookup() -> None:
    rendered = render("mortgage-aws", _config("mortgage-aws", hosts__image="ami-0123456789abcdef0"))
    assert {i.inputs["ami"] for i in rendered.of_type("aws:ec2/instance:Instance")} == {
        "ami-0123456789abcdef0"
    }


def test_outputs_are_exported_under_stable_names() -> None:
    aws_outputs = set(render("mortgage-aws", _config("mortgage-aws")).outputs)
    hc_outputs = set(render("healthcare-hcloud", _config("healthcare-hcloud")).outputs)
    shared = {"inventory", "hostvars", "recordings_devices", "host_addresses"}
    assert shared <= aws_outputs and shared <= hc_outputs
    assert {
        "recordings_bucket",
        "metadata_bucket",
        "audit_log_bucket",
        "kms_key_arn",
        "backup_vault_arn",
    } <= aws_outputs


def test_renders_do_not_leak_into_each_other() -> None:
    first = render("healthcare-hcloud", _config("healthcare-hcloud"))
    second = render("healthcare-hcloud", _config("healthcare-hcloud"))
    assert sorted((r.type, r.name) for r in first.resources) == sorted(
        (r.type, r.name) for r in second.resources
    )


@pytest.mark.parametrize(
    ("count", "subnet"), [(1, "10.40.0.0/24"), (230, "10.40.0.0/24"), (300, "10.40.0.0/23")]
)
def test_the_hosts_subnet_grows_with_the_host_count(count: int, subnet: str) -> None:
    assert host_subnet("10.40.0.0/16", count) == subnet
    last = ipaddress.ip_address(host_address(subnet, count))
    assert last in ipaddress.ip_network(subnet), "last host outside its subnet"


def test_many_hosts_are_spread_in_groups_of_ten() -> None:
    rendered = render("healthcare-hcloud", _config("healthcare-hcloud", hosts__count=25))
    groups = {g.id: g.name for g in rendered.of_type("hcloud:index/placementGroup:PlacementGroup")}
    members: dict[str, int] = {}
    for server in rendered.of_type("hcloud:index/server:Server"):
        name = groups[str(int(server.inputs["placementGroupId"]))]
        members[name] = members.get(name, 0) + 1
    assert sorted(members.values()) == [5, 10, 10], "spread groups hold at most ten servers"
    addresses = [s.inputs["networks"][0]["ip"] for s in rendered.of_type("hcloud:index/server:Server")]
    assert len(set(addresses)) == 25, "private addresses collide"


def test_network_too_small_for_the_hosts_is_refused() -> None:
    config = _config("healthcare-hcloud", network__vpc_cidr="10.40.0.0/26", hosts__count=50)
    message, collected = _refused("healthcare-hcloud", config)
    assert message.startswith("network.vpc_cidr: 10.40.0.0/26 holds 64 addresses"), message
    assert collected.resources == []


def test_aws_vpc_larger_than_a_slash_16_is_refused() -> None:
    message, collected = _refused("mortgage-aws", _config("mortgage-aws", network__vpc_cidr="10.0.0.0/8"))
    assert message == "network.vpc_cidr: 10.0.0.0/8: an AWS VPC must be between /16 and /28", message
    assert collected.resources == []


def test_missing_profile_stops_the_program() -> None:
    config = _config("mortgage-aws")
    del config["avg-voip:profile"]
    message, collected = _refused("mortgage-aws", config)
    assert "avg-voip:profile" in message, message
    assert collected.resources == []
