"""Benchmark: the offline engine versus checkov on the same converted plans (~100, ~1,000, ~10,000 resources).

The plans are synthesised by replicating a rendered stack's records with renamed urns and ids (references
kept), and planting known violations in every fourth copy (KMS rotation off, SSE-S3, IMDSv1, trail log
validation off) so the overlapping checks have something to agree about. Both run in one go; we report both
wall times, the ratio, and whether the overlapping checks agree resource by resource.

- engine: load the records and evaluate every rule (in-process, what `avg-voip check --input` does).
- checkov: one `checkov -f plan.json --framework terraform_plan` process with its built-in checks (skip list
  applied); our custom checks are left out so checkov's time is checkov's own.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avg_voip.findings import Status
from avg_voip.records import RecordSet
from policies.checkov import bridge
from policies.engine import evaluate

SIZES = (100, 1_000, 10_000)
_URN_NAME = re.compile(r'("urn:pulumi:[^"]*::)([^":]+)(")')


def replicate(records: RecordSet, target: int, plant: bool = True) -> RecordSet:
    """About `target` records: copies of `records`, every name, urn and id suffixed per copy; with `plant`,
    every fourth copy carries the known violations."""
    base = json.dumps(records.to_dict()["resources"])
    ids = sorted({r.id for r in records.records if r.id}, key=len, reverse=True)
    id_pattern = re.compile("|".join(re.escape(i) for i in ids)) if ids else None
    copies = max(1, round(target / max(1, len(records.records))))
    out: list[dict[str, Any]] = []
    for i in range(copies):
        text = _URN_NAME.sub(lambda m, i=i: f"{m.group(1)}{m.group(2)}-c{i}{m.group(3)}", base)
        if id_pattern is not None:
            text = id_pattern.sub(lambda m, i=i: f"{m.group(0)}-c{i}", text)
        docs = json.loads(text)
        for d in docs:
            d["name"] = f"{d['name']}-c{i}"
            if plant and i % 4 == 1:
                _plant_violation(d)
        out.extend(docs)
    return RecordSet.from_dict(
        {"stack": records.stack, "resources": out, "outputs": records.to_dict()["outputs"]}
    )


def _plant_violation(d: dict[str, Any]) -> None:
    props = d.get("props") or {}
    t = d["type"]
    if t == "aws:kms/key:Key":
        props["enableKeyRotation"] = False
    elif t == "aws:cloudtrail/trail:Trail":
        props["enableLogFileValidation"] = False
    elif t == "aws:ec2/instance:Instance" and isinstance(props.get("metadataOptions"), dict):
        props["metadataOptions"]["httpTokens"] = "optional"
    elif t.startswith("aws:s3/bucketServerSideEncryptionConfiguration"):
        for r in props.get("rules") or []:
            r["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}


@dataclass
class Row:
    resources: int
    engine_s: float
    checkov_s: float
    compared: int
    agree: int
    disagreements: list[str]

    @property
    def ratio(self) -> float:
        return self.checkov_s / self.engine_s if self.engine_s else float("inf")


def agreement(records: RecordSet, findings: list[Any], run: bridge.CheckovRun) -> tuple[int, int, list[str]]:
    """Per (rule, resource) where a built-in checkov check judges the same thing: do both say FAIL or not?"""
    coverage = {
        rule: [c for c in checks if not c.startswith("CKV_AVG_")]
        for rule, checks in bridge.mapping()["coverage"].items()
    }
    (plan,) = run.plans.values()
    address_of = {urn: address for address, urn in plan.addresses.items()}
    fails, judged = run.failures(), run.failures() | run.passes()
    engine: dict[tuple[str, str], bool] = {}
    for f in findings:
        if f.target in address_of and coverage.get(f.rule_id):
            key = (f.rule_id, f.target)
            engine[key] = engine.get(key, False) or f.status is not Status.PASS
    compared = agree = 0
    off: list[str] = []
    for (rule_id, urn), engine_fails in sorted(engine.items()):
        address = address_of[urn]
        checks = [c for c in coverage[rule_id] if (c, address) in judged]
        if not checks:
            continue
        compared += 1
        checkov_fails = any((c, address) in fails for c in checks)
        if checkov_fails == engine_fails:
            agree += 1
        else:
            off.append(f"{rule_id} engine={'FAIL' if engine_fails else 'PASS'} checkov={checks} on {address}")
    return compared, agree, off


def bench_one(records: RecordSet, profile_stack: str, workdir: Path) -> Row:
    from avg_voip.stackconfig import load_stack

    profile = load_stack(profile_stack).profile
    records_file = workdir / "records.json"
    records_file.write_text(json.dumps(records.to_dict()), encoding="utf-8")
    start = time.perf_counter()
    from avg_voip.inputs import load_input

    findings = evaluate(load_input(records_file), profile)
    engine_s = time.perf_counter() - start
    run = bridge.run_checkov(
        [bridge.Target(profile_stack, records, profile_stack)], workdir, custom_checks=False
    )
    compared, agree, off = agreement(records, findings, run)
    return Row(len(records.records), engine_s, run.seconds, compared, agree, off)


def bench_checkov(stack: str = "mortgage-aws", sizes: tuple[int, ...] = SIZES) -> list[Row]:
    from avg_voip.render import render
    from avg_voip.stackconfig import load_stack

    base = render(load_stack(stack))
    rows = []
    print(f"{'resources':>10} {'engine s':>10} {'checkov s':>10} {'ratio':>8}  overlapping checks agree")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="avg-voip-bench-") as tmp:
            row = bench_one(replicate(base, size), stack, Path(tmp))
        rows.append(row)
        pct = 100.0 * row.agree / row.compared if row.compared else 100.0
        print(
            f"{row.resources:>10} {row.engine_s:>10.2f} {row.checkov_s:>10.2f} {row.ratio:>7.0f}x"
            f"  {row.agree}/{row.compared} ({pct:.1f}%)",
            flush=True,
        )
        for line in row.disagreements[:5]:
            print(f"{'':>10} disagree: {line}")
    return rows
