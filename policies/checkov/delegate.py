"""The base of our checkov custom checks: each one delegates to one rule of the catalogue.

Runs inside checkov's own environment, with this repository on PYTHONPATH (its dependencies there are the
same pins as ours: pydantic, PyYAML). On first use it reads the context the bridge wrote beside the plan (the
neutral records, the plan address of each, and the stack whose profile applies), evaluates the catalogue's
rules once with the offline engine, and answers per resource address. Nothing about a rule is restated here.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from avg_voip.findings import Status
from avg_voip.records import RecordSet
from policies.checkov.bridge import CONTEXT_ENV, check_id
from policies.engine import evaluate, get_rule

ADDRESS_KEY = "__address__"
_CATEGORY = {
    "ENC": CheckCategories.ENCRYPTION,
    "KMS": CheckCategories.ENCRYPTION,
    "LOG": CheckCategories.LOGGING,
    "NET": CheckCategories.NETWORKING,
    "BAK": CheckCategories.BACKUP_AND_RECOVERY,
    "IAM": CheckCategories.IAM,
}


@functools.cache
def _verdicts() -> dict[str, dict[str, list[tuple[Status, str]]]]:
    """rule id -> plan address -> [(status, message)], for every rule with a custom check."""
    path = os.environ.get(CONTEXT_ENV)
    if not path:
        logging.getLogger(__name__).error(
            "%s is not set: the CKV_AVG_* checks answer nothing; run checkov through policies/checkov/bridge.py",
            CONTEXT_ENV,
        )
        return {}
    ctx = json.loads(Path(path).read_text(encoding="utf-8"))
    rules = [get_rule(r) for r in sorted(DelegatingCheck.rule_ids)]
    out: dict[str, dict[str, list[tuple[Status, str]]]] = {}
    for one in ctx["sets"]:  # several record sets may share one run; their addresses are unique
        records = RecordSet.from_dict(one["records"])
        profile = None
        if one.get("profile_stack"):
            from avg_voip.stackconfig import load_stack

            profile = load_stack(one["profile_stack"], root=Path(ctx["project_dir"])).profile
        address_of = {urn: address for address, urn in one["addresses"].items()}
        for f in evaluate(records, profile, rules):
            address = address_of.get(f.target)
            if address is not None:
                out.setdefault(f.rule_id, {}).setdefault(address, []).append((f.status, f.message))
    return out


class DelegatingCheck(BaseResourceCheck):
    """A checkov check whose answer is our rule's verdict on the same resource."""

    rule_ids: set[str] = set()

    def __init__(self, rule_id: str) -> None:
        rule = get_rule(rule_id)
        DelegatingCheck.rule_ids.add(rule_id)
        self.rule_id = rule_id
        super().__init__(
            name=f"{rule.meta.title} ({rule_id}, AVG art. {', '.join(rule.meta.articles)})",
            id=check_id(rule_id),
            categories=(_CATEGORY.get(rule_id.split("-")[1], CheckCategories.GENERAL_SECURITY),),
            supported_resources=("aws_*", "hcloud_*"),
            guideline=rule.meta.remediation,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        address = conf.get(ADDRESS_KEY)
        answers = _verdicts().get(self.rule_id, {}).get(str(address), [])
        if not answers:
            return CheckResult.UNKNOWN  # the rule does not judge this resource
        failing = [m for s, m in answers if s is not Status.PASS]
        if failing:
            # NOT-VERIFIED is never a pass: checkov has no outcome it would show for it, so it fails with why
            self.details = [f"{s.value}: {m}" for s, m in answers if s is not Status.PASS]
            return CheckResult.FAILED
        return CheckResult.PASSED
