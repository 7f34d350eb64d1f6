"""SIP over TLS on 5061: answered, TLS 1.2+ with strong ciphers only, SRTP required (RTP/AVP gets 488)."""

from __future__ import annotations

from typing import Any

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from policies.host.base import HostContext, host_check


def _probe(ctx: HostContext, name: str) -> tuple[dict[str, Any] | None, str | None]:
    probe = ctx.probes.get(name)
    if not probe:
        return None, f"{name} was not run"
    if probe.get("error"):
        return None, f"{name}: {probe['error']}"
    return probe, None


@host_check(
    "AVG-HOST-SIP-001",
    "An OPTIONS request over TLS on 5061 is answered",
    ("32(1)(a)",),
    Severity.HIGH,
    "Signalling is only protected if the TLS listener is the one that works.",
    "Run Kamailio with its TLS module listening on 5061 (kamailio role).",
)
def options_over_tls(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    probe, why = _probe(ctx, "sipsak_options_tls")
    if probe is None:
        return [ctx.finding(meta, Status.NOT_VERIFIED, why or "")]
    status = Status.PASS if probe.get("answered") else Status.FAIL
    return [ctx.finding(meta, status, f"sipsak OPTIONS over TLS: {probe.get('status_line')}", observed=probe)]


WEAK_MARKERS = ("NULL", "EXPORT", "RC4", "_DES_", "3DES", "MD5", "_anon_", "ADH", "AECDH")


def weak_suite(name: str) -> bool:
    """A suite without forward secrecy (static RSA key exchange) or with a broken primitive."""
    return any(m in name for m in WEAK_MARKERS) or name.startswith("TLS_RSA_")


@host_check(
    "AVG-HOST-SIP-002",
    "TLS on 5061 refuses protocols below TLS 1.2 and weak cipher suites (sslyze)",
    ("32(1)(a)", "5(1)(f)"),
    Severity.HIGH,
    "SSL 3.0, TLS 1.0/1.1 and weak suites can be downgraded or broken; call signalling would be readable.",
    "Set method TLSv1.2+ and a cipher_list without static-RSA, CBC-SHA1, RC4, 3DES in kamailio tls.cfg.",
)
def tls_versions_and_ciphers(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    probe, why = _probe(ctx, "sslyze")
    if probe is None:
        return [ctx.finding(meta, Status.NOT_VERIFIED, why or "")]
    accepted: dict[str, list[str]] = probe["accepted"]
    old = {v: s for v, s in accepted.items() if v in ("ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1") and s}
    weak = sorted({s for v, suites in accepted.items() for s in suites if weak_suite(s)})
    modern = [v for v in ("tls_1_2", "tls_1_3") if accepted.get(v)]
    ok = not old and not weak and bool(modern)
    msg = f"accepted versions: {modern + sorted(old)}; weak suites: {weak or 'none'}"
    return [ctx.finding(meta, Status.PASS if ok else Status.FAIL, msg, observed={"old": old, "weak": weak})]


@host_check(
    "AVG-HOST-SIP-003",
    "A plaintext SIP request is refused",
    ("32(1)(a)",),
    Severity.HIGH,
    "A server that answers plaintext SIP invites clients to send numbers and call data unencrypted.",
    "Listen only on TLS; do not add a TCP or UDP listener for SIP.",
)
def plaintext_refused(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    probe, why = _probe(ctx, "plaintext_5060")
    on_tls_port, why2 = _probe(ctx, "plaintext_on_5061")
    if probe is None or on_tls_port is None:
        return [ctx.finding(meta, Status.NOT_VERIFIED, why or why2 or "")]
    answered = [
        where
        for where, ok in (
            ("tcp/5060", probe.get("tcp") == "connected" and probe.get("tcp_sip_answer")),
            ("udp/5060", probe.get("udp") == "answered"),
            ("tcp/5061 without TLS", on_tls_port.get("sip_answer")),
        )
        if ok
    ]
    status = Status.FAIL if answered else Status.PASS
    msg = f"plaintext SIP answered on {answered}" if answered else "plaintext OPTIONS got no SIP answer"
    return [ctx.finding(meta, status, msg, observed={"5060": probe, "5061": on_tls_port})]


@host_check(
    "AVG-HOST-SIP-004",
    "An INVITE whose SDP offers plain RTP (RTP/AVP) is rejected with 488",
    ("32(1)(a)", "5(1)(f)"),
    Severity.HIGH,
    "Media without SRTP carries the conversation itself in clear text.",
    "Reject offers without RTP/SAVP (or SAVPF) with 488 Not Acceptable Here in the Kamailio route.",
)
def invite_rtp_avp_rejected(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    probe, why = _probe(ctx, "invite_rtp_avp")
    if probe is None:
        return [ctx.finding(meta, Status.NOT_VERIFIED, why or "")]
    status = Status.PASS if probe.get("code") == 488 else Status.FAIL
    return [ctx.finding(meta, status, f"INVITE with RTP/AVP: {probe.get('status_line')}", observed=probe)]


@host_check(
    "AVG-HOST-SIP-005",
    "An INVITE whose SDP offers SRTP (RTP/SAVP) is not rejected for its media transport",
    ("32(1)(a)",),
    Severity.MEDIUM,
    "The SRTP requirement must not block the encrypted calls it is meant to allow.",
    "Accept RTP/SAVP offers in the Kamailio route; only plain RTP gets 488.",
)
def invite_rtp_savp_accepted(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    probe, why = _probe(ctx, "invite_rtp_savp")
    if probe is None:
        return [ctx.finding(meta, Status.NOT_VERIFIED, why or "")]
    code = probe.get("code")
    status = Status.PASS if code is not None and code not in (488, 606) else Status.FAIL
    return [ctx.finding(meta, status, f"INVITE with RTP/SAVP: {probe.get('status_line')}", observed=probe)]
