"""The SIP servers on Hetzner Cloud, each with its own recordings volume that the host LUKS2-encrypts.

Hetzner volumes have no provider-side encryption with a customer key, so the volume is attached unformatted and
unmounted; the Ansible role formats it with LUKS2 before anything is written (label `encryption`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_hcloud as hcloud
from pulumi import Input, Output, ResourceOptions

from infra.addressing import host_address
from infra.components.tags import hcloud_label

DEFAULT_IMAGE = "debian-12"
SPREAD_GROUP_SIZE = 10  # Hetzner's limit of servers per spread placement group


@dataclass(frozen=True)
class HcloudHostsArgs:
    count: int
    server_type: str
    image: str
    location: str
    backups: bool
    network_id: Output[int]
    subnet_range: str
    subnet: pulumi.Resource
    firewall_id: Output[str]
    recordings_volume_gb: int
    admin_ssh_keys: list[str]
    content_category_ids: list[str]
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HcloudHost:
    name: str
    server: hcloud.Server
    volume: hcloud.Volume
    device: Output[str]  # the provider's `linux_device`: /dev/disk/by-id/scsi-0HC_Volume_<id>


class HcloudSipHosts(pulumi.ComponentResource):
    hosts: list[HcloudHost]

    def __init__(self, name: str, args: HcloudHostsArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:hcloud:SipHosts", name, None, opts)
        child = ResourceOptions(parent=self)
        categories = hcloud_label(".".join(args.content_category_ids))
        keys = [
            hcloud.SshKey(f"admin-{i}", public_key=key, labels=args.labels, opts=child)
            for i, key in enumerate(args.admin_ssh_keys, 1)
        ]
        # Spread: no two SIP hosts of a group on the same physical machine. A spread group holds at most ten
        # servers, so hosts 1-10 share `spread-1`, 11-20 `spread-2`, and so on.
        groups = [
            hcloud.PlacementGroup(f"spread-{g}", type="spread", labels=args.labels, opts=child)
            for g in range(1, (args.count - 1) // SPREAD_GROUP_SIZE + 2)
        ]
        firewall_id: Input[int] = args.firewall_id.apply(int)
        self.hosts = []
        for index in range(1, args.count + 1):
            host = f"sip-{index}"
            server = hcloud.Server(
                host,
                image=args.image,
                server_type=args.server_type,
                location=args.location,
                # Hetzner keeps server backups in the same location as the server (no copy elsewhere).
                backups=args.backups,
                firewall_ids=[firewall_id],
                ssh_keys=[k.id for k in keys],
                placement_group_id=groups[(index - 1) // SPREAD_GROUP_SIZE].id.apply(int),
                networks=[
                    hcloud.ServerNetworkArgs(
                        network_id=args.network_id, ip=host_address(args.subnet_range, index)
                    )
                ],
                public_nets=[hcloud.ServerPublicNetArgs(ipv4_enabled=True, ipv6_enabled=True)],
                delete_protection=True,
                rebuild_protection=True,
                labels={**args.labels, "role": "sip", "data-categories": categories},
                opts=ResourceOptions(parent=self, depends_on=[args.subnet]),
            )
            volume = hcloud.Volume(
                f"recordings-{host}",
                size=args.recordings_volume_gb,
                location=args.location,
                delete_protection=True,
                labels={
                    **args.labels,
                    "encryption": "luks2-required",
                    "data-categories": categories,
                    "host": host,
                },
                opts=child,
            )
            hcloud.VolumeAttachment(
                f"recordings-{host}",
                server_id=server.id.apply(int),
                volume_id=volume.id.apply(int),
                automount=False,  # the host unlocks and mounts it after LUKS setup
                opts=child,
            )
            self.hosts.append(HcloudHost(name=host, server=server, volume=volume, device=volume.linux_device))
        self.register_outputs({"server_ids": [h.server.id for h in self.hosts]})
