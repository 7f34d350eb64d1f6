"""Verdicts as files for CI and tools: SARIF 2.1.0, JUnit XML and JSON.

SARIF: one result per finding. FAIL is kind "fail" (level by severity), NOT-VERIFIED and MANUAL are kind
"review" (never "pass"), PASS is kind "pass"; every kind other than "fail" has level "none", as SARIF 2.1.0
§3.27.10 requires. Rules carry the AVG articles and help text.
JUnit: one test case per rule x target; FAIL is a failure, NOT-VERIFIED and MANUAL are skipped with the
reason, never passed.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from avg_voip import __version__
from avg_voip.audit import Verdict, findings_document, rule_catalogue
from avg_voip.findings import Finding, RuleMeta, Severity, Status

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "avg-voip"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
}
# GitHub code scanning reads this property (0-10) to rank security results.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}
_ORDER = {Status.FAIL: 0, Status.NOT_VERIFIED: 1, Status.MANUAL: 2, Status.PASS: 3}


def short_target(target: str) -> str:
    return target.split("::")[-1] if target.startswith("urn:") else target


# -- JSON -------------------------------------------------------------------------------------------------


def to_json(verdicts: Sequence[Verdict]) -> str:
    docs = [findings_document(v) for v in verdicts]
    doc: dict[str, Any] = docs[0] if len(docs) == 1 else {"stacks": docs}
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"


# -- SARIF ------------------------------------------------------------------------------------------------


def _sarif_rule(meta: RuleMeta) -> dict[str, Any]:
    articles = ", ".join(f"Art. {a}" for a in meta.articles)
    return {
        "id": meta.id,
        "name": meta.id.replace("-", ""),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": f"{meta.rationale} (AVG {articles})"},
        "help": {
            "text": f"{meta.remediation}\n\nWhy: {meta.rationale}\nAVG: {articles}",
            "markdown": (
                f"**Remediation:** {meta.remediation}\n\n**Why:** {meta.rationale}\n\n**AVG (GDPR):** {articles}"
            ),
        },
        "defaultConfiguration": {"level": _LEVEL[meta.severity]},
        "properties": {
            "avg-articles": list(meta.articles),
            "severity": meta.severity.value,
            "security-severity": _SECURITY_SEVERITY[meta.severity],
            "tags": ["security", "privacy", "AVG", "GDPR", *[f"AVG-art-{a}" for a in meta.articles]],
        },
    }


def _sarif_result(f: Finding, meta: RuleMeta | None, index: int, location: str | None) -> dict[str, Any]:
    # SARIF 2.1.0 §3.27.10: a level other than "none" is allowed only with kind "fail".
    if f.status is Status.FAIL:
        kind, level = "fail", _LEVEL[meta.severity] if meta else "error"
    elif f.status is Status.PASS:
        kind, level = "pass", "none"
    else:
        kind, level = "review", "none"
    loc: dict[str, Any] = {
        "logicalLocations": [
            {
                "name": short_target(f.target),
                "fullyQualifiedName": f.target,
                "kind": "resource" if f.target.startswith("urn:") else "module",
            }
        ]
    }
    if location:
        loc["physicalLocation"] = {"artifactLocation": {"uri": location}, "region": {"startLine": 1}}
    owner = f" (owner: {f.extra['owner']})" if "owner" in f.extra else ""
    fingerprint = hashlib.sha256(f"{f.rule_id}|{f.target}|{f.message}".encode()).hexdigest()[:32]
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "kind": kind,
        "level": level,
        "message": {"text": f"{f.status.value}: {f.message}{owner} [{short_target(f.target)}]"},
        "locations": [loc],
        "partialFingerprints": {"avgVoipFinding/v1": fingerprint},
        "properties": {
            "status": f.status.value,
            "target": f.target,
            "source": f.source,
            "observed": _jsonable(f.observed),
            "expected": _jsonable(f.expected),
        },
    }
    if index >= 0:
        result["ruleIndex"] = index
    return result


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def to_sarif(verdicts: Sequence[Verdict], locations: dict[str, str] | None = None) -> str:
    """`locations`: stack name -> artifact uri (the stack file or input file), relative to the repo root."""
    catalogue = rule_catalogue()
    runs = []
    for v in verdicts:
        used = sorted({f.rule_id for f in v.findings})
        metas = [catalogue[r] for r in used if r in catalogue]
        index = {m.id: i for i, m in enumerate(metas)}
        where = (locations or {}).get(v.stack)
        results = [
            _sarif_result(f, catalogue.get(f.rule_id), index.get(f.rule_id, -1), where)
            for f in sorted(v.findings, key=lambda f: (_ORDER[f.status], f.sort_key()))
        ]
        runs.append(
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "rules": [_sarif_rule(m) for m in metas],
                    }
                },
                "automationDetails": {"id": f"avg-voip/{v.stack}/"},
                "properties": {
                    "stack": v.stack,
                    "source": v.records.source,
                    "summary": dict(sorted(v.counts.items())),
                    "exitCode": v.exit_code,
                },
                "results": results,
            }
        )
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}
    return json.dumps(doc, indent=2) + "\n"


# -- JUnit ------------------------------------------------------------------------------------------------


def _group(findings: Sequence[Finding]) -> dict[tuple[str, str], list[Finding]]:
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.rule_id, f.target), []).append(f)
    return groups


def to_junit(verdicts: Sequence[Verdict]) -> str:
    catalogue = rule_catalogue()
    root = ET.Element("testsuites", name=TOOL_NAME)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for v in verdicts:
        suite = ET.SubElement(root, "testsuite", name=f"{TOOL_NAME}:{v.stack}")
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        groups = _group(v.findings)
        shorts = Counter((rule_id, short_target(t)) for rule_id, t in groups)
        for (rule_id, target), group in sorted(groups.items()):
            meta = catalogue.get(rule_id)
            name = short_target(target)
            case = ET.SubElement(
                suite,
                "testcase",
                classname=rule_id,
                name=name if shorts[(rule_id, name)] == 1 else target,  # unique within the rule
            )
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", name="target", value=target)
            counts["tests"] += 1
            worst = min((f.status for f in group), key=lambda s: _ORDER[s])
            title = meta.title if meta else rule_id
            if worst is Status.FAIL:
                counts["failures"] += 1
                failing = [f for f in group if f.status is Status.FAIL]
                el = ET.SubElement(
                    case, "failure", message="; ".join(f.message for f in failing), type="FAIL"
                )
                lines = [title]
                if meta:
                    lines += [f"AVG: {', '.join(meta.articles)}", f"Remediation: {meta.remediation}"]
                lines += [f"observed {f.observed!r}, expected {f.expected!r}" for f in failing]
                el.text = "\n".join(lines)
            elif worst in (Status.NOT_VERIFIED, Status.MANUAL):
                counts["skipped"] += 1
                reasons = [
                    f.message + (f" (owner: {f.extra['owner']})" if "owner" in f.extra else "")
                    for f in group
                    if f.status is worst
                ]
                ET.SubElement(case, "skipped", message=f"{worst.value}: " + "; ".join(reasons))
            else:
                ET.SubElement(case, "system-out").text = "; ".join(f.message for f in group)
        for k, n in counts.items():
            suite.set(k, str(n))
            totals[k] += n
        suite.set("errors", "0")
    for k, n in totals.items():
        root.set(k, str(n))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def location_for(stack: str, root: Path, fallback: str | None = None) -> str | None:
    """The stack file (relative to the repo root) when it exists, else `fallback` (e.g. the input file)."""
    path = root / f"Pulumi.{stack}.yaml"
    if path.is_file():
        return path.name
    return fallback
