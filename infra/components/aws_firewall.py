"""Security group of the SIP hosts (rules: `sip_rules`), with a description on every rule."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi import Input, ResourceOptions

from infra.components.sip_rules import TrafficRule

AMAZON_TIME_SYNC = "169.254.169.123/32"


@dataclass(frozen=True)
class SipFirewallArgs:
    vpc_id: Input[str]
    rules: list[TrafficRule]
    tags: dict[str, str] = field(default_factory=dict)


def _rule_args(rule: TrafficRule) -> dict[str, Any]:
    v4 = [c for c in rule.cidrs if ipaddress.ip_network(c).version == 4]
    v6 = [c for c in rule.cidrs if ipaddress.ip_network(c).version == 6]
    blocks: dict[str, Any] = {}
    if v4:
        blocks["cidr_blocks"] = v4
    if v6:
        blocks["ipv6_cidr_blocks"] = v6
    return dict(
        description=rule.description,
        protocol=rule.protocol,
        from_port=rule.from_port,
        to_port=rule.to_port,
        **blocks,
    )


class SipFirewall(pulumi.ComponentResource):
    security_group: aws.ec2.SecurityGroup

    def __init__(self, name: str, args: SipFirewallArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:aws:SipFirewall", name, None, opts)
        self.security_group = aws.ec2.SecurityGroup(
            name,
            description="SIP over TLS and SRTP from trunk peers, SSH from admin networks only",
            vpc_id=args.vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(**_rule_args(r)) for r in args.rules if r.direction == "in"
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(**_rule_args(r)) for r in args.rules if r.direction == "out"
            ],
            revoke_rules_on_delete=True,
            tags=args.tags,
            opts=ResourceOptions(parent=self),
        )
        self.register_outputs({"security_group_id": self.security_group.id})
