"""Evidence: when and on what an audit ran, which inputs it read, and what each finding observed.

Everything here except the `run` block is stable across runs on the same inputs, so CI can diff two audits:
JSON is written with sorted keys, lists are sorted, and the only timestamp lives in `run`. Beside the git
commit stand `dirty` (files changed since that commit, or new files git does not ignore) and the hashes of the rule catalogue files, so
an audit run on edited rules cannot pass for one run on the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from avg_voip.findings import Finding, Status
from avg_voip.profile import Profile
from avg_voip.records import RecordSet
from avg_voip.stackconfig import project_root

# Python distributions whose versions decide what the audit could see.
PYTHON_TOOLS = ("ansible-core", "pulumi", "pulumi-aws", "pulumi-hcloud", "pulumi-policy")
CHECKOV_ENV = Path(".tools") / "checkov"


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no whitespace, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def stable_json(value: Any) -> str:
    """Readable and still byte-stable: what the evidence files on disk use."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def profile_sha256(profile: Profile) -> str:
    """SHA-256 of the profile's canonical JSON: the same profile gives the same hash, whatever its YAML layout."""
    return sha256_text(canonical_json(profile.model_dump(mode="json")))


def _output(argv: list[str], cwd: Path | None = None, timeout: int = 10) -> str | None:
    """stdout of a command that succeeded, stripped; None when it could not run or failed."""
    try:
        out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit(root: Path | None = None) -> str:
    sha = _output(["git", "rev-parse", "HEAD"], cwd=root or project_root())
    return sha if sha and len(sha) == 40 else "unknown"


def git_dirty(root: Path | None = None) -> bool | None:
    """True when the checkout is not the commit: a tracked file differs (staged or not), or a file git neither
    tracks nor ignores exists (a new stack file such as Pulumi.t1.yaml, a new rule); None when not a git checkout.
    """
    out = _output(
        ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=all"],
        cwd=root or project_root(),
    )
    return None if out is None else bool(out)


# The files whose content decides a verdict: the plan rules, the engine and manual obligations that run them, and
# the data they read (residency catalogue, control matrix). Globs relative to the project root.
RULE_CATALOGUE_GLOBS = (
    "policies/rules/*.py",
    "policies/engine.py",
    "policies/manual.py",
    "avg_voip/data/*.yaml",
)


@dataclass(frozen=True)
class RuleCatalogue:
    """SHA-256 of every rule and verdict data file, and one hash over them all: the SHA-256 of their
    `sha256sum`-style listing ("<sha256>  <path>" per line, sorted by path)."""

    files: tuple[tuple[str, str], ...]  # (path relative to the project root, sha256), sorted by path

    @property
    def sha256(self) -> str:
        return sha256_text("".join(f"{digest}  {path}\n" for path, digest in self.files))

    def to_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "files": [{"path": path, "sha256": digest} for path, digest in self.files],
        }


def rule_catalogue_hashes(root: Path | None = None) -> RuleCatalogue:
    base = root or project_root()
    paths = {p for pattern in RULE_CATALOGUE_GLOBS for p in base.glob(pattern) if p.is_file()}
    return RuleCatalogue(tuple(sorted((p.relative_to(base).as_posix(), sha256_file(p)) for p in paths)))


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@cache
def checkov_version(root: Path | None = None) -> str:
    """checkov lives in its own tool environment; read its metadata there (running it takes seconds)."""
    env = (root or project_root()) / CHECKOV_ENV
    if not (env / "bin" / "checkov").exists():
        return "not installed"
    for site in sorted(env.glob("lib/python*/site-packages")):
        for dist in importlib.metadata.distributions(path=[str(site)]):
            if dist.metadata["Name"] == "checkov":
                return str(dist.version)
    return _output([str(env / "bin" / "checkov"), "--version"], timeout=60) or "not installed"


def tool_versions() -> dict[str, str]:
    tools = {name: _version(name) for name in PYTHON_TOOLS}
    tools["checkov"] = checkov_version()
    tools["avg-voip"] = _version("avg-voip")
    return dict(sorted(tools.items()))


@dataclass(frozen=True)
class InputFile:
    """A file the audit read, named relative to the project when it lies inside it."""

    path: str
    sha256: str
    role: str  # stack config, residency catalogue, control matrix, host findings, records
    in_memory: bool = False  # produced during the run (the rendered records), not read from a file

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "role": self.role, "sha256": self.sha256}
        if self.in_memory:
            d["in_memory"] = True
        return d


def input_file(path: Path, role: str, root: Path | None = None) -> InputFile:
    base = (root or project_root()).resolve()
    resolved = path.resolve()
    shown = str(resolved.relative_to(base)) if resolved.is_relative_to(base) else str(resolved)
    return InputFile(shown, sha256_file(resolved), role)


def generated_input(name: str, text: str, role: str) -> InputFile:
    """An input produced in memory (the rendered records): hashed as its canonical text."""
    return InputFile(name, sha256_text(text), role, in_memory=True)


def records_input(records: RecordSet) -> InputFile:
    """The judged resources, hashed in urn order so the order they were registered in does not count."""
    doc = records.to_dict()
    doc["resources"] = sorted(doc["resources"], key=lambda r: (r["urn"], canonical_json(r)))
    return generated_input("records (canonical JSON, by urn)", canonical_json(doc), "resource records")


@dataclass(frozen=True)
class Evidence:
    stack: str
    profile_sha256: str
    git_commit: str
    tools: dict[str, str]
    inputs: tuple[InputFile, ...]
    source: str  # where the resources came from: render, preview, state
    host_checks_run: bool
    # The code state beside git_commit: uncommitted changes to tracked files, and the rule files' own hashes
    # (an edited rule shows even when the commit does not change).
    dirty: bool | None = field(default_factory=git_dirty)
    rule_catalogue: RuleCatalogue = field(default_factory=rule_catalogue_hashes)

    def to_dict(self, files_only: bool = False) -> dict[str, Any]:
        """`files_only` leaves out inputs made during the run: an offline render under mocks need not be
        byte-stable (mock addresses), and documents that must diff cleanly carry only what was read."""
        inputs = [i for i in self.inputs if not (files_only and i.in_memory)]
        return {
            "stack": self.stack,
            "profile_sha256": self.profile_sha256,
            "git_commit": self.git_commit,
            "dirty": self.dirty,
            "rule_catalogue": self.rule_catalogue.to_dict(),
            "tools": dict(sorted(self.tools.items())),
            "inputs": [i.to_dict() for i in sorted(inputs, key=lambda i: (i.role, i.path))],
            "resource_source": self.source,
            "host_checks_run": self.host_checks_run,
        }


def run_block(command: str, now: dt.datetime | None = None) -> dict[str, str]:
    """The one place a timestamp appears; diff tools ignore it by dropping `run`."""
    moment = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    return {"command": command, "generated_at": moment.isoformat().replace("+00:00", "Z")}


def target_kind(target: str) -> str:
    if target.startswith("urn:"):
        return "resource"
    head, sep, _ = target.partition(":")
    return head if sep else "target"


def short_target(target: str) -> str:
    """urn:pulumi:stack::project::type::name -> name; host:sip-1 stays as it is."""
    return target.rsplit("::", 1)[-1] if target.startswith("urn:") else target


def finding_evidence(finding: Finding) -> dict[str, Any]:
    """What an auditor needs to re-check one finding: where, what was seen, what was expected."""
    body = finding.to_dict()
    body.update(target_kind=target_kind(finding.target), target_name=short_target(finding.target))
    return body


def finding_order(finding: Finding) -> tuple[str, str, str, str]:
    return (finding.rule_id, finding.target, finding.message, canonical_json(finding.observed))


def load_host_findings(path: Path) -> list[Finding]:
    """Read host findings (a list of Finding dicts, or a document with a `findings` list); ValueError if bad.

    Only findings from the hosts are kept: a combined file (the lab's reports/<stack>/lab/findings.json) also
    holds plan and manual findings, which this audit judges afresh.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON (line {exc.lineno})") from None
    items = doc.get("findings") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a list of findings or an object with a 'findings' list")
    out: list[Finding] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"{path}: findings.{i} must be an object")
        try:
            status = Status(item["status"])
            rule_id, target = str(item["rule_id"]), str(item["target"])
        except KeyError as exc:
            raise ValueError(f"{path}: findings.{i}.{exc.args[0]} is required") from None
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            raise ValueError(f"{path}: findings.{i}.status must be one of {allowed}") from None
        source = str(item.get("source", "host"))
        if source in ("plan", "manual", "generated"):
            continue
        out.append(
            Finding(
                rule_id=rule_id,
                status=status,
                target=target,
                message=str(item.get("message", "")),
                observed=item.get("observed"),
                expected=item.get("expected"),
                source=source,
                extra=dict(item.get("extra") or {}),
            )
        )
    return out


def merge_findings(plan: Iterable[Finding], host: Iterable[Finding]) -> list[Finding]:
    """Plan and host findings together, in one stable order, without duplicates."""
    seen: dict[str, Finding] = {}
    for f in [*plan, *host]:
        seen.setdefault(canonical_json(finding_evidence(f)), f)
    return sorted(seen.values(), key=finding_order)
