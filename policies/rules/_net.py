"""Ingress rules of every firewall kind, reduced to one shape: protocol, port range, sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from avg_voip.records import ResourceRecord, is_unknown
from policies.rules._util import HC_FIREWALL, SECURITY_GROUP, SG_INGRESS_RULE, SG_RULE, as_list

FIREWALL_TYPES = SECURITY_GROUP + SG_RULE + SG_INGRESS_RULE + HC_FIREWALL
SIP_PLAIN = 5060
SIP_TLS = 5061
SSH = 22


@dataclass(frozen=True)
class Ingress:
    protocol: str  # tcp | udp | icmp | all
    port_from: int
    port_to: int
    sources: tuple[str, ...]
    unknown: bool = False

    def covers(self, port: int, protocol: str) -> bool:
        return self.protocol in (protocol, "all") and self.port_from <= port <= self.port_to

    def describe(self) -> str:
        ports = str(self.port_from) if self.port_from == self.port_to else f"{self.port_from}-{self.port_to}"
        return f"{self.protocol}/{ports} from {', '.join(self.sources) or 'nowhere'}"


def _proto(value: Any) -> str:
    v = str(value).lower()
    return {"-1": "all", "6": "tcp", "17": "udp", "any": "all"}.get(v, v)


def _aws(protocol: Any, from_port: Any, to_port: Any, sources: list[Any]) -> Ingress:
    if any(is_unknown(x) for x in (protocol, from_port, to_port, *sources)):
        return Ingress("all", 0, 65535, (), unknown=True)
    p = _proto(protocol)
    if p == "all":
        return Ingress("all", 0, 65535, tuple(str(s) for s in sources))
    lo = int(from_port or 0)
    hi = int(to_port if to_port is not None else lo)
    if lo == -1:
        lo, hi = 0, 65535
    return Ingress(p, lo, hi, tuple(str(s) for s in sources))


def ingress_of(record: ResourceRecord) -> list[Ingress]:
    props = record.props
    if record.type in SECURITY_GROUP:
        out = []
        for r in as_list(props.get("ingress")):
            if is_unknown(r):
                out.append(Ingress("all", 0, 65535, (), unknown=True))
                continue
            srcs = as_list(r.get("cidrBlocks")) + as_list(r.get("ipv6CidrBlocks"))
            out.append(_aws(r.get("protocol"), r.get("fromPort"), r.get("toPort"), srcs))
        return out
    if record.type in SG_RULE:
        if props.get("type") != "ingress":
            return []
        srcs = as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks"))
        return [_aws(props.get("protocol"), props.get("fromPort"), props.get("toPort"), srcs)]
    if record.type in SG_INGRESS_RULE:
        srcs = [s for s in (props.get("cidrIpv4"), props.get("cidrIpv6")) if s]
        return [_aws(props.get("ipProtocol"), props.get("fromPort"), props.get("toPort"), srcs)]
    if record.type in HC_FIREWALL:
        out = []
        for r in as_list(props.get("rules")):
            if is_unknown(r):
                out.append(Ingress("all", 0, 65535, (), unknown=True))
                continue
            if r.get("direction") != "in":
                continue
            proto = _proto(r.get("protocol"))
            port = str(r.get("port") or "any")
            if port == "any" or proto not in ("tcp", "udp"):
                lo, hi = 0, 65535
            elif "-" in port:
                a, b = port.split("-", 1)
                lo, hi = int(a), int(b)
            else:
                lo = hi = int(port)
            out.append(Ingress(proto, lo, hi, tuple(str(s) for s in as_list(r.get("sourceIps")))))
        return out
    return []
