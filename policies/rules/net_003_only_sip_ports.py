"""AVG-NET-003: the SIP hosts expose only SIP over TLS, the SRTP media range and admin SSH."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._net import FIREWALL_TYPES, SIP_TLS, SSH, Ingress, ingress_of
from policies.rules.net_001_no_plain_sip import sg, tcp
from policies.rules.net_002_ssh_admin_only import ADMIN


def allowed(rule_: Ingress, rtp: tuple[int, int]) -> bool:
    if rule_.protocol == "tcp" and rule_.port_from == rule_.port_to == SIP_TLS:
        return True
    if rule_.protocol == "tcp" and rule_.port_from == rule_.port_to == SSH:
        return True  # sources judged by AVG-NET-002
    return rule_.protocol == "udp" and rtp[0] <= rule_.port_from <= rule_.port_to <= rtp[1]


@rule(
    id="AVG-NET-003",
    title="Firewalls admit only 5061/tcp, the profile's RTP range (UDP) and 22/tcp",
    articles=("32(1)(b)", "25(2)"),
    severity=Severity.HIGH,
    rationale=(
        "Every other open port is an unneeded way in to servers holding call data. Data protection by default "
        "means the smallest exposure that still carries the calls."
    ),
    remediation="Remove ingress rules other than SIP over TLS, the SRTP media range and admin SSH.",
    types=FIREWALL_TYPES,
    needs_profile=True,
    passing=[Example([sg(tcp(5061), tcp(40000, 44999, proto="udp"), tcp(22, cidrs=ADMIN))])],
    failing=[
        Example([sg(tcp(5061), tcp(3306))], note="a database port"),
        Example([sg(tcp(5061), tcp(10000, 60000, proto="udp"))], note="UDP wider than the RTP range"),
        Example([sg(tcp(0, 65535))]),
        Example([sg({**tcp(5061), "toPort": "5061x"})], note="unreadable toPort: taken as every port"),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    assert ctx.profile is not None
    rules = ingress_of(record)
    if any(r.unknown for r in rules):
        yield unverified(record, "ingress rules unknown at preview")
        return
    if not rules:
        return
    rtp = (ctx.profile.network.rtp_port_min, ctx.profile.network.rtp_port_max)
    extra = [r.describe() for r in rules if not allowed(r, rtp)]
    expected = f"tcp/5061, udp/{rtp[0]}-{rtp[1]}, tcp/22"
    if extra:
        yield fail(record, "admits more than SIP/TLS, SRTP and SSH: " + "; ".join(extra), extra, expected)
    else:
        yield ok(record, "only SIP/TLS, SRTP and SSH admitted", [r.describe() for r in rules], expected)
