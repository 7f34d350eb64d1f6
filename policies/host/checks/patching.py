"""Patch state: unattended security upgrades configured, no pending security update, pending reboot shown."""

from __future__ import annotations

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from policies.host.base import HostContext, host_check


@host_check(
    "AVG-HOST-PATCH-001",
    "unattended-upgrades installs Debian security updates automatically",
    ("32(1)(b)", "32(1)(d)"),
    Severity.HIGH,
    "Known vulnerabilities must be closed without waiting for a person to log in.",
    "Install unattended-upgrades, enable APT::Periodic::Unattended-Upgrade and allow the security origin.",
)
def unattended_security(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    installed = ctx.host.package("unattended-upgrades").is_installed
    dump = ctx.host.check_output("apt-config dump")
    periodic = 'APT::Periodic::Unattended-Upgrade "1"' in dump
    origins = [
        line
        for line in dump.splitlines()
        if line.startswith(("Unattended-Upgrade::Origins-Pattern::", "Unattended-Upgrade::Allowed-Origins::"))
    ]
    security = any("security" in line.lower() for line in origins)
    timer = ctx.host.service("apt-daily-upgrade.timer").is_enabled
    observed = {"installed": installed, "periodic": periodic, "security_origin": security, "timer": timer}
    ok = installed and periodic and security and timer
    return [ctx.finding(meta, Status.PASS if ok else Status.FAIL, "unattended-upgrades", observed=observed)]


@host_check(
    "AVG-HOST-PATCH-002",
    "No Debian security update is pending (simulated upgrade against fresh package lists)",
    ("32(1)(b)", "32(1)(d)"),
    Severity.HIGH,
    "A host that is behind on security updates is exposed to published exploits.",
    "Run the patching role (apt upgrade) and keep unattended-upgrades enabled.",
)
def no_pending_security(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    update = ctx.host.run("apt-get update -qq")
    if update.rc != 0:
        why = f"apt-get update failed: {update.stderr.strip()[-200:]}"
        return [ctx.finding(meta, Status.NOT_VERIFIED, why)]
    sim = ctx.host.check_output("apt-get -s -o Debug::NoLocking=1 dist-upgrade")
    pending = [
        line.split()[1] for line in sim.splitlines() if line.startswith("Inst ") and "-security" in line
    ]
    status = Status.FAIL if pending else Status.PASS
    msg = f"{len(pending)} pending security updates" + (f": {', '.join(pending[:20])}" if pending else "")
    return [ctx.finding(meta, status, msg, observed=pending)]


@host_check(
    "AVG-HOST-PATCH-003",
    "No reboot is pending after updates (reboot-required reported when present)",
    ("32(1)(b)",),
    Severity.LOW,
    "An update that needs a reboot only protects once the host has rebooted into it.",
    "Let unattended-upgrades reboot in avg_voip_reboot_window, or reboot the host.",
)
def reboot_required(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    flag = ctx.host.file("/var/run/reboot-required")
    if not flag.exists:
        return [ctx.finding(meta, Status.PASS, "no reboot-required flag")]
    pkgs_file = ctx.host.file("/var/run/reboot-required.pkgs")
    pkgs = pkgs_file.content_string.split() if pkgs_file.exists else []
    return [
        ctx.finding(meta, Status.FAIL, f"reboot required by: {', '.join(pkgs) or 'unknown'}", observed=pkgs)
    ]
