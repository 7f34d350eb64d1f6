"""Ingress rules of every firewall kind, reduced to one shape: protocol, port range, sources.

Ports that cannot be read (`"abc"`, `["5060"]`, `"x"` as fromPort, a reversed range) fail closed: the rule is
taken to cover every port (0-65535) and is marked `unreadable`, so the port rules (AVG-NET-001, AVG-NET-003)
FAIL with the raw value in the message instead of passing or crashing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from avg_voip.records import RecordSet, ResourceRecord, is_unknown
from policies.rules._util import (
    DEFAULT_SECURITY_GROUP,
    HC_FIREWALL,
    HC_FIREWALL_ATTACHMENT,
    HC_SERVER,
    INSTANCE,
    SECURITY_GROUP,
    SG_INGRESS_RULE,
    SG_RULE,
    as_list,
)

GROUPS = SECURITY_GROUP + DEFAULT_SECURITY_GROUP  # both carry inline ingress blocks of the same shape
FIREWALL_TYPES = GROUPS + SG_RULE + SG_INGRESS_RULE + HC_FIREWALL
SERVERS = INSTANCE + HC_SERVER  # the SIP servers every firewall rule protects
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
    if record.type in GROUPS:
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


# -- which firewalls cover a server ----------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    firewalls: tuple[str, ...]  # URNs of the firewall / security group records that cover the server
    missing: tuple[str, ...]  # ids the server names that no record in the set has (rules cannot be judged)
    unknown: bool = False  # an id is unknown (preview) and no dependency shows which firewall it is


def _keys(record: ResourceRecord) -> set[str]:
    keys = {record.urn, record.name}
    arn = record.props.get("arn")
    if isinstance(arn, str) and "/" in arn:
        keys.add(arn.rsplit("/", 1)[1])  # arn:aws:ec2:<region>:<account>:security-group/sg-...
    for k in (record.id, record.props.get("name"), record.props.get("id")):
        if isinstance(k, str | int) and not isinstance(k, bool) and str(k):
            keys.add(str(k))
    return keys


def _index(records: RecordSet, types: tuple[str, ...]) -> dict[str, ResourceRecord]:
    return {k: r for r in records.of_type(*types) for k in _keys(r)}


def _labels_match(selector: Any, labels: Any) -> bool:
    """Hetzner label selectors: comma-separated `k=v`, `k==v`, `k!=v`, `k`, `!k` (all must hold)."""
    if not isinstance(selector, str) or not selector.strip() or not isinstance(labels, dict):
        return False
    for term in (t.strip() for t in selector.split(",")):
        if "!=" in term:
            k, v = (x.strip() for x in term.split("!=", 1))
            ok = str(labels.get(k)) != v if k in labels else True
        elif "=" in term:
            k, v = (x.strip() for x in term.replace("==", "=").split("=", 1))
            ok = k in labels and str(labels[k]) == v
        elif term.startswith("!"):
            ok = term[1:].strip() not in labels
        elif " " in term or "(" in term:
            return False  # set-based selectors (`in`, `notin`) are not read: not covered (fail closed)
        else:
            ok = term in labels
        if not ok:
            return False
    return True


def _named(
    ids: Any, index: dict[str, ResourceRecord], server: ResourceRecord
) -> tuple[set[str], set[str], bool]:
    """(covering firewall URNs, ids not in the set, unresolved unknown) for the ids a server names."""
    found: set[str] = set()
    missing: set[str] = set()
    unresolved = False
    by_dep = [index[d] for d in server.dependencies if d in index]
    idless = [r for r in by_dep if not r.id]  # records without an id (CrossGuard sees outputs, not ids)
    for fid in as_list(ids):
        if isinstance(fid, str | int) and not isinstance(fid, bool) and str(fid) in index:
            found.add(index[str(fid)].urn)
        elif is_unknown(fid) and by_dep:
            found.update(r.urn for r in by_dep)  # the id is an output of a firewall the server depends on
        elif is_unknown(fid):
            unresolved = True
        elif idless:
            found.update(r.urn for r in idless)  # the id is an output of a firewall the server depends on
        else:
            missing.add(str(fid))
    return found, missing, unresolved


def coverage(server: ResourceRecord, records: RecordSet) -> Coverage:
    """Which firewall records of the set cover `server` (an EC2 instance or a Hetzner server)."""
    if server.type in INSTANCE:
        index = _index(records, GROUPS)
        ids = server.props.get("vpcSecurityGroupIds")
        if is_unknown(ids):
            ids = [ids]
        names = server.props.get("securityGroups")
        found, missing, unresolved = _named([*as_list(ids), *as_list(names)], index, server)
        return Coverage(tuple(sorted(found)), tuple(sorted(missing)), unresolved and not found)
    index = _index(records, HC_FIREWALL)
    ids = server.props.get("firewallIds")
    found, missing, unresolved = _named([ids] if is_unknown(ids) else ids, index, server)
    server_keys = {server.id} if isinstance(server.id, str) and server.id else set()
    labels = server.props.get("labels")
    for fw in records.of_type(*HC_FIREWALL):  # the firewall's own apply_to blocks
        for target in as_list(fw.props.get("applyTos")):
            if not isinstance(target, dict):
                continue
            if str(target.get("server")) in server_keys or _labels_match(target.get("labelSelector"), labels):
                found.add(fw.urn)
    for att in records.of_type(*HC_FIREWALL_ATTACHMENT):
        fw_id = att.props.get("firewallId")
        fw = index.get(str(fw_id)) if not is_unknown(fw_id) else None
        if fw is None:  # an id this source does not carry: the firewall the attachment depends on
            deps = [index[d] for d in att.dependencies if d in index]
            fw = next((r for r in deps if is_unknown(fw_id) or not r.id), None)
        if fw is None:
            continue
        sids = att.props.get("serverIds")
        hit = any(
            (server.urn in att.dependencies) if is_unknown(s) or not server_keys else str(s) in server_keys
            for s in ([sids] if is_unknown(sids) else as_list(sids))
        )
        hit = hit or any(_labels_match(sel, labels) for sel in as_list(att.props.get("labelSelectors")))
        if hit:
            found.add(fw.urn)
    return Coverage(tuple(sorted(found)), tuple(sorted(missing)), unresolved and not found)
