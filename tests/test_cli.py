"""The command line: the main job on the example stacks, and bad input ending in one line, exit 2, nothing written."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from avg_voip.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _stack_file(tmp: Path, name: str, doc: Any) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"Pulumi.{name}.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return path


def _mortgage() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "Pulumi.mortgage-aws.yaml").read_text())


def _run_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any, *extra: str) -> str:
    project = tmp_path / "project"
    _stack_file(project, "bad", doc)
    out = tmp_path / "reports"
    code = main(["audit", "--stack", "bad", "--project", str(project), "--out", str(out), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert not out.exists(), "bad input must not write any report"
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def _with(path: str, value: Any) -> dict[str, Any]:
    doc = _mortgage()
    cur = doc["config"]["avg-voip:profile"]
    keys = path.split(".")
    for k in keys[:-1]:
        cur = cur[int(k)] if k.isdigit() else cur[k]
    if value is None:
        del cur[keys[-1]]
    else:
        cur[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value
    return doc


BAD_DOCS = [
    ("not a mapping", "- just\n- a list\n", "must be a YAML mapping"),
    ("invalid yaml", "config: [unclosed\n", "not valid YAML"),
    ("no config", {"something": 1}, "config: must be a mapping"),
    ("no profile", {"config": {"aws:region": "eu-central-1"}}, "avg-voip:profile: is required"),
    ("non-EU region", _with("location", "us-east-1"), "location: us-east-1 is in US"),
    ("unknown region", _with("location", "eu-moon-1"), "unknown aws location"),
    ("zero retention", _with("data_categories.0.retention_days", 0), "data_categories.0.retention_days"),
    (
        "no legal basis",
        _with("data_categories.0.legal_basis", None),
        "data_categories.0.legal_basis: is required",
    ),
    ("ssh from anywhere", _with("network.admin_cidrs", ["0.0.0.0/0"]), "network.admin_cidrs"),
    ("bad cidr", _with("network.sip_peer_cidrs", ["300.1.1.1/8"]), "network.sip_peer_cidrs"),
    ("unknown provider", _with("provider", "azure"), "provider: must be one of"),
    ("missing hosts", _with("hosts", None), "hosts: is required"),
]


@pytest.mark.parametrize(("label", "doc", "text"), BAD_DOCS, ids=[b[0] for b in BAD_DOCS])
def test_bad_stack_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str, doc: Any, text: str
) -> None:
    err = _run_bad(tmp_path, capsys, doc)
    assert text in err, err


def test_region_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _mortgage()
    doc["config"]["aws:region"] = "eu-west-1"
    assert "config.aws:region" in _run_bad(tmp_path, capsys, doc)


def test_plaintext_credential_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _mortgage()
    doc["config"]["aws:secretKey"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    err = _run_bad(tmp_path, capsys, doc)
    assert "config.aws:secretKey" in err and "wJalrX" not in err


@pytest.mark.parametrize("name", [".", "..", "-x", "a/b", ""])
def test_stack_names_that_could_escape_reports_are_refused(name: str) -> None:
    from avg_voip.profile import ProfileError
    from avg_voip.stackconfig import stack_file

    with pytest.raises(ProfileError, match="not a valid stack name"):
        stack_file(name)


def test_a_stack_file_cannot_name_a_stack_outside_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hc-stack.yaml"  # not named Pulumi.<stack>.yaml: the stack's name comes from --stack
    path.write_text((ROOT / "Pulumi.healthcare-hcloud.yaml").read_text())
    out = tmp_path / "out" / "reports"
    code = main(["register", "--stack-file", str(path), "--stack", "..", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "not a valid stack name" in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "--bogus"],
        ["frobnicate"],
        ["audit", "--stack", "../etc/passwd"],
        ["audit", "--stack", "nope"],
    ],
)
def test_bad_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code = main([*argv, "--out", str(tmp_path / "r")] if argv[0] == "audit" else argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error:"), err
    assert not (tmp_path / "r").exists()


def test_one_bad_stack_stops_all_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    _stack_file(project, "good", _mortgage())
    _stack_file(project, "zz-bad", _with("location", "ap-southeast-2"))
    out = tmp_path / "reports"
    assert main(["audit", "--project", str(project), "--out", str(out)]) == 2
    assert not out.exists()


@pytest.mark.parametrize("stack", ["healthcare-hcloud", "mortgage-aws"])
def test_audit_example_stack_is_compliant(tmp_path: Path, stack: str) -> None:
    out = tmp_path / "reports"
    code = main(["audit", "--stack", stack, "--out", str(out)])
    doc = json.loads((out / stack / "findings.json").read_text())
    failing = [f for f in doc["findings"] if f["status"] in ("FAIL", "NOT-VERIFIED")]
    assert code == 0, failing
    assert doc["summary"]["PASS"] > 10
    assert doc["summary"]["MANUAL"] >= 4, "manual obligations must be listed"
    records = json.loads((out / stack / "records.json").read_text())
    assert len(records["resources"]) > 5
    hostvars = yaml.safe_load((out / stack / "ansible" / "hostvars.yml").read_text())
    assert hostvars["avg_voip_stack"] == stack


def test_violating_stack_exits_1(tmp_path: Path) -> None:
    """A stack whose hosts keep health recordings longer than the profile would be caught by the plan rules.

    The profile refuses such values itself, so the violation is made in the rendered records."""
    from avg_voip.audit import judge
    from avg_voip.render import render
    from avg_voip.stackconfig import load_stack

    stack = load_stack("healthcare-hcloud")
    records = render(stack)
    for cat in records.outputs["hostvars"]["avg_voip_recording_categories"]:
        cat["retention_days"] = 400
    verdict = judge(records, stack.profile)
    assert verdict.exit_code == 1
    assert {f.rule_id for f in verdict.findings if f.status.value == "FAIL"} == {"AVG-RET-003"}


def test_script_entry_point(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "avg-voip"), "audit", "--stack", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: --stack"), proc.stderr


def test_rendered_inventory_gives_each_host_its_own_device(tmp_path: Path) -> None:
    """The variables load with the inventory; each Hetzner host keeps its own LUKS volume device."""
    assert main(["render", "--stack", "healthcare-hcloud", "--out", str(tmp_path)]) == 0
    inv = tmp_path / "healthcare-hcloud" / "ansible" / "inventory.yml"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inv), "--list"],
        capture_output=True,
        text=True,
        check=True,
    )
    hostvars = json.loads(proc.stdout)["_meta"]["hostvars"]
    devices = {h: v["avg_voip_recordings_device"] for h, v in hostvars.items()}
    assert len(devices) == 2 and len(set(devices.values())) == 2, devices
    assert all(v["avg_voip_recordings_encryption"] == "luks" for v in hostvars.values())


def test_backups_disabled_is_a_violation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = yaml.safe_load((ROOT / "Pulumi.healthcare-hcloud.yaml").read_text())
    doc["config"]["avg-voip:profile"]["backups"]["enabled"] = False
    project = tmp_path / "project"
    _stack_file(project, "nobackup", doc)
    assert (
        main(["audit", "--stack", "nobackup", "--project", str(project), "--out", str(tmp_path / "r")]) == 1
    )
    findings = json.loads((tmp_path / "r" / "nobackup" / "findings.json").read_text())["findings"]
    assert any(f["rule_id"] == "AVG-BAK-001" and f["status"] == "FAIL" for f in findings)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("config:\n  aws:region: eu-central-1\n  aws:region: eu-west-1\n", "appears twice"),
        ("config:\n  avg-voip:dbPassword: hunter2\n", "config.avg-voip:dbPassword"),
        ("config:\n  hcloud:token:\n    secure: plaintext\n", "not a Pulumi ciphertext"),
    ],
)
def test_stack_file_traps(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str) -> None:
    err = _run_bad(tmp_path, capsys, text)
    assert needle in err and "hunter2" not in err and "plaintext" not in err.split("ciphertext")[-1], err


@pytest.mark.parametrize("command", ["render", "audit", "check"])
def test_an_unwritable_output_path_is_one_line_and_leaves_no_temporary_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    project = tmp_path / "project"
    _stack_file(project, "hc", yaml.safe_load((ROOT / "Pulumi.healthcare-hcloud.yaml").read_text()))
    blocker = tmp_path / "blocker"
    if command == "check":  # --output names a directory
        blocker.mkdir()
        argv = [
            "check",
            "--stack",
            "hc",
            "--project",
            str(project),
            "--format",
            "json",
            "--output",
            str(blocker),
        ]
    else:  # --out is a file where a directory is needed
        blocker.write_text("a file")
        argv = [command, "--stack", "hc", "--project", str(project), "--out", str(blocker)]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and str(blocker) in err, err
    leftovers = [p for p in tmp_path.rglob(".*") if p.is_file()]
    assert leftovers == [], leftovers


def test_check_and_report_read_stacks_of_another_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    _stack_file(project, "elsewhere", yaml.safe_load((ROOT / "Pulumi.healthcare-hcloud.yaml").read_text()))
    out = tmp_path / "check.json"
    assert main(["check", "--project", str(project), "--format", "json", "--output", str(out)]) == 0
    assert '"elsewhere"' in out.read_text()
    reports = tmp_path / "reports"
    assert main(["report", "--project", str(project), "--out", str(reports)]) == 0
    assert (reports / "elsewhere" / "report.html").is_file()


def _wide_console(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The command line's console, wide enough that no cell wraps, writing into a buffer."""
    from rich.console import Console

    from avg_voip import cli

    buffer = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buffer, width=1000, highlight=False, color_system=None))
    return buffer


def test_brackets_in_profile_text_are_printed_not_read_as_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = _wide_console(monkeypatch)
    project = tmp_path / "project"
    _stack_file(project, "brackets", _with("recording_notice.text_reference", "IVR script [v2] then [/bold]"))
    code = main(["audit", "--stack", "brackets", "--project", str(project), "--out", str(tmp_path / "r")])
    assert code in (0, 3), capsys.readouterr().err
    assert "IVR script [v2] then [/bold]" in buffer.getvalue()


def test_brackets_in_finding_messages_and_targets_are_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    from avg_voip.audit import Verdict
    from avg_voip.cli import print_verdict
    from avg_voip.findings import Finding, Status
    from avg_voip.records import RecordSet

    buffer = _wide_console(monkeypatch)
    findings = [
        Finding("AVG-NET-002", Status.FAIL, "sg[/red]", "SSH admitted from [secret], [v2], outside [/]"),
    ]
    print_verdict(Verdict("st[/b]", RecordSet("st[/b]", []), findings, None))
    text = buffer.getvalue()
    assert "SSH admitted from [secret], [v2], outside [/]" in text
    assert "sg[/red]" in text and "AVG verdict: st[/b]" in text


def test_report_prints_output_paths_with_brackets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out[/x]"
    assert main(["register", "--stack", "mortgage-aws", "--out", str(out)]) == 0
    assert str(out / "mortgage-aws" / "register.json") in capsys.readouterr().out


def test_check_output_in_a_missing_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "dir" / "x.json"
    argv = ["check", "--stack", "mortgage-aws", "--format", "json", "--output", str(target)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --output: ") and str(target.parent) in err and "\n" not in err, err
    assert not (tmp_path / "missing").exists()


def test_check_refuses_records_of_another_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from corpus.pulumi_formats import rendered

    records = tmp_path / "records.json"
    records.write_text(json.dumps(rendered("mortgage-aws").to_dict()))
    out = tmp_path / "check.json"
    argv = ["check", "--stack", "healthcare-hcloud", "--input", str(records), "--format", "json"]
    assert main([*argv, "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --input: {records} holds stack 'mortgage-aws', not 'healthcare-hcloud'", err
    assert not out.exists()


def test_report_refuses_a_stack_name_other_than_the_stack_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _stack_file(tmp_path / "elsewhere", "mortgage-aws", _mortgage())
    out = tmp_path / "reports"
    assert main(["report", "--stack-file", str(path), "--stack", "other", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --stack: 'other' is not the stack of --stack-file") and "\n" not in err, err
    assert not out.exists()
    assert main(["register", "--stack-file", str(path), "--stack", "mortgage-aws", "--out", str(out)]) == 0
    assert (out / "mortgage-aws" / "register.json").is_file()


def test_audit_says_host_checks_were_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 0 judges the plan only: the terminal and summary.md say the host controls are still open."""
    buffer = _wide_console(monkeypatch)
    out = tmp_path / "reports"
    assert main(["audit", "--stack", "mortgage-aws", "--out", str(out)]) == 0
    waiting = json.loads((out / "mortgage-aws" / "matrix.json").read_text())["summary"]["NOT-VERIFIED"]
    assert waiting > 0
    said = [line for line in buffer.getvalue().splitlines() if line.startswith("Host checks not run")]
    assert len(said) == 1 and f"{waiting} obligations show NOT-VERIFIED in report.html" in said[0], said
    summary = (out / "mortgage-aws" / "summary.md").read_text()
    assert "Host checks were not run" in summary and "LUKS, auditd, nftables, TLS and SRTP" in summary


@pytest.mark.parametrize("command", ["render", "audit", "check", "report", "register"])
def test_the_readme_command_table_lists_every_option(command: str) -> None:
    from avg_voip.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    options = {o for a in sub.choices[command]._actions for o in a.option_strings if o.startswith("--")}
    options -= {"--help"}
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| `avg-voip {command} "))
    usage = row.split("` |", 1)[0]
    assert {o for o in options if o not in usage} == set(), row


def test_rules_lists_every_id_the_reports_cite(capsys: pytest.CaptureFixture[str]) -> None:
    from avg_voip.matrix import load_controls

    assert main(["rules", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    listed = {r["id"]: r for r in doc}
    obligations = load_controls().obligations
    cited = {c for o in obligations for c in o.check_ids} | {"AVG-REG-030"}  # the generated register's check
    assert cited <= set(listed), sorted(cited - set(listed))
    assert {r["judged"] for r in doc} == {"plan", "host", "manual", "generated"}
    assert all(r["rationale"] and r["remediation"] and r["articles"] for r in doc)


def test_rules_id_shows_rationale_and_remediation(capsys: pytest.CaptureFixture[str]) -> None:
    from avg_voip.matrix import catalogue

    meta = catalogue()["AVG-HOST-SSH-001"]
    assert main(["rules", "--id", meta.id]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert " ".join(meta.rationale.split()) in out and " ".join(meta.remediation.split()) in out
    assert main(["rules", "--id", "AVG-NOPE-001"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --id") and len(err.splitlines()) == 1
