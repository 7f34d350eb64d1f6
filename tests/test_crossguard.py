"""The CrossGuard pack: each policy's validate function, called with args built the way the analyzer builds
them (protobuf Struct -> deserialize_properties -> unknown_checking_proxy), judges as the offline engine."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from corpus.cases import Case, cases
from corpus.pulumi_formats import rendered, wire
from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from avg_voip.findings import Status
from avg_voip.records import UNKNOWN, RecordSet, ResourceRecord
from policies.crossguard import adapter
from policies.engine import all_rules, evaluate, example_input
from policies.rules._util import BUCKET

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "policies" / "crossguard"
POLICIES = {p.name: p for p in adapter.build_policies()}


def wrapped(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """Exactly the analyzer's path: a protobuf Struct on the wire, then deserialised and proxied."""
    struct = struct_pb2.Struct()
    struct.update(wire(dict(props)))
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def _opts(parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def _provider(r: ResourceRecord) -> PolicyProviderResource | None:
    if r.provider is None:
        return None
    return PolicyProviderResource(
        r.provider.type, wrapped(r.provider.config), r.provider.urn, r.provider.urn.rsplit("::", 1)[-1]
    )


def resource_args(r: ResourceRecord, config: Mapping[str, Any]) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        r.type, wrapped(r.props), r.urn, r.name, _opts(r.parent), _provider(r), config
    )


def _outputs(r: ResourceRecord) -> dict[str, Any]:
    """Stack policies see outputs: the inputs plus what the provider computes; a bucket's name is its id."""
    out = dict(r.props)
    if r.type in BUCKET and r.id:
        out.setdefault("bucket", r.id)
    return out


def stack_args(rs: RecordSet, config: Mapping[str, Any]) -> StackValidationArgs:
    resources = {
        r.urn: PolicyResource(
            r.type, wrapped(_outputs(r)), r.urn, r.name, _opts(r.parent), _provider(r), None, [], {}
        )
        for r in rs.records
    }
    for r in rs.records:
        resources[r.urn].dependencies = [resources[d] for d in r.dependencies if d in resources]
        if r.parent in resources:
            resources[r.urn].parent = resources[r.parent]
    stack_urn = f"urn:pulumi:{rs.stack}::avg-voip::pulumi:pulumi:Stack::avg-voip-{rs.stack}"
    stack = PolicyResource(
        "pulumi:pulumi:Stack",
        wrapped(rs.outputs),
        stack_urn,
        f"avg-voip-{rs.stack}",
        _opts(),
        None,
        None,
        [],
        {},
    )
    return StackValidationArgs([stack, *resources.values()], config)


def run_policy(rule_id: str, rs: RecordSet, config: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """Violations (message, urn) the pack reports for `rule_id` on this record set."""
    policy = POLICIES[rule_id]
    violations: list[tuple[str, str | None]] = []

    def report(message: str, urn: str | None = None) -> None:
        violations.append((message, urn))

    if isinstance(policy, StackValidationPolicy):
        policy.validate(stack_args(rs, config), report)
    else:
        assert isinstance(policy, ResourceValidationPolicy)
        for r in rs.records:
            before = len(violations)
            policy.validate(resource_args(r, config), report)
            violations[before:] = [(m, u or r.urn) for m, u in violations[before:]]
    return violations


def _config(profile_stack: str | None) -> dict[str, Any]:
    return {"profile": str(ROOT / f"Pulumi.{profile_stack}.yaml")} if profile_stack else {}


@pytest.fixture(autouse=True)
def _no_ambient_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(adapter, "_pulumi_stack", lambda: None)


def test_every_rule_is_a_policy_with_the_right_level() -> None:
    assert set(POLICIES) == {r.id for r in all_rules()}
    for rule in all_rules():
        policy = POLICIES[rule.id]
        mandatory = rule.meta.severity.value in ("critical", "high")
        assert policy.enforcement_level == (
            EnforcementLevel.MANDATORY if mandatory else EnforcementLevel.ADVISORY
        )
        assert policy.remediation_steps == rule.meta.remediation
        assert policy.config_schema is not None and "profile" in policy.config_schema.properties


def test_cross_resource_rules_are_stack_policies() -> None:
    stack = {n for n, p in POLICIES.items() if isinstance(p, StackValidationPolicy)}
    # the examples: lifecycle covering the recordings prefix, the trail covering the recordings bucket
    assert {"AVG-RET-001", "AVG-LOG-001"} <= stack
    # bucket rules that read the bucket's side resources cannot be judged from the bucket alone
    assert {"AVG-ACC-001", "AVG-ACC-002", "AVG-ENC-001", "AVG-RET-005", "AVG-RES-004"} <= stack
    assert {"AVG-KMS-001", "AVG-NET-001", "AVG-RES-001", "AVG-HOST-001"}.isdisjoint(stack)


@pytest.mark.parametrize("case", cases(), ids=str)
def test_corpus_case_judged_like_the_engine(case: Case) -> None:
    records, profile = example_input(case.example)
    engine = [f for f in evaluate(records, profile, [adapter._rule(case.rule_id)]) if f.status is Status.FAIL]
    violations = run_policy(case.rule_id, records, _config(case.example.profile))
    if case.expect == "fail":
        assert engine, f"offline engine misses {case}"
        assert violations, f"CrossGuard misses {case}: {case.example.note}"
        assert {u for _, u in violations if u} >= {f.target for f in engine if f.target.startswith("urn:")}
    else:
        assert not violations, violations


@pytest.mark.parametrize("stack", ["mortgage-aws", "healthcare-hcloud"])
def test_example_stacks_pass_the_pack_as_they_pass_the_engine(stack: str) -> None:
    rs = rendered(stack)
    from avg_voip.stackconfig import load_stack

    failing = {f.rule_id for f in evaluate(rs, load_stack(stack).profile) if f.status is Status.FAIL}
    for rule in all_rules():
        got = run_policy(rule.id, rs, _config(stack))
        assert bool(got) == (rule.id in failing), (rule.id, got[:3])


def _with_unknown_key() -> RecordSet:
    from policies.rules.enc_001_bucket_cmk import _sse

    sse = _sse("aws:kms")
    sse["props"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] = UNKNOWN
    from policies.rules._util import bucket, res

    key = res("aws:kms/key:Key", "k", {"enableKeyRotation": True, "multiRegion": UNKNOWN})
    return RecordSet("example", [ResourceRecord.from_dict(d) for d in (bucket("rec"), sse, key)])


def test_unknowns_at_preview_are_reported_never_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    rs = _with_unknown_key()
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    for rule_id in ("AVG-ENC-001", "AVG-KMS-001"):  # a stack policy and a resource policy
        with pytest.raises(adapter.CannotVerifyAtPreview, match="cannot verify at preview"):
            run_policy(rule_id, rs, {})
        enforced = run_policy(rule_id, rs, {"unknowns": "enforce"})
        assert enforced and all("NOT-VERIFIED" in m for m, _ in enforced)
    monkeypatch.setenv("PULUMI_DRY_RUN", "false")
    assert run_policy("AVG-ENC-001", rs, {}), "outside a preview an unknown is a violation"


def test_unknown_is_raised_through_pulumis_preview_channel() -> None:
    from pulumi_policy.proxy import UnknownValueError

    err = adapter.CannotVerifyAtPreview(["key unknown [rec]"])
    assert isinstance(err, UnknownValueError) and err.message.startswith("cannot verify at preview")


def test_runtime_numbers_and_secrets_are_unwrapped() -> None:
    props = wrapped({"days": 90, "ratio": 0.5, "nested": [{"n": 1}], "unknown": UNKNOWN})
    plain = adapter.unwrap(props)
    assert plain["days"] == 90 and isinstance(plain["days"], int) and plain["ratio"] == 0.5
    assert plain["nested"] == [{"n": 1}] and plain["unknown"] is UNKNOWN


def test_profile_from_policy_config_stack_file_or_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = yaml.safe_load((ROOT / "Pulumi.mortgage-aws.yaml").read_text())["config"]["avg-voip:profile"]
    assert adapter.resolve_profile({"profile": mapping}) is not None
    assert adapter.resolve_profile(_config("mortgage-aws")) is not None
    assert adapter.resolve_profile({}) is None
    monkeypatch.setenv("PULUMI_STACK", "healthcare-hcloud")
    got = adapter.resolve_profile({})
    assert got is not None and got.provider.value == "hcloud"


def test_missing_profile_is_reported_not_passed() -> None:
    from policies.rules.ret_001_bucket_lifecycle import _stores

    rs = RecordSet("example", [ResourceRecord.from_dict(d) for d in _stores()])
    got = run_policy("AVG-RET-001", rs, {})
    assert got and all("NOT-VERIFIED" in m and "profile" in m for m, _ in got)


def test_pack_is_built_only_in_main() -> None:
    spec = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert spec["runtime"]["name"] == "python"
    main_calls = [
        n.func.id
        for n in ast.walk(ast.parse((PACK / "__main__.py").read_text()))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    ]
    assert "PolicyPack" in main_calls
    for path in PACK.glob("*.py"):
        if path.name != "__main__.py":
            assert "PolicyPack(" not in path.read_text(), path


def test_resource_policy_without_profile_reports_not_verified() -> None:
    from policies.rules.net_001_no_plain_sip import sg, tcp

    rs = RecordSet("example", [ResourceRecord.from_dict(sg(tcp(5061)))])
    got = run_policy("AVG-NET-003", rs, {})
    assert got and all("NOT-VERIFIED" in m and "profile" in m for m, _ in got)


def test_malformed_inputs_are_reported_not_verified_by_the_pack() -> None:
    from policies.rules._util import bucket, res

    trail = res("aws:cloudtrail/trail:Trail", "t", {"eventSelectors": "x"})
    rs = RecordSet("example", [ResourceRecord.from_dict(d) for d in (bucket("rec"), trail)])
    got = run_policy("AVG-LOG-001", rs, _config("mortgage-aws"))
    assert got and all("NOT-VERIFIED" in m and "cannot read AVG-LOG-001 inputs" in m for m, _ in got), got
