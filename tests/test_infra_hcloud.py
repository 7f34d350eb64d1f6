"""The Hetzner Cloud program rendered under Pulumi's mock runtime: one property per test."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest

from avg_voip.stackconfig import load_stack
from infra.mocks import Render, render_stack

STACK = "healthcare-hcloud"
SERVER = "hcloud:index/server:Server"
VOLUME = "hcloud:index/volume:Volume"
LABEL_VALUE = re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?)?$")
LABEL_KEY = re.compile(r"^([a-z0-9.-]+/)?[a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$")


@pytest.fixture(scope="module")
def stack() -> Any:
    return load_stack(STACK)


@pytest.fixture(scope="module")
def rendered() -> Render:
    return render_stack(STACK)


def test_only_hetzner_resources_are_registered(rendered: Render) -> None:
    custom = [r for r in rendered.resources if r.custom]
    assert custom and all(r.type.startswith("hcloud:") for r in custom), (
        "non-Hetzner resource in a Hetzner stack"
    )


def test_recordings_volumes_are_left_unformatted_for_luks(rendered: Render) -> None:
    for volume in rendered.of_type(VOLUME):
        assert "format" not in volume.inputs, (
            f"volume {volume.name}: formatted by Hetzner, not LUKS on the host"
        )
        assert volume.inputs["labels"]["encryption"] == "luks2-required", f"volume {volume.name}: luks label"


def test_recordings_volumes_are_protected_and_sized_from_the_profile(rendered: Render, stack: Any) -> None:
    for volume in rendered.of_type(VOLUME):
        assert volume.inputs["deleteProtection"] is True, f"volume {volume.name}: delete protection"
        assert volume.inputs["size"] == stack.profile.hosts.recordings_volume_gb, (
            f"volume {volume.name}: size"
        )
        assert volume.inputs["location"] == "nbg1", f"volume {volume.name}: location"


def test_volume_attachments_do_not_automount(rendered: Render) -> None:
    attachments = rendered.of_type("hcloud:index/volumeAttachment:VolumeAttachment")
    assert len(attachments) == 2, "one attachment per server"
    for attachment in attachments:
        assert attachment.inputs["automount"] is False, f"attachment {attachment.name}: automount"


def test_each_server_gets_its_own_volume(rendered: Render) -> None:
    servers = {s.id: s.name for s in rendered.of_type(SERVER)}
    volumes = {v.id: v.name for v in rendered.of_type(VOLUME)}
    pairs = {
        (servers[str(int(a.inputs["serverId"]))], volumes[str(int(a.inputs["volumeId"]))])
        for a in rendered.of_type("hcloud:index/volumeAttachment:VolumeAttachment")
    }
    assert pairs == {("sip-1", "recordings-sip-1"), ("sip-2", "recordings-sip-2")}


def test_servers_run_debian_12_in_nbg1_with_backups(rendered: Render) -> None:
    servers = rendered.of_type(SERVER)
    assert sorted(s.name for s in servers) == ["sip-1", "sip-2"]
    for server in servers:
        assert server.inputs["image"] == "debian-12", f"server {server.name}: image"
        assert server.inputs["location"] == "nbg1", f"server {server.name}: location"
        assert server.inputs["serverType"] == "cpx31", f"server {server.name}: type"
        assert server.inputs["backups"] is True, f"server {server.name}: backups"


def test_servers_are_delete_and_rebuild_protected(rendered: Render) -> None:
    for server in rendered.of_type(SERVER):
        assert server.inputs["deleteProtection"] is True, f"server {server.name}: delete protection"
        assert server.inputs["rebuildProtection"] is True, f"server {server.name}: rebuild protection"


def test_servers_sit_behind_the_firewall_in_the_private_network(rendered: Render, stack: Any) -> None:
    (firewall,) = rendered.of_type("hcloud:index/firewall:Firewall")
    (network,) = rendered.of_type("hcloud:index/network:Network")
    vpc = ipaddress.ip_network(stack.profile.network.vpc_cidr)
    for server in rendered.of_type(SERVER):
        assert [str(int(f)) for f in server.inputs["firewallIds"]] == [firewall.id], f"server {server.name}"
        (net,) = server.inputs["networks"]
        assert str(int(net["networkId"])) == network.id, f"server {server.name}: network"
        assert ipaddress.ip_address(net["ip"]) in vpc, (
            f"server {server.name}: private address outside the range"
        )


def test_servers_are_spread_and_get_every_admin_key(rendered: Render) -> None:
    (group,) = rendered.of_type("hcloud:index/placementGroup:PlacementGroup")
    assert group.name == "spread-1", "placement group: name"
    keys = {k.id for k in rendered.of_type("hcloud:index/sshKey:SshKey")}
    assert group.inputs["type"] == "spread", "placement group: not spread"
    for server in rendered.of_type(SERVER):
        assert str(int(server.inputs["placementGroupId"])) == group.id, f"server {server.name}: placement"
        assert set(server.inputs["sshKeys"]) == keys, f"server {server.name}: ssh keys"


def test_all_labels_are_valid_hetzner_labels(rendered: Render) -> None:
    for r in rendered.resources:
        for key, value in (r.inputs.get("labels") or {}).items():
            assert LABEL_KEY.match(key), f"{r.type} {r.name}: label key {key!r}"
            assert LABEL_VALUE.match(value), f"{r.type} {r.name}: label {key}={value!r}"


def test_servers_and_volumes_name_their_data_categories(rendered: Render) -> None:
    for r in rendered.of_type(SERVER) + rendered.of_type(VOLUME):
        assert r.inputs["labels"]["data-categories"] == "qa_recordings.transcripts", f"{r.type} {r.name}"
        assert r.inputs["labels"]["avg-voip-stack"] == STACK, f"{r.type} {r.name}: stack label"


def _rules(rendered: Render, direction: str) -> list[dict[str, Any]]:
    (firewall,) = rendered.of_type("hcloud:index/firewall:Firewall")
    return [r for r in firewall.inputs["rules"] if r["direction"] == direction]


def _ports(rule: dict[str, Any]) -> range:
    low, _, high = rule["port"].partition("-")
    return range(int(low), int(high or low) + 1)


def test_firewall_never_opens_plain_sip(rendered: Render) -> None:
    for rule in _rules(rendered, "in") + _rules(rendered, "out"):
        assert 5060 not in _ports(rule), f"firewall sip: {rule['description']} opens 5060"


def test_firewall_admits_nothing_from_the_whole_internet(rendered: Render) -> None:
    for rule in _rules(rendered, "in"):
        assert not {"0.0.0.0/0", "::/0"} & set(rule["sourceIps"]), f"firewall sip: {rule['description']}"


def test_firewall_inbound_is_sip_tls_rtp_and_admin_ssh(rendered: Render, stack: Any) -> None:
    net = stack.profile.network
    inbound = {(r["protocol"], r["port"]): sorted(r["sourceIps"]) for r in _rules(rendered, "in")}
    assert inbound == {
        ("tcp", "5061"): sorted(net.sip_peer_cidrs),
        ("udp", f"{net.rtp_port_min}-{net.rtp_port_max}"): sorted(net.sip_peer_cidrs),
        ("tcp", "22"): sorted(net.admin_cidrs),
    }


def test_firewall_outbound_allows_the_log_collector(rendered: Render) -> None:
    assert any(r["port"] == "6514" and r["protocol"] == "tcp" for r in _rules(rendered, "out")), (
        "no collector"
    )


def test_subnet_is_a_cloud_subnet_in_eu_central_inside_the_range(rendered: Render, stack: Any) -> None:
    (subnet,) = rendered.of_type("hcloud:index/networkSubnet:NetworkSubnet")
    assert subnet.inputs["type"] == "cloud" and subnet.inputs["networkZone"] == "eu-central", "subnet hosts"
    vpc = ipaddress.ip_network(stack.profile.network.vpc_cidr)
    assert ipaddress.ip_network(subnet.inputs["ipRange"]).subnet_of(vpc), "subnet hosts: outside the network"


def test_hostvars_name_the_first_hosts_volume_and_inventory_each_hosts_own(rendered: Render) -> None:
    volumes = {v.name: v.id for v in rendered.of_type(VOLUME)}
    hosts = rendered.outputs["inventory"]["all"]["children"]["sip_servers"]["hosts"]
    for name, host in hosts.items():
        expected = f"/dev/disk/by-id/scsi-0HC_Volume_{volumes[f'recordings-{name}']}"
        assert host["avg_voip_recordings_device"] == expected, f"inventory {name}: device"
    first = f"/dev/disk/by-id/scsi-0HC_Volume_{volumes['recordings-sip-1']}"
    assert rendered.outputs["hostvars"]["avg_voip_recordings_device"] == first
    assert rendered.outputs["hostvars"]["avg_voip_recordings_encryption"] == "luks"


def test_inventory_addresses_are_the_servers_public_ipv4(rendered: Render) -> None:
    hosts = rendered.outputs["inventory"]["all"]["children"]["sip_servers"]["hosts"]
    servers = {s.name: s.state["ipv4Address"] for s in rendered.of_type(SERVER)}
    assert {n: h["ansible_host"] for n, h in hosts.items()} == servers
    assert [h["avg_voip_host_index"] for h in hosts.values()] == [1, 2]


def test_hetzner_ids_are_numeric(rendered: Render) -> None:
    for r in rendered.resources:
        if r.custom:
            assert r.id.isdigit(), f"{r.type} {r.name}: id {r.id!r}"


@pytest.mark.parametrize("device", ["keep", None, "other"])
def test_luks_rule_fails_when_the_inventory_drops_the_recordings_device(stack: Any, device: Any) -> None:
    """AVG-ENC-005 judges the rendered inventory: a host without its volume's device keeps recordings unencrypted."""
    import copy

    from avg_voip.findings import Status
    from avg_voip.render import render as render_records
    from policies.engine import Context, get_rule

    records = render_records(stack)
    hosts = records.outputs["inventory"]["all"]["children"]["sip_servers"]["hosts"]
    first = sorted(hosts)[0]
    if device != "keep":
        records = copy.deepcopy(records)
        entry = records.outputs["inventory"]["all"]["children"]["sip_servers"]["hosts"][first]
        entry["avg_voip_recordings_device"] = None if device is None else "/dev/disk/by-id/scsi-0HC_Volume_1"
    results = get_rule("AVG-ENC-005").evaluate(Context(records=records, profile=stack.profile))
    statuses = {r.message.split(":")[0]: r.status for r in results}
    assert len(results) == stack.profile.hosts.count, [r.message for r in results]
    if device == "keep":
        assert all(r.status is Status.PASS for r in results), [r.message for r in results]
    else:
        assert statuses[first] is Status.FAIL, [r.message for r in results]
        assert [r.status for r in results].count(Status.FAIL) == 1


def test_log_collector_rule_does_not_claim_tls(rendered: Render) -> None:
    """Forwarding is plain TCP until the audit_logging role gets a CA file; the firewall label must not say TLS."""
    (rule,) = [r for r in _rules(rendered, "out") if r["port"] == "6514"]
    assert "(TLS)" not in rule["description"] and "plain TCP" in rule["description"], rule["description"]
    assert "audit_logging_forward_ca_file" in rule["description"]
