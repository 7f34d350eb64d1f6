"""AVG-NET-002: SSH is reachable only from the profile's admin networks."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._net import FIREWALL_TYPES, SSH, ingress_of
from policies.rules._util import DEFAULT_SECURITY_GROUP, HC_FIREWALL, cidr_within, is_world, res
from policies.rules.net_001_no_plain_sip import sg, tcp

ADMIN = ["198.51.100.32/28"]  # the mortgage-aws profile's admin network


@rule(
    id="AVG-NET-002",
    title="SSH (22/tcp) is admitted only from the profile's admin CIDRs, never from anywhere",
    articles=("32(1)(b)", "25(2)"),
    severity=Severity.CRITICAL,
    rationale=(
        "SSH gives root on the servers that hold recordings; exposing it to the internet invites brute force "
        "and exploits of the SSH daemon. Only the named admin networks may reach it."
    ),
    remediation="Restrict every rule covering 22/tcp to network.admin_cidrs from the profile.",
    types=FIREWALL_TYPES,
    passing=[
        Example([sg(tcp(22, cidrs=ADMIN))]),
        Example([sg(tcp(22, cidrs=["198.51.100.40/29"]))], note="inside the admin range"),
    ],
    failing=[
        Example([sg(tcp(22, cidrs=["0.0.0.0/0"]))]),
        Example(
            [
                res(
                    HC_FIREWALL[0],
                    "fw",
                    {
                        "rules": [
                            {
                                "direction": "in",
                                "protocol": "tcp",
                                "port": "22",
                                "sourceIps": ["0.0.0.0/0", "::/0"],
                            }
                        ]
                    },
                )
            ]
        ),
        Example([sg(tcp(22, cidrs=["192.0.2.0/24"]))], note="a network the profile does not name"),
        Example(
            [res(DEFAULT_SECURITY_GROUP[0], "default", {"ingress": [tcp(22, cidrs=["0.0.0.0/0"])]})],
            note="the VPC's default security group is judged like any other",
        ),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    rules = ingress_of(record)
    if any(r.unknown for r in rules):
        yield unverified(record, "ingress rules unknown at preview")
        return
    allowed = list(ctx.profile.network.admin_cidrs) if ctx.profile else []
    ssh = [r for r in rules if r.covers(SSH, "tcp")]
    if not ssh:
        return
    world = sorted({s for r in ssh for s in r.sources if is_world(s)})
    if world:
        yield fail(record, f"SSH open to {', '.join(world)}", world, allowed or "admin CIDRs only")
        return
    if ctx.profile is None:
        yield unverified(record, "no profile: cannot compare SSH sources with the admin CIDRs")
        return
    outside = sorted({s for r in ssh for s in r.sources if not cidr_within(s, allowed)})
    if outside:
        yield fail(
            record, f"SSH admitted from {', '.join(outside)}, outside the admin CIDRs", outside, allowed
        )
    else:
        yield ok(record, "SSH only from admin CIDRs", sorted({s for r in ssh for s in r.sources}), allowed)
