"""Evidence of the code state: a dirty flag beside the git commit, and the hashes of the rule catalogue files."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from test_matrix import example_verdict

import avg_voip.evidence as evidence
from avg_voip.evidence import Evidence, git_dirty, rule_catalogue_hashes
from avg_voip.report_cli import build_deliverables, evidence_document

ROOT = Path(__file__).resolve().parent.parent
RULE = "policies/rules/bak_001_backups_enabled.py"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git checkout holding a copy of the rule catalogue files, committed clean."""
    repo = tmp_path / "repo"
    for pattern in evidence.RULE_CATALOGUE_GLOBS:
        for src in ROOT.glob(pattern):
            dst = repo / src.relative_to(ROOT)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "rules")
    return repo


def _evidence() -> Evidence:
    return Evidence("s", "p", "c", {}, (), "render", False)


def test_an_edited_rule_shows_in_the_evidence(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evidence, "project_root", lambda: checkout)
    clean = _evidence().to_dict()
    assert clean["dirty"] is False
    files = {f["path"]: f["sha256"] for f in clean["rule_catalogue"]["files"]}
    assert files[RULE] == hashlib.sha256((ROOT / RULE).read_bytes()).hexdigest()
    assert "avg_voip/data/controls.yaml" in files and "avg_voip/data/residency.yaml" in files
    assert list(files) == sorted(files)

    rule = checkout / RULE
    rule.write_text(rule.read_text().replace("severity=Severity.MEDIUM", "severity=Severity.LOW"))
    edited = _evidence().to_dict()
    assert edited["dirty"] is True
    assert edited["git_commit"] == clean["git_commit"]
    after = {f["path"]: f["sha256"] for f in edited["rule_catalogue"]["files"]}
    assert set(after) == set(files)
    assert [p for p in files if files[p] != after[p]] == [RULE]
    assert edited["rule_catalogue"]["sha256"] != clean["rule_catalogue"]["sha256"]


def test_tracked_changes_make_a_checkout_dirty(checkout: Path, tmp_path: Path) -> None:
    assert git_dirty(checkout) is False
    (checkout / "avg_voip" / "data" / "controls.yaml").write_text("version: 2\n")
    assert git_dirty(checkout) is True
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git_dirty(outside) is None


def test_an_uncommitted_new_stack_file_makes_a_checkout_dirty(checkout: Path) -> None:
    (checkout / ".gitignore").write_text("reports/\n")
    _git(checkout, "add", ".gitignore")
    _git(checkout, "commit", "-q", "-m", "ignore reports")
    (checkout / "reports" / "t1").mkdir(parents=True)
    (checkout / "reports" / "t1" / "findings.json").write_text("{}\n")
    assert git_dirty(checkout) is False, "ignored output must not make the checkout dirty"
    (checkout / "stacks").mkdir()
    (checkout / "stacks" / "Pulumi.t1.yaml").write_text("config: {}\n")
    assert git_dirty(checkout) is True, "an untracked input file must make the checkout dirty"


def test_combined_hash_is_a_sha256sum_listing(checkout: Path) -> None:
    cat = rule_catalogue_hashes(checkout)
    listing = "".join(f"{digest}  {path}\n" for path, digest in cat.files)
    assert cat.sha256 == hashlib.sha256(listing.encode()).hexdigest()
    assert len(cat.files) == len({p for p, _ in cat.files})


def test_evidence_json_carries_dirty_and_rule_hashes_stably() -> None:
    verdict = example_verdict("mortgage-aws")
    docs = [evidence_document(build_deliverables(verdict)) for _ in range(2)]
    for doc in docs:
        doc.pop("run")
    assert json.dumps(docs[0], sort_keys=True) == json.dumps(docs[1], sort_keys=True)
    ev = docs[0]["evidence"]
    assert ev["dirty"] in (True, False, None)
    assert any(f["path"] == RULE for f in ev["rule_catalogue"]["files"])
    assert len(ev["rule_catalogue"]["sha256"]) == 64
