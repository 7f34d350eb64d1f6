"""Ingress rules of every firewall kind, reduced to one shape: protocol, port range, sources.

Ports that cannot be read (`"abc"`, `["5060"]`, `"x"` as fromPort, a reversed range) fail closed: the rule is
taken to cover every port (0-65535) and is marked `unreadable`, so the port rules (AVG-NET-001, AVG-NET-003)
FAIL with the raw value in the message instead of passing or crashing.
"""

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
    unreadable: Any = None  # the raw port value when it could not be read (then the range is 0-65535)

    def covers(self, port: int, protocol: str) -> bool:
        return self.protocol in (protocol, "all") and self.port_from <= port <= self.port_to

    def describe(self) -> str:
        ports = str(self.port_from) if self.port_from == self.port_to else f"{self.port_from}-{self.port_to}"
        if self.unreadable is not None:
            ports = f"{self.unreadable!r} (unreadable port, taken as every port)"
        return f"{self.protocol}/{ports} from {', '.join(self.sources) or 'nowhere'}"


def _proto(value: Any) -> str:
    v = str(value).lower()
    return {"-1": "all", "6": "tcp", "17": "udp", "any": "all"}.get(v, v)


def _port(value: Any) -> int | None:
    """A port number, or None when the value is not one (fail closed: the caller widens to every port)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _range(lo: int | None, hi: int | None) -> tuple[int, int] | None:
    if lo is None or hi is None:
        return None
    if lo == -1 and hi in (-1, 65535):
        return 0, 65535  # AWS: all ports
    if not 0 <= lo <= hi <= 65535:
        return None
    return lo, hi


def _unreadable(protocol: str, raw: Any, sources: tuple[str, ...]) -> Ingress:
    return Ingress(protocol, 0, 65535, sources, unreadable=raw)


def _aws(protocol: Any, from_port: Any, to_port: Any, sources: list[Any]) -> Ingress:
    if any(is_unknown(x) for x in (protocol, from_port, to_port, *sources)):
        return Ingress("all", 0, 65535, (), unknown=True)
    p = _proto(protocol)
    srcs = tuple(str(s) for s in sources)
    if p not in ("tcp", "udp"):
        return Ingress(p, 0, 65535, srcs)  # all traffic, or ICMP (whose "ports" are type and code)
    lo = 0 if from_port is None else _port(from_port)
    hi = lo if to_port is None else _port(to_port)
    span = _range(lo, hi)
    if span is None:
        return _unreadable(p, from_port if lo is None else to_port, srcs)
    return Ingress(p, span[0], span[1], srcs)


def _hcloud_port(proto: str, raw: Any, sources: tuple[str, ...]) -> Ingress:
    if raw is None or raw == "" or raw == "any" or proto not in ("tcp", "udp"):
        return Ingress(proto, 0, 65535, sources)
    if isinstance(raw, str) and "-" in raw.strip().lstrip("-"):
        a, b = raw.split("-", 1)
        span = _range(_port(a), _port(b))
    else:
        p = _port(raw)
        span = _range(p, p)
    if span is None:
        return _unreadable(proto, raw, sources)
    return Ingress(proto, span[0], span[1], sources)


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
            if any(is_unknown(r.get(k)) for k in ("protocol", "port")) or is_unknown(r.get("sourceIps")):
                out.append(Ingress("all", 0, 65535, (), unknown=True))
                continue
            proto = _proto(r.get("protocol"))
            srcs = tuple(str(s) for s in as_list(r.get("sourceIps")))
            out.append(_hcloud_port(proto, r.get("port"), srcs))
        return out
    return []
