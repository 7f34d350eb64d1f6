"""Retention: the deletion timer removes recordings older than their category's retention, by mtime."""

from __future__ import annotations

import re
import shlex
import time
import uuid
from typing import Any

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from policies.host.base import HostContext, host_check

DAY = 86400


def retention_timer(ctx: HostContext) -> tuple[str | None, str | None]:
    """(timer, service) of the recordings deletion, found by name among the host's timers."""
    out = ctx.host.check_output("systemctl list-unit-files --type=timer --no-legend --no-pager")
    timers = [line.split()[0] for line in out.splitlines() if line.strip()]
    for timer in timers:
        if "retention" in timer or ("recording" in timer and "delet" in timer):
            service = ctx.host.check_output(f"systemctl show -p Unit --value {shlex.quote(timer)}").strip()
            return timer, service or timer.replace(".timer", ".service")
    return None, None


@host_check(
    "AVG-HOST-RET-001",
    "A systemd timer runs the recordings deletion daily",
    ("5(1)(e)",),
    Severity.HIGH,
    "Storage limitation: deletion must happen automatically, not when someone remembers.",
    "Install and enable the recordings role's retention timer.",
)
def timer_enabled(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    timer, service = retention_timer(ctx)
    if timer is None:
        return [ctx.finding(meta, Status.FAIL, "no retention timer installed")]
    unit = ctx.host.service(timer)
    ok = unit.is_enabled and unit.is_running
    msg = f"{timer} (runs {service}): enabled={unit.is_enabled} active={unit.is_running}"
    return [ctx.finding(meta, Status.PASS if ok else Status.FAIL, msg, observed={"timer": timer})]


def _exercise(ctx: HostContext, service: str) -> dict[str, Any]:
    """Plant files per category, run the deletion service once, and see what is left.

    old: mtime two days past the retention -> must go. young: mtime at half the retention -> must stay.
    played: as old, then read just before the run (atime now) -> must go all the same (played != kept).
    """
    tag = uuid.uuid4().hex[:8]
    now = time.time()
    planted: list[dict[str, Any]] = []
    for cat in ctx.hostvars.get("avg_voip_recording_categories") or []:
        path, days = cat["path"], int(cat["retention_days"])
        if not path.startswith("/"):
            path = f"{ctx.hostvars['avg_voip_recordings_root'].rstrip('/')}/{path}"
        owner = ctx.host.check_output(f"stat -c %U:%G {shlex.quote(path)}").strip()
        cases = {"old": now - (days + 2) * DAY, "played": now - (days + 2) * DAY}
        if days >= 2:
            cases["young"] = now - (days / 2) * DAY
        for case, mtime in cases.items():
            f = f"{path}/avg-voip-lab-{tag}-{case}.wav"
            stamp = time.strftime("%Y%m%d%H%M.%S", time.localtime(mtime))
            ctx.host.check_output(
                f"head -c 4096 /dev/urandom > {shlex.quote(f)} && chown {owner} {shlex.quote(f)}"
                f" && touch -m -t {stamp} {shlex.quote(f)}"
            )
            planted.append({"category": cat["id"], "case": case, "file": f, "retention_days": days})
    for p in planted:
        if p["case"] == "played":
            ctx.host.check_output(
                f"cat {shlex.quote(p['file'])} > /dev/null && touch -a {shlex.quote(p['file'])}"
            )
    since = ctx.host.check_output("date '+%Y-%m-%d %H:%M:%S'").strip()
    run = ctx.host.run(f"systemctl start {shlex.quote(service)}")
    for p in planted:
        p["exists_after"] = ctx.host.file(p["file"]).exists
    journal = ctx.host.run(
        f"journalctl --no-pager -o cat -u {shlex.quote(service)} --since {shlex.quote(since)}"
    )
    for p in planted:
        if p["exists_after"]:
            ctx.host.run(f"rm -f {shlex.quote(p['file'])}")
    return {
        "planted": planted,
        "service_rc": run.rc,
        "service_err": run.stderr[-300:],
        "journal": journal.stdout,
    }


def _exercised(ctx: HostContext) -> dict[str, Any] | None:
    cached = ctx.probes.get("_retention_run")
    if cached is None:
        _, service = retention_timer(ctx)
        cached = ctx.probes["_retention_run"] = {
            "service": service,
            **(_exercise(ctx, service) if service else {}),
        }
    return cached if cached.get("service") else None


@host_check(
    "AVG-HOST-RET-002",
    "Recordings past their category's retention are deleted; younger ones stay; playing one does not keep it",
    ("5(1)(e)", "17"),
    Severity.HIGH,
    "Each purpose has its own retention; a recording kept past it has no ground left.",
    "Delete by modification time per category path with the category's retention_days (recordings role).",
)
def deletes_by_mtime(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    run = _exercised(ctx)
    if run is None:
        return [ctx.finding(meta, Status.FAIL, "no retention timer/service to run")]
    if run["service_rc"] != 0:
        msg = f"{run['service']} failed: {run['service_err']}"
        return [ctx.finding(meta, Status.FAIL, msg)]
    if not run["planted"]:
        return [
            ctx.finding(meta, Status.NOT_VERIFIED, "no recording categories on the hosts in this profile")
        ]
    wrong = [
        f"{p['category']}/{p['case']} {'kept' if p['exists_after'] else 'deleted'}"
        for p in run["planted"]
        if p["exists_after"] != (p["case"] == "young")
    ]
    status = Status.FAIL if wrong else Status.PASS
    cases = [f"{p['category']}/{p['case']}" for p in run["planted"]]
    msg = f"not as specified: {wrong}" if wrong else f"as specified for {', '.join(cases)}"
    return [ctx.finding(meta, status, msg, observed=run["planted"])]


@host_check(
    "AVG-HOST-RET-003",
    "Each deletion by the retention service is logged",
    ("5(2)", "30"),
    Severity.MEDIUM,
    "Accountability: the controller must be able to show that and when recordings were deleted.",
    "Log every deleted file (path, category, mtime) from the retention service to the journal.",
)
def deletion_logged(ctx: HostContext, meta: RuleMeta) -> list[Finding]:
    run = _exercised(ctx)
    if run is None or run.get("service_rc") != 0 or not run.get("planted"):
        return [
            ctx.finding(meta, Status.NOT_VERIFIED, "the retention service did not run; nothing to look for")
        ]
    deleted = [p for p in run["planted"] if not p["exists_after"]]
    journal = run["journal"]
    by_name = [p["file"] for p in deleted if p["file"].rsplit("/", 1)[-1] in journal]
    # A per-category count (e.g. "category=x ... deleted=2") also records the deletion, with less detail.
    counted = {
        p["category"]
        for p in deleted
        if re.search(rf"\b{re.escape(p['category'])}\b.*\bdeleted=[1-9]", journal)
    }
    missing = [p["file"] for p in deleted if p["file"] not in by_name and p["category"] not in counted]
    observed = {
        "journal": journal.strip().splitlines()[-10:],
        "named": len(by_name),
        "counted": sorted(counted),
    }
    if not deleted:
        return [
            ctx.finding(meta, Status.FAIL, "nothing was deleted, so nothing was logged", observed=observed)
        ]
    status = Status.FAIL if missing else Status.PASS
    if missing:
        msg = f"deletions missing from the journal: {missing}"
    elif len(by_name) == len(deleted):
        msg = f"{len(deleted)} deletions logged by file name"
    else:
        msg = f"{len(deleted)} deletions logged as per-category counts (file names not logged)"
    return [ctx.finding(meta, status, msg, observed=observed)]
