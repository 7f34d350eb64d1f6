"""The AVG control matrix: the mapping data, and how statuses add up per obligation (fail-closed)."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from avg_voip.audit import Verdict, rule_catalogue
from avg_voip.findings import Finding, Status
from avg_voip.matrix import HOST_NO_RESULT, HOST_NOT_RUN, Matrix, build_matrix, load_controls
from avg_voip.profile import Profile
from avg_voip.records import RecordSet
from avg_voip.stackconfig import load_stack
from policies.engine import Context, all_rules, example_input
from policies.manual import manual_findings

STACKS = ("healthcare-hcloud", "mortgage-aws")
ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """scripts/avg-voip in a fresh process, as a user runs it (one-line errors on stderr, exit codes)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "avg-voip"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={"AVG_VOIP_NO_REEXEC": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        check=False,
    )


@cache
def example_verdict(stack: str, failing: str | None = None) -> Verdict:
    """A verdict built from the rule catalogue's own examples for `stack` (no render needed).

    Every rule's passing examples for this stack's profile are judged; with `failing` set to a rule id,
    that rule's first failing example is judged instead, so the verdict holds a FAIL. Cached: do not mutate.
    """
    profile = load_stack(stack).profile
    findings: list[Finding] = []
    records = []
    for rule in all_rules():
        examples = rule.failing[:1] if rule.id == failing else rule.passing
        for ex in examples:
            if ex.profile not in (stack, None) and rule.id != failing:
                continue
            recs, prof = example_input(ex)
            for res in rule.evaluate(Context(records=recs, profile=prof or profile)):
                findings.append(
                    Finding(rule.id, res.status, res.target, res.message, res.observed, res.expected)
                )
            records += recs.records
    findings += manual_findings(profile, stack)
    return Verdict(stack, RecordSet(stack, records), sorted(findings, key=Finding.sort_key), profile)


def host_findings(status: Status = Status.PASS, skip: tuple[str, ...] = ()) -> list[Finding]:
    ids = {h for o in load_controls().obligations for h in o.host_checks} - set(skip)
    return [
        Finding(h, status, "host:sip-1", f"{h} judged on the host", "seen", "wanted", "host")
        for h in sorted(ids)
    ]


def matrix_of(verdict: Verdict, host: list[Finding] | None = None, profile: Profile | None = None) -> Matrix:
    findings = verdict.findings + (host or [])
    return build_matrix(verdict.stack, findings, profile or verdict.profile, host_checks_run=host is not None)


def in_eea_only() -> Profile:
    """The mortgage-aws profile without its sub-processor outside the EU/EEA."""
    profile = load_stack("mortgage-aws").profile
    doc = profile.model_dump(mode="json")
    for p in doc["organisation"]["processors"]:
        p["sub_processors"] = []
    return Profile.model_validate(doc)


def row(matrix: Matrix, obligation: str):  # type: ignore[no-untyped-def]
    return next(r for r in matrix.rows if r.obligation.id == obligation)


# -- the mapping data --------------------------------------------------------------------------------------


def test_every_plan_rule_and_manual_obligation_is_mapped() -> None:
    mapped = {c for o in load_controls().obligations for c in o.check_ids}
    missing = sorted(set(rule_catalogue()) - mapped)
    assert not missing, f"rules no obligation lists: {missing}"


def test_every_mapped_id_exists() -> None:
    known = set(rule_catalogue())
    for o in load_controls().obligations:
        for rid in o.plan_rules + o.manual:
            assert rid in known, f"{o.id}: unknown rule {rid}"
        for hid in o.host_checks:
            assert re.match(r"^AVG-HOST-[A-Z]+-\d{3}$", hid), f"{o.id}: {hid} is not a host check id"


def test_host_check_ids_match_the_host_catalogue() -> None:
    base = pytest.importorskip("policies.host.base", reason="host checks package not importable")
    flow = pytest.importorskip("avg_voip.lab.flow", reason="lab package not importable")
    known = set(base.meta_by_id()) | {flow.CONVERGES.id, flow.IDEMPOTENT.id}
    mapped = {h for o in load_controls().obligations for h in o.host_checks}
    assert mapped <= known, f"unknown host checks: {sorted(mapped - known)}"
    assert known <= mapped, f"host checks no obligation lists: {sorted(known - mapped)}"


@pytest.mark.parametrize(
    "article", ["5(1)(e)", "5(1)(f)", "32(1)(a)", "12", "13", "15", "17", "25", "28", "30", "33", "35", "44"]
)
def test_the_issue_obligations_are_all_there(article: str) -> None:
    assert any(article in o.articles for o in load_controls().obligations), article


def test_eea_countries_of_the_matrix_match_the_profile() -> None:
    from avg_voip.residency import EU_EEA_COUNTRIES

    assert load_controls().eea_countries == EU_EEA_COUNTRIES


def test_titles_in_both_languages() -> None:
    for o in load_controls().obligations:
        assert o.title["en"] and o.title["nl"] and o.title["en"] != o.title["nl"], o.id


# -- adding up ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_without_host_findings_host_rows_are_not_verified(stack: str) -> None:
    m = matrix_of(example_verdict(stack))
    r = row(m, "patching")
    assert r.status is Status.NOT_VERIFIED
    assert any(HOST_NOT_RUN in why for why in r.reasons), r.reasons
    assert all(c.status is Status.NOT_VERIFIED and c.note == HOST_NOT_RUN for c in r.checks)


def test_obligation_passes_only_when_every_automated_check_passes() -> None:
    m = matrix_of(example_verdict("mortgage-aws"), host=host_findings())
    r = row(m, "encryption-at-rest")
    assert r.status is Status.PASS, r.reasons
    assert all(c.status in (Status.PASS, None) for c in r.checks)
    r = row(
        matrix_of(example_verdict("mortgage-aws"), host=host_findings(), profile=in_eea_only()), "transfers"
    )
    assert r.status is Status.PASS, r.reasons


def test_transfers_to_a_sub_processor_outside_the_eea_need_the_dpo() -> None:
    verdict = example_verdict("mortgage-aws")
    r = row(matrix_of(verdict, host=host_findings()), "transfers")
    assert r.status is Status.MANUAL, r.reasons
    assert r.owners == [
        "Functionaris Gegevensbescherming Hypotheekhuis Amstel <fg@hypotheekhuis-amstel.example>"
    ]
    manual = next(c for c in r.checks if c.kind == "manual")
    assert manual.id == "AVG-MAN-046"
    assert "Amazon Web Services, Inc." in manual.note and "Art. 46(2)(c) SCCs" in manual.note
    plan = [c for c in r.checks if c.kind == "plan"]
    assert plan and all(c.status in (Status.PASS, None) for c in plan), "resource locations stay automated"
    (t,) = r.details["processor_transfers"]
    assert (t["location"], t["kind"]) == ("US", "sub-processor outside the EU/EEA")
    assert t["transfer_ground"].startswith("Art. 46(2)(c) SCCs")


def test_transfers_without_processors_abroad_rest_on_the_automated_checks() -> None:
    for verdict, profile in (
        (example_verdict("healthcare-hcloud"), None),
        (example_verdict("mortgage-aws"), in_eea_only()),
    ):
        r = row(matrix_of(verdict, host=host_findings(), profile=profile), "transfers")
        assert not any(c.kind == "manual" for c in r.checks), verdict.stack
        assert not r.details["processor_transfers"], verdict.stack


def test_one_failing_check_fails_the_obligation() -> None:
    m = matrix_of(example_verdict("mortgage-aws", failing="AVG-RES-001"), host=host_findings())
    r = row(m, "transfers")
    assert r.status is Status.FAIL
    assert any("AVG-RES-001" in why for why in r.reasons)


def test_one_failing_host_check_fails_the_obligation() -> None:
    host = [*host_findings(skip=("AVG-HOST-PATCH-002",))]
    host.append(
        Finding("AVG-HOST-PATCH-002", Status.FAIL, "host:sip-2", "3 security updates pending", 3, 0, "host")
    )
    m = matrix_of(example_verdict("healthcare-hcloud"), host=host)
    assert row(m, "patching").status is Status.FAIL


def test_host_check_missing_from_the_file_is_not_verified() -> None:
    m = matrix_of(example_verdict("mortgage-aws"), host=host_findings(skip=("AVG-HOST-SIP-004",)))
    r = row(m, "encryption-in-transit")
    assert r.status is Status.NOT_VERIFIED
    check = next(c for c in r.checks if c.id == "AVG-HOST-SIP-004")
    assert check.note == HOST_NO_RESULT


def test_host_not_verified_is_never_pass() -> None:
    m = matrix_of(example_verdict("mortgage-aws"), host=host_findings(Status.NOT_VERIFIED))
    assert all(r.status is not Status.PASS for r in m.rows if r.obligation.host_checks)


@pytest.mark.parametrize("stack", STACKS)
def test_manual_rows_name_their_owner(stack: str) -> None:
    verdict = example_verdict(stack)
    m = matrix_of(verdict, host=host_findings())
    org = verdict.profile.organisation  # type: ignore[union-attr]
    for oid in ("processors", "access-erasure", "information", "dpia"):
        r = row(m, oid)
        assert r.status is Status.MANUAL, (oid, r.status, r.reasons)
        assert any(org.dpo.email in o for o in r.owners), (oid, r.owners)
    breach = row(m, "breach-notification")
    assert breach.status is Status.MANUAL
    assert any(org.security_officer.email in o for o in breach.owners)


def test_processor_row_lists_the_profile_processors_and_agreements() -> None:
    verdict = example_verdict("mortgage-aws")
    details = row(matrix_of(verdict), "processors").details["processors"]
    refs = {p["agreement_ref"] for p in details}
    assert refs == {p.agreement_ref for p in verdict.profile.organisation.processors}  # type: ignore[union-attr]


def test_breach_row_carries_procedure_and_contacts() -> None:
    r = row(matrix_of(example_verdict("healthcare-hcloud")), "breach-notification")
    assert "security@zgmn.example" in r.details["contacts"]["security_officer"]
    assert any("72 hours" in step for step in r.details["procedure"]["en"])
    assert any("72 uur" in step for step in r.details["procedure"]["nl"])


def test_erasure_procedure_names_where_recordings_live() -> None:
    aws = row(matrix_of(example_verdict("mortgage-aws")), "access-erasure").details["procedure"]["en"]
    hc = row(matrix_of(example_verdict("healthcare-hcloud")), "access-erasure").details["procedure"]["en"]
    assert any("S3 recordings bucket" in s for s in aws)
    assert any("/srv/recordings/<category>/" in s for s in hc)
    assert not any("{recordings_where}" in s for s in aws + hc)


def test_notice_played_by_the_ivr_is_not_verified_until_a_check_confirms_it() -> None:
    verdict = example_verdict("mortgage-aws")
    profile = verdict.profile
    assert profile is not None
    played = profile.model_copy(
        update={"recording_notice": profile.recording_notice.model_copy(update={"played_by_ivr": True})}
    )
    r = row(matrix_of(verdict, host=host_findings(), profile=played), "information")
    assert r.status is Status.NOT_VERIFIED
    assert "recording_notice.played_by_ivr" in r.reasons[0]


def test_dpia_not_required_still_asks_the_dpo() -> None:
    verdict = example_verdict("mortgage-aws")
    profile = verdict.profile
    assert profile is not None
    calm = profile.model_copy(
        update={
            "risk_level": type(profile.risk_level)("standard"),
            "dpia": profile.dpia.model_copy(update={"large_scale": False}),
        }
    )
    assert not calm.dpia_required
    findings = [f for f in verdict.findings if f.rule_id != "AVG-MAN-035"]
    m = build_matrix("mortgage-aws", findings, calm, host_checks_run=False)
    r = row(m, "dpia")
    assert r.status is Status.MANUAL
    assert any("not required" in why for why in r.reasons)


def test_register_row_passes_only_with_a_generated_register() -> None:
    verdict = example_verdict("mortgage-aws")
    m = matrix_of(verdict)
    assert row(m, "register").status is Status.NOT_VERIFIED
    ok = Finding("AVG-REG-030", Status.PASS, "stack:mortgage-aws", "generated", source="generated")
    m = build_matrix(
        "mortgage-aws", verdict.findings, verdict.profile, host_checks_run=False, generated={"register": ok}
    )
    assert row(m, "register").status is Status.PASS


def test_counts_cover_every_obligation() -> None:
    m = matrix_of(example_verdict("healthcare-hcloud"))
    assert sum(m.counts.values()) == len(load_controls().obligations)
    assert list(m.counts) == ["FAIL", "NOT-VERIFIED", "MANUAL", "PASS"]


def test_a_host_check_reported_by_one_host_of_two_is_not_verified() -> None:
    verdict = example_verdict("mortgage-aws")
    m = build_matrix(
        verdict.stack,
        verdict.findings + host_findings(),
        verdict.profile,
        host_checks_run=True,
        hosts=("sip-1", "sip-2"),
    )
    r = row(m, "patching")
    assert r.status is Status.NOT_VERIFIED
    assert all("no result for sip-2" in c.note for c in r.checks if c.kind == "host")
    both = host_findings() + [
        Finding(f.rule_id, Status.PASS, "host:sip-2", f.message, f.observed, f.expected, "host")
        for f in host_findings()
    ]
    m = build_matrix(
        verdict.stack,
        verdict.findings + both,
        verdict.profile,
        host_checks_run=True,
        hosts=("sip-1", "sip-2"),
    )
    assert row(m, "patching").status is Status.PASS


@pytest.mark.parametrize(
    ("finding", "words"),
    [
        (Finding("AVG-HOST-NOPE-001", Status.PASS, "host:sip-1", "x", None, None, "host"), "unknown check"),
        (Finding("AVG-HOST-PATCH-002", Status.PASS, "host:sip-9", "x", None, None, "host"), "not a host"),
        (
            Finding("AVG-ENC-001", Status.PASS, "host:sip-1", "x", None, None, "host"),
            "AVG-ENC-001 is a plan rule or MANUAL obligation, not a host check",
        ),
        (Finding("AVG-MAN-028", Status.PASS, "host:sip-1", "x", None, None, "host"), "not a host check"),
    ],
    ids=["unknown-check", "unknown-host", "plan-rule", "manual-obligation"],
)
def test_host_findings_must_name_known_checks_and_hosts_of_the_stack(finding: Finding, words: str) -> None:
    from avg_voip.audit import judge
    from avg_voip.profile import ProfileError
    from avg_voip.render import render
    from avg_voip.report_cli import build_deliverables, stack_hosts

    stack = load_stack("healthcare-hcloud")
    verdict = judge(render(stack), stack.profile)
    assert stack_hosts(verdict.records) == ("sip-1", "sip-2")
    with pytest.raises(ProfileError, match=words) as exc:
        build_deliverables(verdict, host_findings=[finding])
    # Named by rule and target: a combined file's skipped plan findings would shift a list index.
    assert f"{finding.rule_id} on {finding.target}" in exc.value.key, exc.value.key
