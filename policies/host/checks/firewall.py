"""Firewall: default drop in, and only SSH (admin CIDRs), SIP over TLS (SIP peers) and the RTP range open."""

from __future__ import annotations

import json
from typing import Any

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from policies.host.base import HostContext, host_check

SIP_TLS_PORT = 5061
SSH_PORT = 22


def ruleset(ctx: HostContext) -> list[dict[str, Any]]:
    return json.loads(ctx.host.check_output("nft -j list ruleset")).get("nftables", [])


def input_chains(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i["chain"] for i in items if "chain" in i and i["chain"].get("hook") == "input"]


def drop_chains(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in input_chains(items) if c.get("policy") == "drop"]


def _ports(right: Any) -> list[tuple[int, int]]:
    """Port values of a match's right-hand side: a number, a range, or a set of them."""
    if isinstance(right, int):
        return [(right, right)]
    if isinstance(right, dict) and "range" in right:
        lo, hi = right["range"]
        return [(int(lo), int(hi))]
    if isinstance(right, dict) and "set" in right:
        return [p for item in right["set"] for p in _ports(item)]
    if isinstance(right, list):
        return [p for item in right for p in _ports(item)]
    return []


def accepted_openings(items: list[dict[str, Any]], chain: dict[str, Any]) -> list[dict[str, Any]]:
    """The accept rules of one input chain, described as {proto, ports, saddr}; 'any' when unconditional."""
    openings = []
    for item in items:
        rule = item.get("rule")
        if not rule or (rule["family"], rule["table"], rule["chain"]) != (
            chain["family"],
            chain["table"],
            chain["name"],
        ):
            continue
        exprs = rule.get("expr", [])
        if not any("accept" in e for e in exprs):
            continue
        desc: dict[str, Any] = {"proto": None, "ports": [], "saddr": False, "other": []}
        for e in exprs:
            m = e.get("match")
            if not m:
                continue
            left = m.get("left", {})
            payload = left.get("payload", {}) if isinstance(left, dict) else {}
            if payload.get("field") == "dport":
                desc["proto"] = payload.get("protocol")
                desc["ports"] += _ports(m.get("right"))
            elif payload.get("field") == "saddr":
                desc["saddr"] = True
            else:
                desc["other"].append(json.dumps(left, sort_keys=True)[:80])
        openings.append(desc)
    return openings


def _allowed(opening: dict[str, Any], rtp: tuple[int, int]) -> bool:
    if not opening["ports"]:
        # ct state established/related, iif lo, icmp: conditions without a port are fine when conditioned.
        return bool(opening["other"])
    for lo, hi in opening["ports"]:
        if opening["proto"] == "tcp" and lo == hi and lo in (SSH_PORT, SIP_TLS_PORT) and opening["saddr"]:
            continue
        if opening["proto"] == "udp" and rtp[0] <= lo and hi <= rtp[1]:
            continue
        return False
    return True


@host_check(
    "AVG-HOST-FW-001",
    "The host firewall drops incoming traffic by default",
    ("32(1)(b)", "5(1)(f)"),
    Severity.HIGH,
    "Whatever a package starts listening on must not be reachable unless the firewall opens it on purpose.",
    "Load the firewall role's nftables ruleset (input chain policy drop) and enable nftables.service.",
)
def default_drop(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    items = ruleset(ctx)
    chains = [f"{c['family']} {c['table']} {c['name']}" for c in drop_chains(items)]
    enabled = ctx.host.service("nftables").is_enabled
    ok = bool(chains) and enabled
    msg = f"input chains with policy drop: {chains or 'none'}; nftables.service enabled: {enabled}"
    return [ctx.finding(meta, Status.PASS if ok else Status.FAIL, msg, observed=chains)]


@host_check(
    "AVG-HOST-FW-002",
    "Only SSH from admin CIDRs, SIP over TLS (5061/tcp) from SIP peers and the RTP range are open",
    ("32(1)(b)",),
    Severity.HIGH,
    "Every extra opening is attack surface on a server that carries personal conversations.",
    "Remove accept rules other than 22/tcp (admin CIDRs), 5061/tcp (SIP peers) and the RTP UDP range.",
)
def only_allowed_openings(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    items = ruleset(ctx)
    rtp = (int(ctx.hostvars["avg_voip_rtp_port_min"]), int(ctx.hostvars["avg_voip_rtp_port_max"]))
    chains = drop_chains(items)
    if not chains:
        return [ctx.finding(meta, Status.FAIL, "no input chain with policy drop: everything is open")]
    wrong = [o for c in chains for o in accepted_openings(items, c) if not _allowed(o, rtp)]
    opened = sorted(
        {
            f"{o['proto']}/{lo}-{hi}"
            for c in chains
            for o in accepted_openings(items, c)
            for lo, hi in o["ports"]
        }
    )
    status = Status.FAIL if wrong else Status.PASS
    msg = f"openings: {', '.join(opened)}" + (f"; not allowed: {wrong}" if wrong else "")
    return [ctx.finding(meta, status, msg, observed=opened)]


@host_check(
    "AVG-HOST-FW-003",
    "Nothing answers on 5060 (plaintext SIP), TCP or UDP",
    ("32(1)(a)", "5(1)(f)"),
    Severity.HIGH,
    "Plaintext SIP exposes numbers and call metadata on the wire.",
    "Do not listen on 5060; keep it closed in the firewall.",
)
def nothing_on_5060(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    listeners = ctx.host.check_output("ss -Htuln 'sport = :5060'").strip()
    probe = ctx.probes.get("plaintext_5060") or {}
    svmap = ctx.probes.get("svmap") or {}
    observed = {
        "listening_on_host": listeners.splitlines(),
        "tcp_connect": probe.get("tcp"),
        "udp_options": probe.get("udp"),
        "svmap": svmap.get("found", svmap.get("error")),
    }
    answered = bool(listeners) or probe.get("tcp") == "connected" or probe.get("udp") == "answered"
    answered = answered or bool(svmap.get("found"))
    if not probe or not svmap or svmap.get("error"):
        if answered:
            return [ctx.finding(meta, Status.FAIL, "something answers on 5060", observed=observed)]
        why = "probes from the host side were not run" if not probe else f"svmap: {svmap.get('error')}"
        return [ctx.finding(meta, Status.NOT_VERIFIED, why, observed=observed)]
    status = Status.FAIL if answered else Status.PASS
    return [
        ctx.finding(meta, status, "5060 tcp/udp from the host side and sipvicious svmap", observed=observed)
    ]
