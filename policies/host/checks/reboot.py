"""Services and firewall come back after a reboot."""

from __future__ import annotations

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from policies.host.base import HostContext, host_check

SERVICES = ("ssh", "nftables", "kamailio", "rtpengine-daemon")


@host_check(
    "AVG-HOST-BOOT-001",
    "After a reboot, SSH, the firewall, Kamailio, rtpengine and the retention timer are back",
    ("32(1)(b)", "32(1)(c)"),
    Severity.HIGH,
    "Security that only holds until the next reboot (e.g. after unattended upgrades) does not hold.",
    "Enable every service and the nftables ruleset at boot (systemctl enable).",
)
def back_after_reboot(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    reboot = ctx.probes.get("reboot")
    if not reboot:
        return [ctx.finding(meta, Status.NOT_VERIFIED, "the host was not rebooted in this run")]
    if reboot.get("error"):
        return [ctx.finding(meta, Status.FAIL, f"reboot: {reboot['error']}")]
    after = reboot.get("after", {})
    down = sorted(unit for unit, active in after.get("units", {}).items() if not active)
    problems = list(down)
    if not reboot.get("boot_id_changed"):
        problems.append("boot id unchanged (no real reboot)")
    if not after.get("firewall_drop"):
        problems.append("no input chain with policy drop")
    if not after.get("options_tls_answered"):
        problems.append("OPTIONS over TLS not answered")
    status = Status.FAIL if problems else Status.PASS
    msg = (
        f"not back after reboot: {problems}"
        if problems
        else f"all back {reboot.get('seconds')} s after reboot"
    )
    return [ctx.finding(meta, status, msg, observed=reboot)]
