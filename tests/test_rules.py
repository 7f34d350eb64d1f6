"""Every rule: metadata complete, every passing example passes, every failing example fails."""

from __future__ import annotations

import re

import pytest

from avg_voip.findings import Status
from policies.engine import Context, Example, Rule, all_rules, example_input

RULES = all_rules()
ARTICLE = re.compile(r"^\d+(\(\d+\))?(\([a-z]\))?$")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_metadata_complete(rule: Rule) -> None:
    m = rule.meta
    assert re.match(r"^AVG-[A-Z]+-\d{3}$", m.id), m.id
    assert m.title and m.rationale and m.remediation, m.id
    assert m.articles and all(ARTICLE.match(a) for a in m.articles), (m.id, m.articles)
    assert rule.passing and rule.failing, f"{m.id} needs a passing and a failing example"


def _cases(kind: str) -> list[tuple[Rule, int]]:
    return [(r, i) for r in RULES for i, _ in enumerate(getattr(r, kind))]


@pytest.mark.parametrize(
    ("rule", "index"), _cases("passing"), ids=lambda v: v.id if isinstance(v, Rule) else str(v)
)
def test_passing_example_passes(rule: Rule, index: int) -> None:
    records, profile = example_input(rule.passing[index])
    results = rule.evaluate(Context(records=records, profile=profile))
    assert results, f"{rule.id} passing example {index} produced no result"
    assert all(r.status is Status.PASS for r in results), [(r.status, r.message) for r in results]


@pytest.mark.parametrize(
    ("rule", "index"), _cases("failing"), ids=lambda v: v.id if isinstance(v, Rule) else str(v)
)
def test_failing_example_fails(rule: Rule, index: int) -> None:
    example = rule.failing[index]
    records, profile = example_input(example)
    results = rule.evaluate(Context(records=records, profile=profile))
    assert any(r.status is Status.FAIL for r in results), (
        example.note,
        [(r.status, r.message) for r in results],
    )


@pytest.mark.parametrize("stack", ["mortgage-aws", "healthcare-hcloud"])
def test_backups_switched_off_in_the_profile_fail_as_the_title_says(stack: str) -> None:
    rule = next(r for r in RULES if r.id == "AVG-BAK-001")
    assert "when the profile asks" not in rule.meta.title and "switches them off fails" in rule.meta.title
    example = next(e for e in rule.passing if e.profile == stack)
    records, profile = example_input(example)
    assert profile is not None
    off = profile.model_copy(update={"backups": profile.backups.model_copy(update={"enabled": False})})
    results = rule.evaluate(Context(records=records, profile=off))
    assert [r.status for r in results] == [Status.FAIL]
    assert "disables backups" in results[0].message


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"status": "Disabled"}, "the rule covering qa_recordings/ ('qa_recordings') is disabled"),
        (
            {"prefix_override": "recordings/"},
            "no enabled rule expires qa_recordings/; rules expire only recordings/",
        ),
        ({"filter_override": {"tag": {"key": "c", "value": "qa"}}}, "filters by tag or object size"),
        (
            {"filter_override": {"and": {"prefix": "{prefix}", "objectSizeGreaterThan": 1}}},
            "filters by tag or object size",
        ),
    ],
)
def test_lifecycle_failures_name_the_fault_beside_a_housekeeping_rule(
    kw: dict[str, object], says: str
) -> None:
    """A whole-bucket rule without expiration days does not turn every fault into 'no expiration in days'."""
    from corpus.cases import _with_housekeeping

    from policies.rules.ret_001_bucket_lifecycle import _stores

    rule = next(r for r in RULES if r.id == "AVG-RET-001")
    records, profile = example_input(Example(_with_housekeeping(_stores(**kw))))
    results = rule.evaluate(Context(records=records, profile=profile))
    qa = [r for r in results if r.message.startswith("qa_recordings:")]
    assert [r.status for r in qa] == [Status.FAIL], qa
    assert says in qa[0].message and "no expiration in days" not in qa[0].message, qa[0].message


def _boom(record: object, ctx: Context) -> list[object]:
    raise ValueError("invalid literal for int() with base 10: 'abc'")


def test_a_rule_that_cannot_read_its_inputs_is_not_verified_never_a_crash() -> None:
    from dataclasses import replace

    from policies.engine import Example, evaluate
    from policies.rules._util import res

    records, profile = example_input(Example([res("aws:s3/bucket:Bucket", "rec", {"bucket": "rec"})]))
    broken = replace(RULES[0], types=(), check=_boom)
    findings = evaluate(records, profile, [broken])
    assert [(f.status, f.target) for f in findings] == [(Status.NOT_VERIFIED, records.records[0].urn)]
    assert findings[0].message.startswith(f"cannot read {broken.id} inputs: ValueError")
    stack = replace(broken, scope="stack", check=lambda ctx: _boom(None, ctx))
    assert [f.status for f in evaluate(records, profile, [stack])] == [Status.NOT_VERIFIED]


@pytest.mark.parametrize(
    ("rule_id", "record"),
    [
        (
            "AVG-LOG-001",
            {"type": "aws:cloudtrail/trail:Trail", "name": "t", "props": {"eventSelectors": "x"}},
        ),
        (
            "AVG-NET-002",
            {"type": "aws:ec2/securityGroup:SecurityGroup", "name": "sg", "props": {"ingress": ["x"]}},
        ),
    ],
)
def test_malformed_values_fail_closed_in_every_rule(rule_id: str, record: dict[str, object]) -> None:
    from policies.engine import Example, evaluate, get_rule
    from policies.rules._util import bucket, res

    rec = res(str(record["type"]), str(record["name"]), dict(record["props"]))  # type: ignore[call-overload]
    records, profile = example_input(Example([bucket("rec"), rec]))
    findings = evaluate(records, profile, [get_rule(rule_id)])
    assert findings and all(f.status is not Status.PASS for f in findings), findings
    assert any(f.message.startswith(f"cannot read {rule_id} inputs:") for f in findings), findings


def test_unreadable_ports_are_taken_as_every_port() -> None:
    from avg_voip.records import ResourceRecord
    from policies.rules._net import ingress_of
    from policies.rules._util import HC_FIREWALL, res

    rules = [
        {"direction": "in", "protocol": "tcp", "port": p, "sourceIps": ["0.0.0.0/0"]}
        for p in ("abc", ["5060"], "9-1")
    ]
    rules.append({"direction": "in", "protocol": "tcp", "port": "5061", "sourceIps": ["0.0.0.0/0"]})
    got = ingress_of(ResourceRecord.from_dict(res(HC_FIREWALL[0], "fw", {"rules": rules})))
    assert [(i.port_from, i.port_to, i.unreadable is not None) for i in got] == [
        (0, 65535, True),
        (0, 65535, True),
        (0, 65535, True),
        (5061, 5061, False),
    ]
    assert "unreadable port" in got[0].describe()
