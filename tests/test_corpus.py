"""The violation corpus is complete: every rule has failing and passing record sets, and the cases issue 3
names are there. That each violation is caught is proven by the offline engine (test_rules.py), the CrossGuard
adapter (test_crossguard.py) and checkov where a check covers it (test_checkov.py)."""

from __future__ import annotations

import pytest
from corpus.cases import NAMED, cases

from avg_voip.findings import Status
from policies.engine import Context, all_rules, example_input, get_rule


def test_every_rule_has_failing_and_passing_cases() -> None:
    kinds = {(c.rule_id, c.expect) for c in cases()}
    for rule in all_rules():
        assert {(rule.id, "fail"), (rule.id, "pass")} <= kinds, rule.id


@pytest.mark.parametrize("what", sorted(NAMED))
def test_named_case_is_in_the_corpus_and_fails(what: str) -> None:
    rule_id, note = NAMED[what]
    found = [c for c in cases() if c.rule_id == rule_id and c.expect == "fail" and note in c.example.note]
    assert found, f"{what}: no failing case of {rule_id} with note {note!r}"
    for c in found:
        records, profile = example_input(c.example)
        results = get_rule(rule_id).evaluate(Context(records=records, profile=profile))
        assert any(r.status is Status.FAIL for r in results), c.name
