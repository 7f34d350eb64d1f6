"""The lab steps as the CLI runs them: up, converge, reboot, verify, and the whole demo flow."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from avg_voip.lab import config, hosts, inventory, lifecycle, lynis, probes, report
from avg_voip.lab import converge as converge_mod
from avg_voip.lab.config import LabHost, LabPaths
from avg_voip.lab.lifecycle import Log
from avg_voip.lab.state import LabState, lab_lock
from avg_voip.lab.system import LabError

IDEMPOTENT = RuleMeta(
    "AVG-HOST-CONV-001",
    "A second run of the playbook changes nothing",
    ("32(1)(d)", "5(2)"),
    Severity.MEDIUM,
    "A playbook that changes something on every run hides real drift and cannot prove the hosts' state.",
    "Make the tasks listed in the second run's log idempotent (changed_when, validated templates).",
)
CONVERGES = RuleMeta(
    "AVG-HOST-CONV-002",
    "The playbook converges the hosts without a failed task",
    ("32(1)",),
    Severity.HIGH,
    "Every host control is applied by the playbook: a failed task leaves controls missing.",
    "Fix the failed tasks listed in the converge log.",
)


def up(stack: str, paths: LabPaths, log: Log, rebuild_rootfs: bool = False, render: bool = True) -> None:
    lifecycle.require_lab()
    if render:
        ansible_dir, plan_exit = inventory.render(stack)
        log(f"render + plan rules of {stack}: verdict exit {plan_exit} (reports/{stack}/findings.json)")
    else:
        ansible_dir = inventory.render_dir(stack)
    paths.root.mkdir(parents=True, exist_ok=True)
    inv = inventory.build(stack, ansible_dir, paths)
    inventory.write(inv, paths)
    for o in inv.overrides:
        log(f"override {o['variable']}: {o['rendered']} -> {o['lab']} ({o['why']})")
    with lab_lock():
        figures = lifecycle.up(inv, paths, log, rebuild_rootfs=rebuild_rootfs)
    lifecycle.save_lab(paths, inv, figures)


def _update_lab(paths: LabPaths, key: str, value: Any) -> None:
    data = json.loads(paths.lab_json.read_text())
    data[key] = value
    paths.lab_json.write_text(json.dumps(data, indent=2, default=str))


def converge(paths: LabPaths, log: Log, runs: int = 2) -> list[converge_mod.ConvergeRun]:
    lab = lifecycle.load_lab(paths)
    inv_path = config.REPO_ROOT / lab["inventory"] if lab.get("inventory") else None
    if inv_path is None or not inv_path.exists():
        raise LabError("the lab inventory is missing: run `avg-voip lab up` first")
    if not converge_mod.playbook_path().exists():
        raise LabError(f"{converge_mod.playbook_path()} does not exist")
    results = []
    for n in range(1, runs + 1):
        log(f"converge {n}: ansible-playbook ansible/site.yml on {len(lab['lab_hosts'])} hosts ...")
        r = converge_mod.run_playbook(inv_path, paths, n)
        results.append(r)
        log(
            f"converge {n}: {r.seconds:.1f} s, exit {r.returncode}, changed={r.changed}, "
            f"recap {r.recap or 'missing'} (log {r.log})"
        )
        for t in r.failed_tasks[:15]:
            log(f"  failed: {t}")
        if n > 1:
            for t in r.changed_tasks[:15]:
                log(f"  changed on run {n}: {t}")
        if not r.ok:
            _collect_journals(paths, lab["lab_hosts"], n, log)
            break
    _update_lab(paths, "converge", [r.to_dict() for r in results])
    return results


def _collect_journals(paths: LabPaths, lab_hosts: list[LabHost], run: int, log: Log) -> None:
    """Failed units and the journal's last lines of every host, beside the converge log, to see why."""
    for host in lab_hosts:
        cmd = "systemctl --failed --no-pager; sudo journalctl -b --no-pager -n 200 -o short-monotonic"
        out = hosts.ssh(paths, host, cmd, check=False, timeout=60)
        dest = paths.logs / f"journal-{host.name}-converge-{run}.log"
        dest.write_text(out.stdout + out.stderr)
        log(f"  journal of {host.name}: {dest}")


def converge_ok(runs: list[converge_mod.ConvergeRun]) -> bool:
    return bool(runs) and all(r.ok for r in runs) and (len(runs) < 2 or runs[-1].changed == 0)


def converge_findings(stack: str, data: list[dict[str, Any]] | None) -> list[Finding]:
    target = f"lab:{stack}"
    if not data:
        why = "the playbook was not run in this lab"
        return [
            Finding(m.id, Status.NOT_VERIFIED, target, why, source="host") for m in (CONVERGES, IDEMPOTENT)
        ]
    out = []
    failed = [t for r in data for t in r["failed_tasks"]]
    ok = all(r["returncode"] == 0 and r["recap"] for r in data)
    msg = f"{len(data)} runs; failed tasks: {failed[:10]}" if not ok else f"{len(data)} runs without failure"
    out.append(Finding(CONVERGES.id, Status.PASS if ok else Status.FAIL, target, msg, source="host"))
    if len(data) < 2 or not ok:
        out.append(Finding(IDEMPOTENT.id, Status.NOT_VERIFIED, target, "no clean second run", source="host"))
    else:
        last = data[-1]
        status = Status.PASS if last["changed"] == 0 else Status.FAIL
        msg = f"run {last['run']}: changed={last['changed']}" + (
            f" ({last['changed_tasks'][:10]})" if last["changed"] else ""
        )
        out.append(Finding(IDEMPOTENT.id, status, target, msg, source="host"))
    return out


@dataclass
class RebootResult:
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.hosts) and all(
            not r.get("error")
            and r.get("boot_id_changed")
            and all(r["after"]["units"].values())
            and r["after"]["firewall_drop"]
            and r["after"]["options_tls_answered"]
            for r in self.hosts.values()
        )


def _after_boot(paths: LabPaths, host: LabHost, domain: str) -> dict[str, Any]:
    units: dict[str, bool] = {}
    from policies.host.checks.reboot import SERVICES
    from policies.host.checks.retention import retention_timer

    tinfra = _testinfra_host(paths, host)
    from policies.host.base import HostContext

    ctx = HostContext(host.name, host.address, tinfra, {})
    timer, _ = retention_timer(ctx)
    # Units may still be starting right after SSH answers: give them up to 60 s.
    deadline = time.monotonic() + 60
    for unit in [*SERVICES, *([timer] if timer else [])]:
        while not (active := tinfra.service(unit).is_running) and time.monotonic() < deadline:
            time.sleep(1)
        units[unit] = active
    from policies.host.checks.firewall import drop_chains, ruleset

    opts = probes.sipsak_options_tls(host.address)
    return {
        "units": units,
        "firewall_drop": bool(drop_chains(ruleset(ctx))),
        "options_tls_answered": bool(opts.get("answered")),
        "options_tls": opts.get("status_line") or opts.get("error"),
    }


def reboot_and_check(paths: LabPaths, log: Log) -> RebootResult:
    lab = lifecycle.load_lab(paths)
    domain = _hostvars(lab).get("avg_voip_sip_domain", "")
    state = LabState()
    result = RebootResult()
    for host in lab["lab_hosts"]:
        try:
            r = hosts.reboot(state, host, paths)
            r["after"] = _after_boot(paths, host, domain)
        except LabError as exc:
            r = {"error": str(exc)}
        result.hosts[host.name] = r
        log(f"reboot {host.name}: {r}")
    _update_lab(paths, "reboot", result.hosts)
    return result


def _hostvars(lab: dict[str, Any]) -> dict[str, Any]:
    import yaml

    inv = yaml.safe_load((config.REPO_ROOT / lab["inventory"]).read_text())
    return dict(inv["all"]["children"]["sip_servers"]["vars"])


def _testinfra_host(paths: LabPaths, host: LabHost) -> Any:
    import testinfra

    (paths.ssh_dir / "cp").mkdir(parents=True, exist_ok=True)
    return testinfra.get_host(
        f"ssh://{host.address}",
        ssh_config=str(paths.ssh_config),
        sudo=True,
        controlpath=str(paths.ssh_dir / "cp" / f"ti-{host.name}"),
    )


@dataclass
class VerifyResult:
    stack: str
    findings: list[Finding]
    figures: dict[str, Any]
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Everything that can be verified here passed: no FAIL, and NOT-VERIFIED only for lab limits."""
        return not any(
            f.status is Status.FAIL or (f.status is Status.NOT_VERIFIED and not f.extra.get("lab_limitation"))
            for f in self.findings
        )


def _verify_host(
    paths: LabPaths, host: LabHost, hostvars: dict[str, Any], probe_results: dict[str, Any], reboot: Any
) -> dict[str, Any]:
    from policies.host import HostContext, run_checks

    start = time.monotonic()
    if reboot:
        probe_results["reboot"] = reboot
    ctx = HostContext(host.name, host.address, _testinfra_host(paths, host), hostvars, probes=probe_results)
    findings = run_checks(ctx)
    check_seconds = time.monotonic() - start
    t0 = time.monotonic()
    lyn = lynis.run(paths, host)
    return {
        "findings": findings,
        "probes": {k: v for k, v in probe_results.items() if not k.startswith("_")},
        "lynis": lyn,
        "seconds": {"checks": round(check_seconds, 1), "lynis": round(time.monotonic() - t0, 1)},
    }


def verify(paths: LabPaths, log: Log) -> VerifyResult:
    lab = lifecycle.load_lab(paths)
    stack = lab["stack"]
    hostvars = _hostvars(lab)
    start = time.monotonic()
    log(f"verify: host policies, probes and lynis on {', '.join(h.name for h in lab['lab_hosts'])} ...")
    # Network probes one host at a time (TLS scans are bursty; two at once on a small machine time out),
    # then the host checks and lynis on all hosts at once.
    probe_results: dict[str, dict[str, Any]] = {}
    for h in lab["lab_hosts"]:
        t0 = time.monotonic()
        probe_results[h.name] = probes.run_all(h.address, hostvars.get("avg_voip_sip_domain", ""))
        log(f"probes {h.name}: {time.monotonic() - t0:.1f} s")
    with ThreadPoolExecutor(max_workers=len(lab["lab_hosts"])) as pool:
        futures = {
            h.name: pool.submit(
                _verify_host, paths, h, hostvars, probe_results[h.name], (lab.get("reboot") or {}).get(h.name)
            )
            for h in lab["lab_hosts"]
        }
        per_host = {name: f.result() for name, f in futures.items()}
    findings = [f for r in per_host.values() for f in r["findings"]]
    findings += converge_findings(stack, lab.get("converge"))
    figures = dict(lab.get("figures", {}))
    figures["converge_seconds"] = [r["seconds"] for r in lab.get("converge") or []]
    figures["verify_seconds"] = round(time.monotonic() - start, 1)
    figures["verify_seconds_per_host"] = {n: r["seconds"] for n, r in per_host.items()}
    figures["lynis_hardening_index"] = {n: r["lynis"].get("hardening_index") for n, r in per_host.items()}
    for name, r in per_host.items():
        if r["lynis"].get("error"):
            log(f"lynis {name}: {r['lynis']['error']}")
    result = VerifyResult(stack, findings, figures)
    result.files = report.write(
        stack,
        paths,
        findings,
        figures,
        lab,
        {n: r["probes"] for n, r in per_host.items()},
        {n: r["lynis"] for n, r in per_host.items()},
    )
    counts = report.counts(findings)
    log(
        f"verify: {counts.get('PASS', 0)} PASS, {counts.get('FAIL', 0)} FAIL, "
        f"{counts.get('NOT-VERIFIED', 0)} NOT-VERIFIED in {figures['verify_seconds']} s; "
        f"lynis index {figures['lynis_hardening_index']}"
    )
    for f in findings:
        if f.status is Status.FAIL or (f.status is Status.NOT_VERIFIED and not f.extra.get("lab_limitation")):
            log(f"  {f.status.value} {f.rule_id} {f.target}: {f.message[:220]}")
    log(f"findings: {', '.join(result.files)}")
    return result


def _auditor_report(stack: str, log: Log) -> None:
    """The auditor's report of the stack with the lab's host findings in it (`avg-voip report`)."""
    import subprocess
    import sys

    cli = config.REPO_ROOT / "scripts" / "avg-voip"
    host_file = config.REPO_ROOT / "reports" / stack / "lab" / "findings.json"
    cmd = [sys.executable, str(cli), "report", "--stack", stack, "--host-findings", str(host_file)]
    proc = subprocess.run(cmd, cwd=config.REPO_ROOT, capture_output=True, text=True, check=False)
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
    log(f"auditor report with host findings: exit {proc.returncode} ({tail[0][:200]})")


def demo(stack: str, paths: LabPaths, log: Log, keep: bool = False, rebuild_rootfs: bool = False) -> int:
    """render + plan rules, lab up, converge twice, reboot, host policies and probes, report, lab down."""
    ok = False
    try:
        with lifecycle.signals_raise():
            t0 = time.monotonic()
            up(stack, paths, log, rebuild_rootfs=rebuild_rootfs)
            runs = converge(paths, log, runs=2)
            if all(r.ok for r in runs):
                reboot_and_check(paths, log)
            else:
                log("converge failed: skipping the reboot check")
            result = verify(paths, log)
            _auditor_report(stack, log)
            ok = result.ok and converge_ok(runs)
            _update_lab(paths, "demo_seconds", round(time.monotonic() - t0, 1))
            log(f"demo {'passed' if ok else 'FAILED'}: {stack} in {time.monotonic() - t0:.0f} s")
    finally:
        if not keep:
            lifecycle.down(paths, log)
    return 0 if ok else 1
