"""AVG-BAK-001: the SIP servers' data is backed up; the profile cannot switch backups off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.profile import Provider
from avg_voip.records import is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule
from policies.rules._util import BACKUP_PLAN, HC_SERVER, as_list, res
from policies.rules.ret_004_backup_retention import _plan

_SEL = res(
    "aws:backup/selection:Selection",
    "volumes",
    {"planId": "plan", "resources": ["arn:aws:ec2:eu-central-1:1:volume/v"]},
)


@rule(
    id="AVG-BAK-001",
    title="Backups of the SIP servers' data are enabled; a profile that switches them off fails",
    articles=("32(1)(b)", "32(1)(c)"),
    severity=Severity.MEDIUM,
    rationale=(
        "Art. 32(1)(c) asks for the ability to restore availability of and access to personal data in a timely "
        "manner after an incident; recordings kept for a legal obligation must survive a lost volume. Backups "
        "are therefore required: backups.enabled: false in the profile is a violation, not an exemption."
    ),
    remediation=(
        "Keep backups.enabled true in the profile. Hetzner: backups=True on every server. AWS: an "
        "aws.backup.Plan with a Selection of the data volumes."
    ),
    scope="stack",
    needs_profile=True,
    passing=[
        Example([_plan(35), _SEL]),
        Example(
            [res(HC_SERVER[0], "sip-1", {"location": "nbg1", "backups": True})], profile="healthcare-hcloud"
        ),
    ],
    failing=[
        Example([_plan(35)], note="a plan that selects nothing"),
        Example(
            [res(HC_SERVER[0], "sip-1", {"location": "nbg1", "backups": False})], profile="healthcare-hcloud"
        ),
        Example(
            [res(BACKUP_PLAN[0], "plan", {"rules": []}), _SEL], note="a plan without rules backs up nothing"
        ),
    ],
)
def check(ctx: Context) -> Iterator[Result]:
    assert ctx.profile is not None
    if not ctx.profile.backups.enabled:
        yield fail(
            ctx.stack_target,
            "the profile disables backups: restoring the data after an incident cannot be shown",
            False,
            True,
        )
        return
    if ctx.profile.provider is Provider.HCLOUD:
        for s in ctx.records.of_type(*HC_SERVER):
            if s.props.get("backups") is True:
                yield ok(s, "Hetzner backups enabled", True, True)
            else:
                yield fail(s, "server backups disabled", s.props.get("backups"), True)
        return
    plans = ctx.records.of_type(*BACKUP_PLAN)
    selections = ctx.records.of_type("aws:backup/selection:Selection")
    ruled = [p for p in plans if is_unknown(p.props.get("rules")) or _has_rules(p.props.get("rules"))]
    if plans and not ruled:
        yield fail(
            ctx.stack_target,
            "the AWS Backup plan has no rules: no backup is ever taken",
            0,
            ">= 1 rule with a schedule",
        )
    elif ruled and any(s.props.get("resources") or s.props.get("selectionTags") for s in selections):
        yield ok(ctx.stack_target, "an AWS Backup plan selects the data", len(selections), ">= 1 selection")
    else:
        yield fail(
            ctx.stack_target, "no AWS Backup plan with a selection of the data volumes", 0, ">= 1 selection"
        )


def _has_rules(rules: Any) -> bool:
    return any(isinstance(r, dict) or is_unknown(r) for r in as_list(rules))
