"""SSH: keys only, no root password login, modern algorithms, and ssh-audit finds nothing to fail."""

from __future__ import annotations

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from policies.host.base import HostContext, host_check

MODERN = {
    "kexalgorithms": {
        "sntrup761x25519-sha512@openssh.com",
        "curve25519-sha256",
        "curve25519-sha256@libssh.org",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group-exchange-sha256",
    },
    "ciphers": {
        "chacha20-poly1305@openssh.com",
        "aes256-gcm@openssh.com",
        "aes128-gcm@openssh.com",
        "aes256-ctr",
        "aes192-ctr",
        "aes128-ctr",
    },
    "macs": {"hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"},
}


def sshd_effective(ctx: HostContext) -> dict[str, str]:
    """`sshd -T`: the configuration sshd really runs with (first value of each keyword)."""
    out = ctx.host.check_output("sshd -T")
    conf: dict[str, str] = {}
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        conf.setdefault(key.lower(), value.strip())
    return conf


@host_check(
    "AVG-HOST-SSH-001",
    "SSH accepts public keys only: no password or keyboard-interactive login",
    ("32(1)(b)", "5(1)(f)"),
    Severity.HIGH,
    "Passwords on an internet-facing management port can be guessed; keys cannot.",
    "Set PasswordAuthentication no, KbdInteractiveAuthentication no, AuthenticationMethods publickey.",
)
def keys_only(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    conf = sshd_effective(ctx)
    observed = {k: conf.get(k) for k in ("passwordauthentication", "kbdinteractiveauthentication")}
    observed["authenticationmethods"] = conf.get("authenticationmethods")
    ok = observed["passwordauthentication"] == "no" and observed["kbdinteractiveauthentication"] == "no"
    ok = ok and observed["authenticationmethods"] in ("publickey", "any")
    status = Status.PASS if ok else Status.FAIL
    return [ctx.finding(meta, status, "sshd -T authentication settings", observed=observed)]


@host_check(
    "AVG-HOST-SSH-002",
    "Root cannot log in with a password over SSH",
    ("32(1)(b)",),
    Severity.HIGH,
    "A root password login is the most attacked account on any server.",
    "Set PermitRootLogin no (or prohibit-password) and keep administrators in the admin group.",
)
def no_root_password(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    value = sshd_effective(ctx).get("permitrootlogin")
    ok = value in ("no", "prohibit-password", "without-password", "forced-commands-only")
    status = Status.PASS if ok else Status.FAIL
    return [ctx.finding(meta, status, f"PermitRootLogin {value}", observed=value)]


@host_check(
    "AVG-HOST-SSH-003",
    "SSH offers only modern key exchange, ciphers and MACs",
    ("32(1)(a)", "5(1)(f)"),
    Severity.MEDIUM,
    "Weak algorithms (SHA-1, CBC, NIST curves of doubtful origin) let an attacker read or alter sessions.",
    "Limit KexAlgorithms, Ciphers and MACs to the modern set in the ssh_hardening role defaults.",
)
def modern_algorithms(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    conf = sshd_effective(ctx)
    extra = {}
    for key, allowed in MODERN.items():
        offered = set(filter(None, conf.get(key, "").split(",")))
        if offered - allowed:
            extra[key] = sorted(offered - allowed)
    status = Status.FAIL if extra else Status.PASS
    msg = "algorithms outside the modern set: " + str(extra) if extra else "only modern algorithms offered"
    return [ctx.finding(meta, status, msg, observed=extra or None)]


@host_check(
    "AVG-HOST-SSH-004",
    "ssh-audit reports no failures against the SSH server",
    ("32(1)(a)",),
    Severity.MEDIUM,
    "An independent scanner confirms from the network what the configuration claims.",
    "Remove every algorithm ssh-audit marks as fail (see the probe output in the lab logs).",
)
def ssh_audit_clean(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    probe = ctx.probes.get("ssh_audit")
    if not probe or probe.get("error"):
        why = probe.get("error") if probe else "ssh-audit was not run"
        return [ctx.finding(meta, Status.NOT_VERIFIED, f"ssh-audit: {why}")]
    fails = probe["fail"]
    status = Status.FAIL if fails else Status.PASS
    msg = f"ssh-audit: {len(fails)} failures, {len(probe['warn'])} warnings"
    return [ctx.finding(meta, status, msg, observed={"fail": fails, "warn": probe["warn"]})]


@host_check(
    "AVG-HOST-SSH-005",
    "SSH logins are limited to the admin group",
    ("32(1)(b)", "25"),
    Severity.MEDIUM,
    "Only administrators named in the profile's admin group may reach a shell on a SIP server.",
    "Set AllowGroups to avg_voip_admin_group.",
)
def allow_groups(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    value = sshd_effective(ctx).get("allowgroups", "")
    group = ctx.hostvars.get("avg_voip_admin_group")
    ok = bool(value) and value.split() == [group]
    status = Status.PASS if ok else Status.FAIL
    return [ctx.finding(meta, status, f"AllowGroups {value or '(unset)'}", observed=value, expected=group)]
