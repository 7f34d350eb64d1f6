"""The main job: stack config in, AVG verdict with findings and evidence files out."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from avg_voip.findings import Finding, RuleMeta, Status
from avg_voip.profile import Profile
from avg_voip.records import RecordSet

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT, EXIT_NOT_VERIFIED = 0, 1, 2, 3
# What a plan verdict cannot say: said in summary.md and after the terminal table of `avg-voip audit`.
HOST_CHECKS_NOT_RUN = (
    "Host checks were not run: the controls on the servers themselves (LUKS, auditd, nftables, TLS and SRTP) "
    "are not judged by this plan audit, and the obligations they cover show NOT-VERIFIED in report.html and "
    "matrix.md until host findings are supplied (`avg-voip report --host-findings FILE`)"
)


@dataclass
class Verdict:
    stack: str
    records: RecordSet
    findings: list[Finding]
    profile: Profile | None

    @property
    def counts(self) -> Counter[str]:
        return Counter(f.status.value for f in self.findings)

    @property
    def exit_code(self) -> int:
        """1 on any FAIL; 3 when nothing failed but something automated was NOT-VERIFIED; MANUAL never fails."""
        c = self.counts
        if c[Status.FAIL.value]:
            return EXIT_VIOLATIONS
        if c[Status.NOT_VERIFIED.value]:
            return EXIT_NOT_VERIFIED
        return EXIT_OK


def judge(records: RecordSet, profile: Profile | None) -> Verdict:
    from policies.engine import evaluate
    from policies.manual import manual_findings

    findings = evaluate(records, profile)
    if profile is not None:
        findings += manual_findings(profile, records.stack)
    return Verdict(records.stack, records, sorted(findings, key=Finding.sort_key), profile)


def rule_catalogue() -> dict[str, RuleMeta]:
    from policies.engine import all_rules
    from policies.manual import MANUAL_RULES

    metas = [r.meta for r in all_rules()] + list(MANUAL_RULES)
    return {m.id: m for m in metas}


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _stage(path: Path, text: str) -> str:
    """Write `text` to a temporary sibling of `path`; the temporary file is gone again if writing fails.

    The temporary file gets the mode open() would give a new file (0o666 less the umask, typically 0644),
    not mkstemp's 0600, so the reports stay readable to whoever may read new files in that directory.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _atomic_write(path: Path, text: str) -> None:
    write_together({path: text})


def write_together(files: dict[Path, str]) -> list[Path]:
    """Write every file to a temporary sibling first, then rename them all: all land, or none do."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            staged.append((_stage(path, text), path))
        for _tmp, path in staged:
            if path.is_dir():
                raise IsADirectoryError(21, "Is a directory", str(path))
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    return [path for _, path in staged]


def findings_document(verdict: Verdict) -> dict[str, Any]:
    catalogue = rule_catalogue()
    used = sorted({f.rule_id for f in verdict.findings})
    return {
        "stack": verdict.stack,
        "source": verdict.records.source,
        "summary": dict(sorted(verdict.counts.items())),
        "exit_code": verdict.exit_code,
        "rules": {rid: catalogue[rid].to_dict() for rid in used if rid in catalogue},
        "findings": [f.to_dict() for f in verdict.findings],
    }


def summary_markdown(verdict: Verdict) -> str:
    catalogue = rule_catalogue()
    c = verdict.counts
    lines = [
        f"# AVG verdict for stack `{verdict.stack}`",
        "",
        f"Source: {verdict.records.source}; {len(verdict.records.records)} resources.",
        "",
        "| PASS | FAIL | NOT-VERIFIED | MANUAL |",
        "|---|---|---|---|",
        f"| {c['PASS']} | {c['FAIL']} | {c['NOT-VERIFIED']} | {c['MANUAL']} |",
        "",
        "NOT-VERIFIED is never counted as PASS. MANUAL rows are obligations no machine can check; each names its owner.",
        "",
        f"{HOST_CHECKS_NOT_RUN}.",
        "",
        "| status | rule | AVG | target | finding |",
        "|---|---|---|---|---|",
    ]
    order = {Status.FAIL: 0, Status.NOT_VERIFIED: 1, Status.MANUAL: 2, Status.PASS: 3}
    for f in sorted(verdict.findings, key=lambda f: (order[f.status], f.sort_key())):
        meta = catalogue.get(f.rule_id)
        arts = ", ".join(meta.articles) if meta else ""
        msg = f.message.replace("|", "\\|")
        owner = f" (owner: {f.extra['owner']})" if "owner" in f.extra else ""
        lines.append(f"| {f.status.value} | {f.rule_id} | {arts} | `{_short(f.target)}` | {msg}{owner} |")
    return "\n".join(lines) + "\n"


def _short(target: str) -> str:
    return target.split("::")[-1] if target.startswith("urn:") else target


def ansible_files(records: RecordSet, out_dir: Path) -> dict[Path, str]:
    """The inventory and the profile-derived variables, laid out so `ansible-playbook -i inventory.yml` finds both.

    The variables go to `group_vars/sip_servers.yml` beside the inventory, where per-host values in the inventory
    (each host's recordings device) take precedence over them; `hostvars.yml` is the same file for `-e @`-style
    tools that want one document.
    """
    outputs = records.outputs
    files: dict[Path, str] = {}
    if isinstance(outputs.get("inventory"), dict):
        files[out_dir / "inventory.yml"] = yaml.safe_dump(outputs["inventory"], sort_keys=True)
    if isinstance(outputs.get("hostvars"), dict):
        text = yaml.safe_dump(outputs["hostvars"], sort_keys=True)
        files[out_dir / "group_vars" / "sip_servers.yml"] = text
        files[out_dir / "hostvars.yml"] = text
    return files


def write_reports(verdict: Verdict, out_dir: Path) -> list[Path]:
    """Write records, findings, summary and Ansible inputs. Each file lands whole or not at all."""
    files = {
        out_dir / "records.json": json.dumps(verdict.records.to_dict(), indent=2, sort_keys=True) + "\n",
        out_dir / "findings.json": json.dumps(findings_document(verdict), indent=2, sort_keys=True) + "\n",
        out_dir / "summary.md": summary_markdown(verdict),
    }
    files.update(ansible_files(verdict.records, out_dir / "ansible"))
    return write_together(files)
