"""The auditor report: files written together, stable JSON evidence, a self-contained escaped HTML page."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from test_matrix import example_verdict, host_findings, run_cli

from avg_voip.audit import Verdict, write_reports
from avg_voip.evidence import load_host_findings, profile_sha256
from avg_voip.findings import Status
from avg_voip.report_cli import build_deliverables, render_html, write_auditor_reports, write_together
from avg_voip.stackconfig import load_stack

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    "evidence.json",
    "matrix.json",
    "matrix.md",
    "register.en.md",
    "register.json",
    "register.nl.md",
    "report.html",
]


def run_twice(tmp_path: Path, verdict: Verdict) -> tuple[Path, Path]:
    outs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}" / verdict.stack
        write_reports(verdict, out)
        write_auditor_reports(verdict, out, host_findings=host_findings())
        outs.append(out)
    return outs[0], outs[1]


def test_all_files_are_written(tmp_path: Path) -> None:
    out = tmp_path / "mortgage-aws"
    written = write_auditor_reports(example_verdict("mortgage-aws"), out)
    assert sorted(p.name for p in written) == FILES
    assert not list(out.glob(".*")), "temporary files left behind"


@pytest.mark.parametrize("stack", ["mortgage-aws", "healthcare-hcloud"])
def test_two_runs_give_byte_identical_json_evidence(tmp_path: Path, stack: str) -> None:
    first, second = run_twice(tmp_path, example_verdict(stack))
    for name in ("findings.json", "matrix.json", "register.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    one, two = (json.loads((d / "evidence.json").read_text()) for d in (first, second))
    assert set(one) == {"run", "evidence", "summary", "findings"}
    one.pop("run"), two.pop("run")
    assert one == two


def test_the_only_timestamp_is_in_the_run_block(tmp_path: Path) -> None:
    out = tmp_path / "s"
    write_auditor_reports(example_verdict("mortgage-aws"), out)
    stamp = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
    evidence = json.loads((out / "evidence.json").read_text())
    assert stamp.match(evidence.pop("run")["generated_at"])
    assert not stamp.search(json.dumps(evidence))
    for name in ("matrix.json", "register.json"):
        assert not stamp.search((out / name).read_text()), name


def test_evidence_names_stack_profile_commit_tools_and_inputs() -> None:
    verdict = example_verdict("healthcare-hcloud")
    d = build_deliverables(verdict, inputs=[])
    ev = d.evidence.to_dict()
    assert ev["stack"] == "healthcare-hcloud"
    assert ev["profile_sha256"] == profile_sha256(load_stack("healthcare-hcloud").profile)
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", ev["git_commit"])
    for tool in ("pulumi", "pulumi-aws", "pulumi-hcloud", "pulumi-policy", "ansible-core", "checkov"):
        assert ev["tools"][tool], tool
    assert ev["tools"]["pulumi"] != "not installed"


def test_input_files_carry_their_sha256(tmp_path: Path) -> None:
    out = tmp_path / "s"
    write_auditor_reports(example_verdict("mortgage-aws"), out)
    inputs = json.loads((out / "evidence.json").read_text())["evidence"]["inputs"]
    by_path = {i["path"]: i for i in inputs}
    stack_file = by_path["Pulumi.mortgage-aws.yaml"]
    assert stack_file["role"] == "stack config"
    assert (
        stack_file["sha256"] == hashlib.sha256((ROOT / "Pulumi.mortgage-aws.yaml").read_bytes()).hexdigest()
    )
    assert "avg_voip/data/controls.yaml" in by_path and "avg_voip/data/residency.yaml" in by_path
    assert any(i["role"] == "resource records" for i in inputs)


def test_every_finding_has_target_observed_and_expected(tmp_path: Path) -> None:
    out = tmp_path / "s"
    write_auditor_reports(example_verdict("mortgage-aws"), out)
    findings = json.loads((out / "evidence.json").read_text())["findings"]
    assert findings
    for f in findings:
        assert {"target", "target_kind", "target_name", "observed", "expected", "rule_id", "status"} <= set(f)
    kinds = {f["target_kind"] for f in findings}
    assert "resource" in kinds


def test_html_is_self_contained_and_summary_first() -> None:
    html = render_html(build_deliverables(example_verdict("mortgage-aws")))
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "external reference"
    assert "<link" not in html.lower() and "@import" not in html
    order = [html.index(f'id="{s}"') for s in ("summary", "matrix", "findings", "register", "evidence")]
    assert order == sorted(order)
    assert "@media print" in html


def test_html_escapes_profile_text() -> None:
    verdict = example_verdict("mortgage-aws")
    profile = verdict.profile
    assert profile is not None
    org = profile.organisation
    evil = profile.model_copy(
        update={
            "organisation": org.model_copy(
                update={
                    "controller": org.controller.model_copy(update={"name": "<script>alert(1)</script> B.V."})
                }
            )
        }
    )
    html = render_html(build_deliverables(Verdict(verdict.stack, verdict.records, verdict.findings, evil)))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; B.V." in html


def test_host_findings_file_is_merged(tmp_path: Path) -> None:
    verdict = example_verdict("healthcare-hcloud")
    records = tmp_path / "records.json"
    records.write_text(json.dumps(verdict.records.to_dict()))
    host = tmp_path / "host-findings.json"
    host.write_text(json.dumps({"findings": [f.to_dict() for f in host_findings()]}))
    assert len(load_host_findings(host)) == len(host_findings())
    out = tmp_path / "out"
    proc = run_cli(
        "report",
        "--stack",
        "healthcare-hcloud",
        "--records",
        str(records),
        "--host-findings",
        str(host),
        "--out",
        str(out),
    )
    assert proc.returncode in (0, 1), proc.stderr
    matrix = json.loads((out / "healthcare-hcloud" / "matrix.json").read_text())
    assert matrix["host_checks_run"] is True
    patching = next(o for o in matrix["obligations"] if o["id"] == "patching")
    assert patching["status"] == Status.PASS.value, patching["reasons"]
    roles = {i["role"] for i in matrix["evidence"]["inputs"]}
    assert {"host findings", "resource records file", "stack config"} <= roles


def test_plan_findings_in_a_host_file_are_left_to_this_audit(tmp_path: Path) -> None:
    host = tmp_path / "combined.json"
    plan = {"rule_id": "AVG-ENC-001", "status": "FAIL", "target": "urn:x", "source": "plan"}
    ssh = {"rule_id": "AVG-HOST-SSH-001", "status": "PASS", "target": "host:sip-1", "source": "host"}
    host.write_text(json.dumps({"findings": [plan, ssh]}))
    assert [f.rule_id for f in load_host_findings(host)] == ["AVG-HOST-SSH-001"]


def test_bad_host_findings_file_is_bad_input(tmp_path: Path) -> None:
    host = tmp_path / "host.json"
    host.write_text(json.dumps([{"rule_id": "AVG-HOST-SSH-001", "status": "OK", "target": "host:sip-1"}]))
    proc = run_cli(
        "report", "--stack", "mortgage-aws", "--host-findings", str(host), "--out", str(tmp_path / "out")
    )
    assert proc.returncode == 2
    assert "--host-findings" in proc.stderr and "findings.0.status" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_write_together_lands_nothing_when_one_file_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a directory is needed")
    files = {tmp_path / "ok" / "a.json": "{}\n", blocker / "b.json": "{}\n"}
    with pytest.raises(OSError):
        write_together(files)
    assert not (tmp_path / "ok" / "a.json").exists()
    assert not list((tmp_path / "ok").glob(".*"))


@pytest.mark.parametrize("stack", ["healthcare-hcloud", "mortgage-aws"])
def test_audit_writes_the_auditor_files_and_two_audits_diff_cleanly(tmp_path: Path, stack: str) -> None:
    outs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}"
        proc = run_cli("audit", "--stack", stack, "--out", str(out))
        assert proc.returncode in (0, 1, 3), proc.stderr
        outs.append(out / stack)
    assert {p.name for p in outs[0].iterdir()} >= set(FILES)
    for name in ("findings.json", "matrix.json", "register.json"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert "<h2>Summary</h2>" in (outs[0] / "report.html").read_text()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_get_the_mode_open_would_give_them(tmp_path: Path, umask: int, mode: int) -> None:
    import os
    import stat

    saved = os.umask(umask)
    try:
        written = write_together({tmp_path / "a.json": "{}\n", tmp_path / "sub" / "b.md": "# b\n"})
    finally:
        os.umask(saved)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {"a.json": mode, "b.md": mode}


def _host_file(tmp_path: Path, stack: str | None) -> Path:
    host = tmp_path / "host-findings.json"
    doc: dict[str, object] = {"findings": [f.to_dict() for f in host_findings()]}
    if stack is not None:
        doc["stack"] = stack
    host.write_text(json.dumps(doc))
    return host


def test_a_host_file_naming_no_stack_is_refused_for_several_stacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from avg_voip.cli import main

    out = tmp_path / "out"
    assert main(["report", "--host-findings", str(_host_file(tmp_path, None)), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --host-findings: ") and "names no stack" in err and "\n" not in err, err
    assert not out.exists()


def test_a_host_file_naming_another_stack_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from avg_voip.cli import main

    host = _host_file(tmp_path, "healthcare-hcloud")
    out = tmp_path / "out"
    assert main(["report", "--stack", "mortgage-aws", "--host-findings", str(host), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --host-findings: {host} holds stack 'healthcare-hcloud', not 'mortgage-aws'", err
    assert not out.exists()


def test_a_host_file_naming_its_stack_goes_to_that_stack_only(tmp_path: Path) -> None:
    from avg_voip.cli import main

    out = tmp_path / "out"
    host = _host_file(tmp_path, "healthcare-hcloud")
    assert main(["report", "--host-findings", str(host), "--out", str(out)]) in (0, 1)
    ran = {
        s: json.loads((out / s / "matrix.json").read_text())["host_checks_run"]
        for s in ("healthcare-hcloud", "mortgage-aws")
    }
    assert ran == {"healthcare-hcloud": True, "mortgage-aws": False}


def test_html_counts_obligations_waiting_for_host_checks() -> None:
    """'0 NOT-VERIFIED' findings beside NOT-VERIFIED obligations: the page says they wait for host checks."""
    verdict = example_verdict("mortgage-aws")
    d = build_deliverables(verdict)
    waiting = d.matrix.counts["NOT-VERIFIED"]
    assert waiting > 0 and not any(f.status is Status.NOT_VERIFIED for f in d.findings)
    text = " ".join(render_html(d).split())
    assert "Findings behind them (plan rules and manual obligations only)" in text
    assert (
        f"{waiting} obligations that depend on them are NOT-VERIFIED, waiting for host checks not yet run"
        in text
    )
    with_hosts = " ".join(render_html(build_deliverables(verdict, host_findings=host_findings())).split())
    assert "waiting for host checks" not in with_hosts and "manual obligations only" not in with_hosts


def test_the_auditor_guide_names_the_files_report_writes(tmp_path: Path) -> None:
    guide = " ".join((ROOT / "docs" / "auditor.md").read_text().split())
    sentence = guide.split("`report` writes ", 1)[1].split("; `audit`", 1)[0]
    assert sorted(re.findall(r"`([^`]+)`", sentence)) == FILES
