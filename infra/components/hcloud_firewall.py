"""Hetzner Cloud firewall of the SIP hosts (rules: `sip_rules`).

Outbound rules are listed too: once a firewall has any outbound rule, Hetzner drops every other outbound packet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_hcloud as hcloud
from pulumi import ResourceOptions

from infra.components.sip_rules import TrafficRule

# Hetzner's recursive resolvers (the hosts' default DNS servers).
HETZNER_RESOLVERS = [
    "185.12.64.1/32",
    "185.12.64.2/32",
    "2a01:4ff:ff00::add:1/128",
    "2a01:4ff:ff00::add:2/128",
]


@dataclass(frozen=True)
class HostFirewallArgs:
    rules: list[TrafficRule]
    labels: dict[str, str] = field(default_factory=dict)


def firewall_rule(rule: TrafficRule) -> hcloud.FirewallRuleArgs:
    port = str(rule.from_port) if rule.from_port == rule.to_port else f"{rule.from_port}-{rule.to_port}"
    ips = {"source_ips": rule.cidrs} if rule.direction == "in" else {"destination_ips": rule.cidrs}
    return hcloud.FirewallRuleArgs(
        direction=rule.direction, protocol=rule.protocol, port=port, description=rule.description, **ips
    )


class HostFirewall(pulumi.ComponentResource):
    firewall: hcloud.Firewall

    def __init__(self, name: str, args: HostFirewallArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:hcloud:HostFirewall", name, None, opts)
        self.firewall = hcloud.Firewall(
            name,
            rules=[firewall_rule(r) for r in args.rules],
            labels=args.labels,
            opts=ResourceOptions(parent=self),
        )
        self.register_outputs({"firewall_id": self.firewall.id})
