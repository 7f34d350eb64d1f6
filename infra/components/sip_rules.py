"""The SIP hosts' traffic rules, once for both providers; each firewall component translates them.

Inbound: SIP over TLS (5061) and SRTP from the trunk peers, SSH from the admin networks — never plain SIP
(5060, signalling carries caller numbers) and nothing from the whole internet. Outbound: only what the hosts
need, so a compromised host cannot ship recordings anywhere over arbitrary ports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from avg_voip.profile import Profile

ANYWHERE = ["0.0.0.0/0", "::/0"]
ANYWHERE_V4 = ["0.0.0.0/0"]
SIP_TLS_PORT = 5061
SSH_PORT = 22


@dataclass(frozen=True)
class TrafficRule:
    direction: Literal["in", "out"]
    protocol: Literal["tcp", "udp"]
    from_port: int
    to_port: int
    cidrs: list[str]  # sources (in) or destinations (out)
    description: str


@dataclass(frozen=True)
class SipTrafficArgs:
    sip_peer_cidrs: list[str]
    admin_cidrs: list[str]
    rtp_port_min: int
    rtp_port_max: int
    resolvers: list[str]  # DNS servers the hosts use
    time_servers: list[str]  # where NTP may go
    internet: list[str]  # destinations for package mirrors and the log collector
    log_collector_port: int | None = None


def sip_traffic_rules(args: SipTrafficArgs) -> list[TrafficRule]:
    peers = list(args.sip_peer_cidrs)
    rtp = (args.rtp_port_min, args.rtp_port_max)
    rules = [
        TrafficRule("in", "tcp", SIP_TLS_PORT, SIP_TLS_PORT, peers, "SIP over TLS from trunk peers"),
        TrafficRule("in", "udp", *rtp, peers, "SRTP media from trunk peers"),
        TrafficRule("in", "tcp", SSH_PORT, SSH_PORT, list(args.admin_cidrs), "SSH from admin networks"),
        TrafficRule("out", "tcp", 443, 443, args.internet, "HTTPS for security updates and uploads"),
        TrafficRule("out", "tcp", 80, 80, args.internet, "HTTP to Debian mirrors (apt verifies signatures)"),
        TrafficRule("out", "udp", 123, 123, args.time_servers, "NTP"),
        TrafficRule("out", "udp", 53, 53, args.resolvers, "DNS (udp) to the resolvers"),
        TrafficRule("out", "tcp", 53, 53, args.resolvers, "DNS (tcp) to the resolvers"),
        TrafficRule("out", "tcp", SIP_TLS_PORT, SIP_TLS_PORT, peers, "SIP over TLS to trunk peers"),
        TrafficRule("out", "udp", *rtp, peers, "SRTP media to trunk peers"),
    ]
    if args.log_collector_port is not None:
        port = args.log_collector_port
        # rsyslog forwards in plain TCP unless the audit_logging role is given a CA file; say so, not "TLS".
        rules.append(TrafficRule("out", "tcp", port, port, args.internet, LOG_COLLECTOR_DESCRIPTION))
    return rules


LOG_COLLECTOR_DESCRIPTION = (
    "Logs to the remote collector (plain TCP unless audit_logging_forward_ca_file is set)"
)


def sip_traffic_args(
    profile: Profile, resolvers: list[str], time_servers: list[str], internet: list[str]
) -> SipTrafficArgs:
    collector = profile.audit_log.collector
    return SipTrafficArgs(
        sip_peer_cidrs=list(profile.network.sip_peer_cidrs),
        admin_cidrs=list(profile.network.admin_cidrs),
        rtp_port_min=profile.network.rtp_port_min,
        rtp_port_max=profile.network.rtp_port_max,
        resolvers=resolvers,
        time_servers=time_servers,
        internet=internet,
        log_collector_port=int(collector.rpartition(":")[2]) if collector else None,
    )
