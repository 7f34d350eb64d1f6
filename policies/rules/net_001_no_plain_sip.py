"""AVG-NET-001: nothing admits plain SIP (5060); signalling is reachable only over TLS."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._net import FIREWALL_TYPES, SIP_PLAIN, ingress_of
from policies.rules._util import HC_FIREWALL, SECURITY_GROUP, res

PEERS = ["203.0.113.128/26"]


def sg(*ingress: dict[str, object]) -> dict[str, object]:
    return res(SECURITY_GROUP[0], "sip", {"ingress": list(ingress)})


def tcp(
    port: int, to: int | None = None, cidrs: list[str] | None = None, proto: str = "tcp"
) -> dict[str, object]:
    return {"protocol": proto, "fromPort": port, "toPort": to or port, "cidrBlocks": cidrs or PEERS}


@rule(
    id="AVG-NET-001",
    title="No firewall admits plain SIP on 5060 (TCP or UDP): signalling only over TLS on 5061",
    articles=("32(1)(a)", "5(1)(f)"),
    severity=Severity.CRITICAL,
    rationale=(
        "Plain SIP carries caller numbers, names and the media keys of SRTP in clear; anyone on the path can "
        "read who called whom and decrypt the call. Only SIP over TLS protects traffic data in transit."
    ),
    remediation="Remove every ingress rule that covers port 5060; admit SIP only as 5061/tcp from the SIP peers.",
    types=FIREWALL_TYPES,
    passing=[
        Example([sg(tcp(5061))]),
        Example(
            [
                res(
                    HC_FIREWALL[0],
                    "fw",
                    {"rules": [{"direction": "in", "protocol": "tcp", "port": "5061", "sourceIps": PEERS}]},
                )
            ]
        ),
    ],
    failing=[
        Example([sg(tcp(5061), tcp(5060, proto="udp"))]),
        Example([sg(tcp(5000, 5100))], note="a range that includes 5060"),
        Example([sg(tcp(0, 0, proto="-1"))], note="all traffic"),
        Example(
            [
                res(
                    HC_FIREWALL[0],
                    "fw",
                    {"rules": [{"direction": "in", "protocol": "udp", "port": "5060", "sourceIps": PEERS}]},
                )
            ]
        ),
        Example(
            [
                res(
                    HC_FIREWALL[0],
                    "fw",
                    {"rules": [{"direction": "in", "protocol": "udp", "port": "abc", "sourceIps": PEERS}]},
                )
            ],
            note="unreadable port: taken as every port, so it may admit 5060",
        ),
        Example(
            [
                res(
                    HC_FIREWALL[0],
                    "fw",
                    {"rules": [{"direction": "in", "protocol": "tcp", "port": ["5060"], "sourceIps": PEERS}]},
                )
            ],
            note="a list where the port string belongs: unreadable, taken as every port",
        ),
        Example([sg({**tcp(5061), "fromPort": "x"})], note="unreadable fromPort: taken as every port"),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    rules = ingress_of(record)
    if any(r.unknown for r in rules):
        yield unverified(record, "ingress rules unknown at preview")
        return
    bad = [r for r in rules if r.covers(SIP_PLAIN, "tcp") or r.covers(SIP_PLAIN, "udp")]
    if bad:
        yield fail(
            record,
            "admits plain SIP: " + "; ".join(r.describe() for r in bad),
            [r.describe() for r in bad],
            "no ingress on 5060",
        )
    elif rules:
        yield ok(record, "no ingress on 5060", None, "no ingress on 5060")
