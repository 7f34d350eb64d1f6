"""The Hetzner Cloud deployment: private network, firewall, SIP servers and their LUKS-encrypted volumes."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi import Output

from avg_voip.profile import DataKind, Profile
from avg_voip.residency import load_catalogue
from infra.addressing import host_subnet
from infra.components.hcloud_firewall import HETZNER_RESOLVERS, HostFirewall, HostFirewallArgs
from infra.components.hcloud_network import PrivateNetwork, PrivateNetworkArgs
from infra.components.hcloud_sip_hosts import DEFAULT_IMAGE, HcloudHostsArgs, HcloudSipHosts
from infra.components.sip_rules import ANYWHERE, sip_traffic_args, sip_traffic_rules
from infra.components.tags import hcloud_labels
from infra.outputs import HostRecord, host_outputs


def build(profile: Profile, stack: str) -> dict[str, Output[Any]]:
    location = load_catalogue().find("hcloud", profile.location)
    if location is None or not location.network_zone:  # parse_profile already refused unknown locations
        raise pulumi.RunError(f"location: no Hetzner network zone known for {profile.location!r}")
    labels = hcloud_labels(stack)
    network = PrivateNetwork(
        "network",
        PrivateNetworkArgs(
            ip_range=profile.network.vpc_cidr,
            subnet_range=host_subnet(profile.network.vpc_cidr, profile.hosts.count),
            network_zone=location.network_zone,
            labels=labels,
        ),
    )
    traffic = sip_traffic_args(profile, resolvers=HETZNER_RESOLVERS, time_servers=ANYWHERE, internet=ANYWHERE)
    firewall = HostFirewall("sip", HostFirewallArgs(rules=sip_traffic_rules(traffic), labels=labels))
    hosts = HcloudSipHosts(
        "sip-hosts",
        HcloudHostsArgs(
            count=profile.hosts.count,
            server_type=profile.hosts.size,
            image=profile.hosts.image or DEFAULT_IMAGE,
            location=profile.location,
            backups=profile.backups.enabled,
            network_id=network.network_id,
            subnet_range=network.subnet_range,
            subnet=network.subnet,
            firewall_id=firewall.firewall.id,
            recordings_volume_gb=profile.hosts.recordings_volume_gb,
            admin_ssh_keys=list(profile.hosts.admin_ssh_keys),
            content_category_ids=[c.id for c in profile.categories(kind=DataKind.CONTENT)],
            labels=labels,
        ),
    )
    outputs = host_outputs(
        profile,
        stack,
        [HostRecord(h.name, h.server.ipv4_address, h.device) for h in hosts.hosts],
    )
    outputs.update(
        network_id=network.network.id,
        firewall_id=firewall.firewall.id,
        server_ids=Output.from_input({h.name: h.server.id for h in hosts.hosts}),
        recordings_volume_ids=Output.from_input({h.name: h.volume.id for h in hosts.hosts}),
    )
    return dict(sorted(outputs.items()))
