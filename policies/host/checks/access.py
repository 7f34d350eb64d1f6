"""Access to recordings: reviewer group only, reads audited; auditd runtime and dm-crypt where observable."""

from __future__ import annotations

import shlex

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from policies.host.base import HostContext, host_check

NO_AUDIT_IN_CONTAINER = (
    "the kernel audit subsystem is not namespaced: auditd cannot run inside a container (lab host)"
)
NO_DMCRYPT_IN_CONTAINER = "no device-mapper in the lab: a LUKS volume cannot be opened inside a container"


def category_paths(ctx: HostContext) -> list[str]:
    root = ctx.hostvars["avg_voip_recordings_root"].rstrip("/")
    paths = [root]
    for cat in ctx.hostvars.get("avg_voip_recording_categories") or []:
        p = cat["path"]
        paths.append(p if p.startswith("/") else f"{root}/{p}")
    return paths


@host_check(
    "AVG-HOST-ACC-001",
    "Recordings are readable only by the reviewer group",
    ("32(1)(b)", "5(1)(f)", "25"),
    Severity.HIGH,
    "Recordings are the most sensitive data on the platform; access follows the roles in the profile.",
    "Own the recordings tree by root:<reviewer group>, mode 2750 (dirs) / 0640 (files), nothing for others.",
)
def reviewer_only(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    group = ctx.hostvars["avg_voip_reviewer_group"]
    out: list[Finding] = []
    for path in category_paths(ctx):
        f = ctx.host.file(path)
        if not f.exists:
            out.append(ctx.finding(meta, Status.FAIL, f"{path} does not exist"))
            continue
        mode = f.mode
        acl = ctx.host.run(f"getfacl -cp --skip-base {shlex.quote(path)}").stdout.strip()
        ok = f.group == group and mode & 0o007 == 0
        observed = {"owner": f.user, "group": f.group, "mode": oct(mode), "extended_acl": acl or None}
        msg = f"{path} {f.user}:{f.group} {oct(mode)}"
        out.append(
            ctx.finding(meta, Status.PASS if ok else Status.FAIL, msg, observed=observed, expected=group)
        )
    return out


def audit_rules_text(ctx: HostContext) -> tuple[list[str], list[str]]:
    """The rules as augenrules compiles them: rules.d/*.rules in version order, the last -e moved to the end."""
    names = ctx.host.check_output("ls -1v /etc/audit/rules.d/ 2>/dev/null || true").split()
    files = [f"/etc/audit/rules.d/{n}" for n in names if n.endswith(".rules")]
    lines: list[str] = []
    minus_e = None
    for f in files:
        for raw in ctx.host.file(f).content_string.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("-e"):
                minus_e = line
                continue
            lines.append(line)
    if minus_e:
        lines.append(minus_e)
    return files, lines


@host_check(
    "AVG-HOST-ACC-002",
    "Audit rules watch reads of the recordings and end locked (-e 2 last, as augenrules compiles them)",
    ("30", "32(1)(b)", "5(2)"),
    Severity.HIGH,
    "Who listened to or exported which recording must be on a tamper-resistant record.",
    "Add -w <recordings root> -p r -k avg_voip_recordings and end the rules with -e 2 (audit_logging role).",
)
def audit_rules(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    root = ctx.hostvars["avg_voip_recordings_root"].rstrip("/")
    files, lines = audit_rules_text(ctx)
    watches = [
        ln
        for ln in lines
        if (f"-w {root}" in ln and "-p" in ln and "r" in ln.split("-p", 1)[1].split()[0])
        or (f"dir={root}" in ln and "perm=" in ln and "r" in ln.split("perm=", 1)[1].split()[0])
    ]
    locked = bool(lines) and lines[-1] == "-e 2"
    ok = bool(watches) and locked
    observed = {"files": files, "read_watches": watches, "last_line": lines[-1] if lines else None}
    msg = f"read watches on {root}: {len(watches)}; ends with -e 2: {locked}"
    return [ctx.finding(meta, Status.PASS if ok else Status.FAIL, msg, observed=observed)]


@host_check(
    "AVG-HOST-ACC-003",
    "auditd runs with the rules loaded and immutable",
    ("30", "32(1)(b)"),
    Severity.HIGH,
    "Rules on disk record nothing unless the kernel audit system has loaded them.",
    "Enable auditd; check `auditctl -s` reports enabled 2.",
)
def auditd_runtime(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    if ctx.lab:
        fact = ctx.fact_not_verified("audit")
        reason = f"{NO_AUDIT_IN_CONTAINER}" + (f" (role: {fact[0]}: {fact[1]})" if fact else "")
        return [ctx.finding(meta, Status.NOT_VERIFIED, reason, extra={"lab_limitation": True})]
    status = ctx.host.run("auditctl -s")
    enabled = "enabled 2" in status.stdout
    return [ctx.finding(meta, Status.PASS if enabled else Status.FAIL, status.stdout.strip()[:200])]


@host_check(
    "AVG-HOST-ENC-001",
    "The recordings volume is encrypted at rest",
    ("32(1)(a)", "5(1)(f)"),
    Severity.CRITICAL,
    "A lost or copied disk must not disclose recordings.",
    "LUKS2 on the recordings volume (Hetzner) or a customer-managed KMS key on the volume (AWS).",
)
def recordings_encrypted(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    mode = ctx.hostvars.get("avg_voip_recordings_encryption")
    if mode == "provider":
        why = (
            "encrypted by the cloud provider's volume encryption: verified by the plan rules, not on the host"
        )
        return [ctx.finding(meta, Status.NOT_VERIFIED, why, extra={"lab_limitation": True})]
    if ctx.lab:
        fact = ctx.fact_not_verified("crypt", "luks")
        reason = NO_DMCRYPT_IN_CONTAINER + (f" (role: {fact[0]}: {fact[1]})" if fact else "")
        return [ctx.finding(meta, Status.NOT_VERIFIED, reason, extra={"lab_limitation": True})]
    root = ctx.hostvars["avg_voip_recordings_root"]
    src = ctx.host.run(f"findmnt -no SOURCE {shlex.quote(root)}").stdout.strip()
    kind = ctx.host.run(f"lsblk -no TYPE {shlex.quote(src)}").stdout.strip() if src else ""
    ok = kind == "crypt"
    return [ctx.finding(meta, Status.PASS if ok else Status.FAIL, f"{root} on {src or '?'} ({kind or '?'})")]
