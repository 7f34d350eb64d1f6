"""AVG-NET-004: every SIP server is covered by a firewall or security group in the stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._net import SERVERS, coverage
from policies.rules._util import (
    DEFAULT_SECURITY_GROUP,
    HC_FIREWALL,
    HC_FIREWALL_ATTACHMENT,
    HC_SERVER,
    INSTANCE,
    SECURITY_GROUP,
    res,
    urn,
)
from policies.rules.net_001_no_plain_sip import PEERS, sg, tcp

SG_ID = "sg-0123"
FW_ID = "4711"
SG_URN = urn(SECURITY_GROUP[0], "sip")
FW_URN = urn(HC_FIREWALL[0], "fw")


def _sg() -> dict[str, Any]:
    return {**sg(tcp(5061)), "id": SG_ID}


def instance(props: dict[str, Any] | None = None, deps: list[str] | None = None) -> dict[str, Any]:
    return res(INSTANCE[0], "sip-1", {"ami": "ami-1", **(props or {})}, deps=deps)


def firewall(props: dict[str, Any] | None = None) -> dict[str, Any]:
    rules = [{"direction": "in", "protocol": "tcp", "port": "5061", "sourceIps": PEERS}]
    return res(HC_FIREWALL[0], "fw", {"rules": rules, **(props or {})}, rid=FW_ID)


def server(props: dict[str, Any] | None = None, deps: list[str] | None = None) -> dict[str, Any]:
    props = {"location": "nbg1", "labels": {"role": "sip"}, **(props or {})}
    return res(HC_SERVER[0], "sip-1", props, rid="99", deps=deps)


def attachment(props: dict[str, Any], of_server: bool = True) -> dict[str, Any]:
    deps = [FW_URN, urn(HC_SERVER[0], "sip-1")] if of_server else [FW_URN]  # its ids are their outputs
    return res(HC_FIREWALL_ATTACHMENT[0], "fw-sip", {"firewallId": int(FW_ID), **props}, deps=deps)


@rule(
    id="AVG-NET-004",
    title="Every SIP server (EC2 instance, Hetzner server) is covered by a firewall or security group in the stack",
    articles=("32(1)(b)", "25(2)"),
    severity=Severity.CRITICAL,
    rationale=(
        "A server with no firewall, or one whose firewall is not part of the stack, exposes every port that "
        "listens on it to the internet, and the port rules (AVG-NET-001 to 003) cannot judge what is admitted. "
        "Confidentiality of the calls and data protection by default need a firewall the stack declares."
    ),
    remediation=(
        "Attach the stack's SIP firewall to every server: `vpc_security_group_ids=[sg.id]` on aws.ec2.Instance, "
        "`firewall_ids=[fw.id]` on hcloud.Server (or an hcloud.FirewallAttachment / apply_to), and declare that "
        "firewall in the same program so its rules are judged."
    ),
    scope="stack",
    passing=[
        Example([_sg(), instance({"vpcSecurityGroupIds": [SG_ID]}, deps=[SG_URN])]),
        Example([firewall(), server({"firewallIds": [int(FW_ID)]}, deps=[FW_URN])]),
        Example([firewall(), server(), attachment({"serverIds": [99]})], note="a FirewallAttachment"),
        Example(
            [firewall({"applyTos": [{"labelSelector": "role=sip"}]}), server()], note="apply_to by label"
        ),
        Example(
            [
                res(DEFAULT_SECURITY_GROUP[0], "default", {"ingress": []}, rid="sg-default"),
                instance(
                    {"vpcSecurityGroupIds": ["sg-default"]}, deps=[urn(DEFAULT_SECURITY_GROUP[0], "default")]
                ),
            ],
            note="the VPC's default group, declared (its rules are judged by AVG-NET-001 to 003)",
        ),
    ],
    failing=[
        Example([_sg(), instance()], note="instance without vpcSecurityGroupIds"),
        Example(
            [instance({"vpcSecurityGroupIds": [SG_ID]}, deps=[SG_URN])],
            note="security group not in the stack",
        ),
        Example([firewall(), server({"firewallIds": []})], note="server with firewallIds []"),
        Example([firewall(), server()], note="server without firewallIds"),
        Example([server({"firewallIds": [int(FW_ID)]}, deps=[FW_URN])], note="firewall record removed"),
        Example(
            [firewall(), server(), attachment({"serverIds": [12345]}, of_server=False)],
            note="the attachment covers another server",
        ),
    ],
)
def check(ctx: Context) -> Iterator[Result]:
    for srv in ctx.records.of_type(*SERVERS):
        if not srv.custom:
            continue
        cov = coverage(srv, ctx.records)
        what = "security group" if srv.type in INSTANCE else "firewall"
        expected = f"a {what} declared in the stack"
        if cov.firewalls:
            names = [ctx.records.by_urn(u) for u in cov.firewalls]
            shown = [r.name if r is not None else u for r, u in zip(names, cov.firewalls, strict=True)]
            yield ok(srv, f"covered by {what} {', '.join(shown)}", shown, expected)
        elif cov.unknown:
            yield unverified(srv, f"{what} ids unknown at preview", expected)
        elif cov.missing:
            yield fail(
                srv,
                f"{what} {', '.join(cov.missing)} is not in the stack: its rules cannot be judged",
                list(cov.missing),
                expected,
            )
        else:
            yield fail(srv, f"no {what} attached: every listening port is reachable", None, expected)
