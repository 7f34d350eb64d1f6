"""SARIF 2.1.0, JUnit XML and JSON output: one result per finding, one test case per rule x target,
NOT-VERIFIED never reported as passed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from corpus.pulumi_formats import rendered

from avg_voip.audit import Verdict, judge
from avg_voip.cli import main
from avg_voip.findings import Status
from avg_voip.formats import to_json, to_junit, to_sarif
from avg_voip.records import RecordSet, ResourceRecord
from avg_voip.stackconfig import load_stack
from policies.rules._util import res


def _mixed_verdict() -> Verdict:
    """A stack with a FAIL (multi-region key), a NOT-VERIFIED (no profile) and PASSes."""
    records = [
        res("aws:kms/key:Key", "multi", {"enableKeyRotation": True, "multiRegion": True}),
        res("aws:kms/key:Key", "single", {"enableKeyRotation": True}),
        res("aws:s3/bucket:Bucket", "rec", {"bucket": "rec", "tags": {"avg-voip:store": "recordings_store"}}),
    ]
    return judge(RecordSet("example", [ResourceRecord.from_dict(r) for r in records]), None)


def test_sarif_one_result_per_finding_with_rule_metadata() -> None:
    v = _mixed_verdict()
    doc = json.loads(to_sarif([v], {"example": "Pulumi.example.yaml"}))
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run = doc["runs"][0]
    assert len(run["results"]) == len(v.findings)
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == {f.rule_id for f in v.findings}
    for r in rules:
        assert r["properties"]["avg-articles"] and r["help"]["text"] and r["shortDescription"]["text"]
    kinds = {(res["properties"]["status"], res["kind"]) for res in run["results"]}
    assert ("FAIL", "fail") in kinds and ("PASS", "pass") in kinds and ("NOT-VERIFIED", "review") in kinds
    for res_ in run["results"]:
        assert rules[res_["ruleIndex"]]["id"] == res_["ruleId"]
        phys = res_["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert phys == "Pulumi.example.yaml"
        if res_["kind"] == "fail":
            assert res_["level"] == "error"
        else:  # SARIF 2.1.0 §3.27.10: only kind "fail" may carry a level other than "none"
            assert res_["level"] == "none", res_


def test_junit_case_per_rule_and_target_and_not_verified_is_skipped() -> None:
    v = _mixed_verdict()
    root = ET.fromstring(to_junit([v]))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len({(f.rule_id, f.target) for f in v.findings})
    by = {(c.get("classname"), c.find("properties/property[@name='target']").get("value")): c for c in cases}
    for f in v.findings:
        case = by[(f.rule_id, f.target)]
        if f.status is Status.FAIL:
            assert case.find("failure") is not None
        elif f.status is Status.NOT_VERIFIED:
            skipped = case.find("skipped")
            assert skipped is not None and f.message in skipped.get("message", "")
    suite = root.find("testsuite")
    assert suite is not None
    assert int(suite.get("failures", "0")) >= 1 and int(suite.get("skipped", "0")) >= 1
    assert root.get("tests") == str(len(cases))


def test_json_is_the_findings_document() -> None:
    v = _mixed_verdict()
    doc = json.loads(to_json([v]))
    assert doc["exit_code"] == 1 and len(doc["findings"]) == len(v.findings)


def test_check_writes_every_format_for_a_stack(tmp_path: Path) -> None:
    rs = rendered("healthcare-hcloud")
    (tmp_path / "records.json").write_text(json.dumps(rs.to_dict()))
    expected = judge(rs, load_stack("healthcare-hcloud").profile).exit_code
    for fmt in ("table", "json", "sarif", "junit"):
        out = tmp_path / f"out.{fmt}"
        code = main(
            [
                "check",
                "--stack",
                "healthcare-hcloud",
                "--input",
                str(tmp_path / "records.json"),
                "--format",
                fmt,
                "--output",
                str(out),
            ]
        )
        assert code == expected, fmt
        assert out.read_text().strip(), fmt
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "Pulumi.healthcare-hcloud.yaml"
    manual = [r for r in sarif["runs"][0]["results"] if r["properties"]["status"] == "MANUAL"]
    assert manual and all((r["kind"], r["level"]) == ("review", "none") for r in manual)
