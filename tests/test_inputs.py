"""Inputs: records.json, `pulumi preview --json`, `pulumi stack export` give the same verdict for the same
resources; bad input is one line and exit 2; secrets are never printed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from corpus.pulumi_formats import (
    PLANTED_CIPHERTEXT,
    PLANTED_SECRET,
    rendered,
    to_export,
    to_preview,
)

from avg_voip.audit import judge
from avg_voip.cli import main
from avg_voip.findings import Finding, Status
from avg_voip.inputs import InputError, load_input, parse_input
from avg_voip.records import REDACTED, UNKNOWN, RecordSet
from avg_voip.stackconfig import load_stack

FIXTURES = Path(__file__).parent / "fixtures"
STACKS = ("mortgage-aws", "healthcare-hcloud")


def _key(rs: RecordSet, findings: list[Finding]) -> list[tuple[str, str, str, str]]:
    """Findings about everything but default providers (a preview or export lists them as resources)."""
    return sorted((f.rule_id, f.status.value, f.target, f.message) for f in findings if not _extra(rs, f))


def _extra(rs: RecordSet, f: Finding) -> bool:
    return "::pulumi:providers:" in f.target and rs.by_urn(f.target) is None


def _write(tmp_path: Path, name: str, doc: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("stack", STACKS)
def test_same_verdict_from_render_preview_and_export(stack: str, tmp_path: Path) -> None:
    rs = rendered(stack)
    profile = load_stack(stack).profile
    expected = judge(rs, profile)
    for name, doc in (
        ("records.json", rs.to_dict()),
        ("preview.json", to_preview(rs)),
        ("export.json", to_export(rs)),
        ("export-ciphertext.json", to_export(rs, secret="ciphertext")),
    ):
        got = judge(load_input(_write(tmp_path, name, doc)), profile)
        assert _key(rs, got.findings) == _key(rs, expected.findings), name
        assert got.exit_code == expected.exit_code, name
        extra = [f for f in got.findings if _extra(rs, f)]
        assert all(f.rule_id == "AVG-RES-002" and f.status is Status.PASS for f in extra), extra


def test_sources_are_named() -> None:
    rs = rendered("healthcare-hcloud")
    assert parse_input(json.dumps(to_preview(rs))).source == "preview"
    assert parse_input(json.dumps(to_export(rs))).source == "state"
    assert parse_input(json.dumps(rs.to_dict())).stack == "healthcare-hcloud"


def test_export_secrets_are_redacted_and_stack_outputs_read() -> None:
    rs = rendered("mortgage-aws")
    for secret in ("plaintext", "ciphertext"):
        got = parse_input(json.dumps(to_export(rs, secret=secret)))
        text = json.dumps(got.to_dict())
        assert PLANTED_SECRET not in text and PLANTED_CIPHERTEXT not in text
        assert got.outputs["adminToken"] == REDACTED
        assert set(rs.outputs) <= set(got.outputs)
        provider = next(r.provider for r in got.records if r.provider is not None)
        assert provider is not None and provider.config["secretKey"] == REDACTED


def test_preview_unknowns_deletes_and_provider_config() -> None:
    rs = load_input(FIXTURES / "preview-unknowns.json")
    assert [r.name for r in rs.records] == ["default_7_51_1", "data"], "the deleted key is not judged"
    key = rs.records[1]
    assert key.props["multiRegion"] is UNKNOWN
    assert key.provider is not None and key.provider.config["region"] == "eu-central-1"
    assert key.id is None
    verdict = judge(rs, None)
    kms = [f for f in verdict.findings if f.rule_id == "AVG-KMS-001"]
    assert [f.status for f in kms] == [Status.NOT_VERIFIED]
    assert verdict.exit_code == 3


def test_preview_create_op_is_never_more_lenient_than_render(tmp_path: Path) -> None:
    """A preview of a fresh stack (ids unknown) may be less certain than the render, never more lenient."""
    rs = rendered("mortgage-aws")
    profile = load_stack("mortgage-aws").profile
    render_pass = {(f.rule_id, f.target) for f in judge(rs, profile).findings if f.status is Status.PASS}
    got = judge(load_input(_write(tmp_path, "p.json", to_preview(rs, op="create"))), profile)
    lenient = [
        f
        for f in got.findings
        if f.status is Status.PASS and not _extra(rs, f) and (f.rule_id, f.target) not in render_pass
    ]
    assert not lenient


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("export-truncated.json", "not valid JSON"),
        ("export-version4.json", "must be the number 3"),
        ("export-empty.json", "empty"),
        ("unknown-format.json", "unknown format"),
    ],
)
def test_bad_input_is_one_line_exit_2(name: str, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match=words):
        load_input(FIXTURES / name)
    assert main(["check", "--input", str(FIXTURES / name)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and words in err and "\n" not in err


def test_missing_file_and_empty_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--input", "/nonexistent/preview.json"]) == 2
    assert "no such file" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["check", "--input", "-"]) == 2
    assert "empty" in capsys.readouterr().err


def test_stdin_and_no_secret_in_any_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rs = rendered("mortgage-aws")
    doc = json.dumps(to_export(rs))
    for fmt in ("table", "json", "sarif", "junit"):
        monkeypatch.setattr("sys.stdin", io.StringIO(doc))
        code = main(["check", "--stack", "mortgage-aws", "--input", "-", "--format", fmt])
        out = capsys.readouterr()
        assert code == judge(rs, load_stack("mortgage-aws").profile).exit_code
        assert PLANTED_SECRET not in out.out + out.err and PLANTED_CIPHERTEXT not in out.out + out.err


def test_without_profile_profile_rules_are_not_verified(tmp_path: Path) -> None:
    rs = rendered("mortgage-aws")
    verdict = judge(load_input(_write(tmp_path, "r.json", rs.to_dict())), None)
    ret = [f for f in verdict.findings if f.rule_id == "AVG-RET-001"]
    assert ret and all(f.status is Status.NOT_VERIFIED for f in ret)
    assert "profile" in ret[0].message
    assert verdict.exit_code == 3


def test_bad_flags_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "xml"]) == 2
    assert main(["check", "--stack", "no/such"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "is a directory"),
        (b"\xff\xfe{\x00}\x00", "not UTF-8"),
        (b'{"version": "3", "deployment": {}}', "not the string '3'"),
        (b'{"resources": [], "stack": "x"}', "nothing to judge"),
    ],
    ids=["directory", "not-utf8", "version-as-string", "no-records"],
)
def test_unusable_input_files_are_named_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, words: str
) -> None:
    path = tmp_path / "input.json"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    assert main(["check", "--input", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and words in err and "\n" not in err, err


def test_a_device_is_named_as_such_not_as_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--input", "/dev/null"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --input: /dev/null is not a regular file (a device or socket); name a JSON file", (
        err
    )


def test_a_pipe_is_read(tmp_path: Path) -> None:
    """`--input <(pulumi stack export)` names a pipe, not a regular file."""
    import os
    import threading

    rs = rendered("mortgage-aws")
    fifo = tmp_path / "export"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=(json.dumps(to_export(rs)),), daemon=True)
    writer.start()
    try:
        got = load_input(fifo)
    finally:
        if writer.is_alive():  # the pipe was not read: open it so the writer can finish
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            writer.join(timeout=5)
            os.close(fd)
        writer.join(timeout=5)
    assert got.stack == "mortgage-aws" and len(got.records) >= len(rs.records)


def test_report_records_errors_name_the_records_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert (
        main(["report", "--stack", "mortgage-aws", "--records", "/nonexistent/r.json", "--out", str(out)])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err == "error: --records: no such file: /nonexistent/r.json", err
    assert not out.exists()
