"""Private network of the SIP hosts on Hetzner Cloud, with one cloud subnet in the location's network zone."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_hcloud as hcloud
from pulumi import Output, ResourceOptions


@dataclass(frozen=True)
class PrivateNetworkArgs:
    ip_range: str
    subnet_range: str  # inside ip_range, sized for the hosts (infra.addressing)
    network_zone: str  # e.g. eu-central, from the residency catalogue
    labels: dict[str, str] = field(default_factory=dict)


class PrivateNetwork(pulumi.ComponentResource):
    network: hcloud.Network
    subnet: hcloud.NetworkSubnet
    network_id: Output[int]
    subnet_range: str

    def __init__(self, name: str, args: PrivateNetworkArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:hcloud:PrivateNetwork", name, None, opts)
        child = ResourceOptions(parent=self)
        self.network = hcloud.Network(
            name, ip_range=args.ip_range, delete_protection=False, labels=args.labels, opts=child
        )
        self.network_id = self.network.id.apply(int)
        self.subnet_range = args.subnet_range
        self.subnet = hcloud.NetworkSubnet(
            "hosts",
            network_id=self.network_id,
            type="cloud",
            network_zone=args.network_zone,
            ip_range=self.subnet_range,
            opts=child,
        )
        self.register_outputs({"network_id": self.network_id})
