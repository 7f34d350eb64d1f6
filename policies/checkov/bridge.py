"""checkov bridge: neutral records -> Terraform plan JSON -> real checkov, with our own custom checks.

checkov has no Pulumi support. This turns our records into the plan JSON its `terraform_plan` framework reads
(`aws_*`/`hcloud_*` types, snake_case attributes, nested blocks as lists, `configuration` references so graph
checks see bucket <-> lifecycle <-> encryption <-> public access block), then runs checkov from its own tool
environment (.tools/checkov; `make checkov`), whose pinned dependencies conflict with ours.

Custom checks (policies/checkov/checks/) delegate to our rules: checkov runs them with this repository on
PYTHONPATH and a context file (the records and the stack whose profile to use) beside the plan; on first use
they evaluate the same rule functions as the offline engine, once, and answer per resource address. A
NOT-VERIFIED answer is reported as FAILED with the reason (checkov has no "unknown" outcome it would show).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from avg_voip.records import UNKNOWN, RecordSet, ResourceRecord, is_unknown

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
MAPPING_FILE = HERE / "mapping.yaml"
SKIP_FILE = HERE / "skip.yaml"
CHECKS_DIR = HERE / "checks"
CHECKOV_ENV = REPO_ROOT / ".tools" / "checkov"
CONTEXT_ENV = "AVG_VOIP_CHECKOV_CONTEXT"
TERRAFORM_VERSION = "1.9.8"  # what the plan claims to come from; checkov reads format 1.x plans
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
_NAME = re.compile(r"[^A-Za-z0-9_-]")


class CheckovError(RuntimeError):
    pass


def check_id(rule_id: str) -> str:
    """Our custom check's id for a rule: AVG-RES-001 -> CKV_AVG_RES_001."""
    return "CKV_" + rule_id.replace("-", "_")


@functools.cache
def mapping() -> dict[str, Any]:
    return yaml.safe_load(MAPPING_FILE.read_text(encoding="utf-8"))


def tf_type(token: str) -> str | None:
    return mapping()["types"].get(token)


def snake(name: str) -> str:
    return _CAMEL.sub(r"_\1", name).lower()


def _rename(key: str, tf: str) -> str:
    per_type = mapping()["renames"].get(tf, {})
    if key in per_type:
        return per_type[key]
    return mapping()["renames"]["common"].get(key) or snake(key)


def to_values(props: dict[str, Any], tf: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pulumi inputs -> Terraform attribute values, and the `after_unknown` tree for unknown values."""
    maps = set(mapping()["maps"])
    json_strings = set(mapping()["json_strings"])

    def convert(value: Any, key: str | None) -> tuple[Any, Any]:
        if is_unknown(value):
            return None, True
        if key in maps and isinstance(value, dict):
            return {k: (None if is_unknown(v) else v) for k, v in value.items()}, False
        if key in json_strings and isinstance(value, dict | list):
            return json.dumps(value), False
        if isinstance(value, dict):
            obj, unk = convert_obj(value)
            return [obj], [unk] if unk else False
        if isinstance(value, list):
            pairs = [convert_obj(v) if isinstance(v, dict) else convert(v, None) for v in value]
            unknowns = [u for _, u in pairs]
            return [v for v, _ in pairs], unknowns if any(unknowns) else False
        return value, False

    def convert_obj(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        out: dict[str, Any] = {}
        unknown: dict[str, Any] = {}
        for k, v in obj.items():
            name = _rename(k, tf)
            out[name], u = convert(v, k)
            if u:
                unknown[name] = u
        return out, unknown

    return convert_obj(props)


@dataclass
class Plan:
    document: dict[str, Any]
    addresses: dict[str, str] = field(default_factory=dict)  # address -> urn
    unmapped: list[str] = field(default_factory=list)  # type tokens with no Terraform type


def _address_name(record: ResourceRecord, taken: dict[str, str], tf: str, prefix: str) -> str:
    base = prefix + (_NAME.sub("_", record.name) or "resource")
    if base[0].isdigit():
        base = "r_" + base
    name, n = base, 1
    while f"{tf}.{name}" in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def convert(records: RecordSet, prefix: str = "") -> Plan:
    """Records -> Terraform plan JSON (format 1.2) with planned values, changes and configuration references.
    `prefix` keeps addresses unique when several record sets are scanned in one checkov run."""
    planned: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    configuration: list[dict[str, Any]] = []
    plan = Plan({})
    by_urn: dict[str, str] = {}
    converted: list[tuple[ResourceRecord, str, str]] = []
    for r in records.records:
        tf = tf_type(r.type) if r.custom else None
        if tf is None:
            if r.custom and not r.type.startswith("pulumi:providers:"):
                plan.unmapped.append(r.type)
            continue
        name = _address_name(r, plan.addresses, tf, prefix)
        address = f"{tf}.{name}"
        plan.addresses[address] = r.urn
        by_urn[r.urn] = address
        converted.append((r, tf, name))
    by_id: dict[str, ResourceRecord] = {}
    for r, _, _ in converted:
        for name_ in (r.id, r.props.get("bucket") if tf_type(r.type) == "aws_s3_bucket" else None):
            if isinstance(name_, str) and name_:
                by_id.setdefault(name_, r)
    for r, tf, name in converted:
        address = by_urn[r.urn]
        values, unknown = to_values(r.props, tf)
        provider = f"registry.terraform.io/hashicorp/{r.package}"
        planned.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf,
                "name": name,
                "provider_name": provider,
                "schema_version": 0,
                "values": values,
                "sensitive_values": {},
            }
        )
        changes.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf,
                "name": name,
                "provider_name": provider,
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": values,
                    "after_unknown": unknown,
                    "before_sensitive": False,
                    "after_sensitive": {},
                },
            }
        )
        configuration.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf,
                "name": name,
                "provider_config_key": r.package,
                "expressions": _expressions(r, records, by_urn, by_id),
                "schema_version": 0,
            }
        )
    plan.document = {
        "format_version": "1.2",
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": _provider_config(records),
            "root_module": {"resources": configuration},
        },
    }
    return plan


def _names(value: str, target: ResourceRecord) -> bool:
    """Does `value` name the target: its id, or an ARN that ends in it (`...:log-group:ID:*`, `.../ID`)?"""
    rid = target.id
    if not rid:
        return False
    return (
        value == rid or value.endswith((f"/{rid}", f":{rid}")) or f":{rid}:" in value or f"/{rid}:" in value
    )


def _expressions(
    r: ResourceRecord, records: RecordSet, by_urn: dict[str, str], by_id: dict[str, ResourceRecord]
) -> dict[str, Any]:
    """References where an attribute holds another resource's id or ARN (or, for a bucket, its name): what
    Terraform's configuration says as `aws_s3_bucket.recordings.id`. Dependencies are searched first (an
    ARN names its target only by suffix), then every resource by exact id."""
    targets = [t for u in dict.fromkeys(r.dependencies) if u in by_urn and (t := records.by_urn(u))]
    buckets = [t for t in targets if tf_type(t.type) == "aws_s3_bucket"]
    tf = by_urn[r.urn].split(".", 1)[0]
    out: dict[str, Any] = {}
    for key, value in r.props.items():
        hits: list[ResourceRecord] = []
        for v in value if isinstance(value, list) else [value]:
            hit: ResourceRecord | None = None
            if isinstance(v, str):
                hit = next((t for t in targets if _names(v, t)), None)
                hit = hit or next((t for t in buckets if v == t.props.get("bucket")), None)
                hit = hit or (by_id.get(v) if key != "id" else None)
            elif is_unknown(v) and key == "bucket" and len(buckets) == 1:
                hit = buckets[0]  # a preview: the bucket's id is unknown, the dependency is not
            if hit is not None and hit.urn != r.urn:
                hits.append(hit)
        if hits:
            refs = [x for h in hits for x in (f"{by_urn[h.urn]}.id", by_urn[h.urn])]
            out[_rename(key, tf)] = {"references": refs}
    return out


def _provider_config(records: RecordSet) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in records.records:
        p = r.provider
        if p is None or p.package in out:
            continue
        region = p.config.get("region")
        expressions = {"region": {"constant_value": region}} if isinstance(region, str) else {}
        out[p.package] = {"name": p.package, "full_name": f"registry.terraform.io/hashicorp/{p.package}"}
        if expressions:
            out[p.package]["expressions"] = expressions
    return out


# -- skip list ---------------------------------------------------------------------------------------------


@functools.cache
def skip_list() -> dict[str, str]:
    """Built-in checks we skip, each with its written reason."""
    doc = yaml.safe_load(SKIP_FILE.read_text(encoding="utf-8")) or {}
    return {k: str(v["reason"]) for k, v in doc.get("skip", {}).items()}


# -- running checkov ---------------------------------------------------------------------------------------


def checkov_executable() -> Path:
    exe = Path(os.environ.get("CHECKOV_BIN") or CHECKOV_ENV / "bin" / "checkov")
    if not exe.is_file():
        raise CheckovError(f"checkov not found at {exe}: run `make checkov` to create its tool environment")
    return exe


@dataclass(frozen=True)
class Target:
    """One record set to scan, with the stack whose profile applies (None: rules needing one say so)."""

    name: str
    records: RecordSet
    profile_stack: str | None = None


def write_inputs(targets: list[Target], directory: Path) -> tuple[list[Path], Path, dict[str, Plan]]:
    """Write one plan per target and the context the custom checks read."""
    directory.mkdir(parents=True, exist_ok=True)
    plans: dict[str, Plan] = {}
    paths: list[Path] = []
    sets = []
    several = len(targets) > 1
    for i, t in enumerate(targets):
        plan = convert(t.records, prefix=f"t{i}_" if several else "")
        path = directory / (f"{_NAME.sub('_', t.name)}.plan.json" if several else "plan.json")
        path.write_text(json.dumps(plan.document, indent=1, default=_plain), encoding="utf-8")
        plans[t.name] = plan
        paths.append(path)
        sets.append(
            {"records": t.records.to_dict(), "addresses": plan.addresses, "profile_stack": t.profile_stack}
        )
    context_path = directory / "avg-voip-context.json"
    context = {"project_dir": str(REPO_ROOT), "sets": sets}
    context_path.write_text(json.dumps(context, default=_plain), encoding="utf-8")
    return paths, context_path, plans


def _plain(value: Any) -> Any:
    return None if value is UNKNOWN else str(value)


@dataclass
class CheckovRun:
    plans: dict[str, Plan]
    failed: list[dict[str, Any]]
    passed: list[dict[str, Any]]
    seconds: float

    def failures(self) -> set[tuple[str, str]]:
        """(check id, resource address) of every failed check."""
        return {(c["check_id"], c["resource"]) for c in self.failed}

    def passes(self) -> set[tuple[str, str]]:
        return {(c["check_id"], c["resource"]) for c in self.passed}


def run_checkov(
    targets: list[Target],
    directory: Path,
    custom_checks: bool = True,
    apply_skip_list: bool = True,
    checks: list[str] | None = None,
) -> CheckovRun:
    """Convert, run real checkov (terraform_plan framework: built-in checks + our custom checks), parse."""
    import time

    paths, context_path, plans = write_inputs(targets, directory)
    cmd = [str(checkov_executable()), "-f", *map(str, paths), "--framework", "terraform_plan"]
    cmd += ["-o", "json", "--compact", "--skip-download", "--no-fail-on-crash"]
    if custom_checks:
        cmd += ["--external-checks-dir", str(CHECKS_DIR)]
    if checks:
        cmd += ["--check", ",".join(checks)]
    elif apply_skip_list and skip_list():
        cmd += ["--skip-check", ",".join(sorted(skip_list()))]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), CONTEXT_ENV: str(context_path), "LOG_LEVEL": "ERROR"}
    env.pop("BC_API_KEY", None)  # never talk to a platform: local checks only
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise CheckovError(f"checkov exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return _parse(proc.stdout, plans, seconds)


def _parse(stdout: str, plans: dict[str, Plan], seconds: float) -> CheckovRun:
    text = stdout.strip()
    if not text:
        raise CheckovError("checkov printed nothing")
    doc = json.loads(text)
    reports = doc if isinstance(doc, list) else [doc]
    failed: list[dict[str, Any]] = []
    passed: list[dict[str, Any]] = []
    for rep in reports:
        results = rep.get("results") or {}
        failed += results.get("failed_checks") or []
        passed += results.get("passed_checks") or []
    return CheckovRun(plans, failed, passed, seconds)
