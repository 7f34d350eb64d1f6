"""One findings file and one summary per stack: the plan verdict and the lab's host findings together."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from avg_voip.audit import write_together
from avg_voip.findings import Finding, Status
from avg_voip.lab import config
from avg_voip.lab.config import LabPaths


def counts(findings: list[Finding]) -> Counter[str]:
    return Counter(f.status.value for f in findings)


def host_rules() -> dict[str, dict[str, Any]]:
    from avg_voip.lab.flow import CONVERGES, IDEMPOTENT
    from policies.host.base import meta_by_id

    metas = {**meta_by_id(), CONVERGES.id: CONVERGES, IDEMPOTENT.id: IDEMPOTENT}
    return {rid: m.to_dict() for rid, m in sorted(metas.items())}


def write(
    stack: str,
    paths: LabPaths,
    findings: list[Finding],
    figures: dict[str, Any],
    lab: dict[str, Any],
    probe_results: dict[str, Any],
    lynis_results: dict[str, Any],
) -> list[str]:
    out = config.REPO_ROOT / "reports" / stack / "lab"
    plan_doc: dict[str, Any] = {}
    plan_file = out.parent / "findings.json"
    if plan_file.exists():
        plan_doc = json.loads(plan_file.read_text())
    host_docs = [f.to_dict() for f in sorted(findings, key=Finding.sort_key)]
    combined = [*plan_doc.get("findings", []), *host_docs]
    summary = dict(sorted(Counter(f["status"] for f in combined).items()))
    doc = {
        "stack": stack,
        "sources": {"plan": plan_doc.get("source"), "host": "lab (systemd-nspawn Debian 12 hosts)"},
        "summary": summary,
        "summary_host": dict(sorted(counts(findings).items())),
        "rules": {**plan_doc.get("rules", {}), **host_rules()},
        "findings": combined,
        "lab": {"overrides": lab.get("overrides"), "figures": figures, "lynis": lynis_results},
    }
    files = {
        out / "findings.json": json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n",
        out / "probes.json": json.dumps(probe_results, indent=2, sort_keys=True, default=str) + "\n",
        out / "figures.json": json.dumps(figures, indent=2, sort_keys=True, default=str) + "\n",
        out / "summary.md": summary_markdown(stack, doc, findings, figures, lynis_results),
    }
    write_together(files)
    return [str(p.relative_to(config.REPO_ROOT)) for p in files]


def summary_markdown(
    stack: str, doc: dict[str, Any], host: list[Finding], figures: dict[str, Any], lyn: dict[str, Any]
) -> str:
    c = doc["summary"]
    rules = doc["rules"]
    lines = [
        f"# AVG verdict for stack `{stack}`: plan and lab hosts",
        "",
        "| PASS | FAIL | NOT-VERIFIED | MANUAL |",
        "|---|---|---|---|",
        f"| {c.get('PASS', 0)} | {c.get('FAIL', 0)} | {c.get('NOT-VERIFIED', 0)} | {c.get('MANUAL', 0)} |",
        "",
        "NOT-VERIFIED is never counted as PASS. Host findings come from Debian 12 lab hosts converged with the",
        "playbook; what a container cannot show (auditd runtime, dm-crypt) is NOT-VERIFIED with the reason.",
        "",
        "## Lab figures",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    for key, value in figures.items():
        lines.append(f"| {key} | {value} |")
    lines += [
        "",
        "## Lynis hardening index (tracked, not judged)",
        "",
        "| host | index | warnings |",
        "|---|---|---|",
    ]
    for name, r in lyn.items():
        lines.append(
            f"| {name} | {r.get('hardening_index', r.get('error'))} | {len(r.get('warnings', []))} |"
        )
    lines += [
        "",
        "## Host findings",
        "",
        "| status | rule | AVG | target | finding |",
        "|---|---|---|---|---|",
    ]
    order = {Status.FAIL: 0, Status.NOT_VERIFIED: 1, Status.MANUAL: 2, Status.PASS: 3}
    for f in sorted(host, key=lambda f: (order[f.status], f.sort_key())):
        arts = ", ".join(rules.get(f.rule_id, {}).get("articles", []))
        msg = f.message.replace("|", "\\|").replace("\n", " ")[:300]
        lines.append(f"| {f.status.value} | {f.rule_id} | {arts} | `{f.target}` | {msg} |")
    plan = [f for f in doc["findings"] if f.get("source") != "host"]
    lines += ["", f"## Plan findings ({len(plan)}): see reports/{stack}/summary.md", ""]
    return "\n".join(lines)
