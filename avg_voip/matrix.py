"""The AVG control matrix: per obligation, the status that its checks add up to, with the evidence.

The mapping from obligations to checks is data (avg_voip/data/controls.yaml). Statuses add up fail-closed: an
obligation is PASS only when every automated check that applies passed and nothing is left to a person; a
FAIL anywhere makes it FAIL; a check that could not run makes it NOT-VERIFIED, with the reason; what only a
person can confirm makes it MANUAL, with the owner.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from avg_voip.evidence import finding_evidence, finding_order
from avg_voip.findings import Finding, RuleMeta, Severity, Status
from avg_voip.hostvars import RECORDINGS_ROOT
from avg_voip.profile import Profile, Provider

CONTROLS_PATH = Path(__file__).parent / "data" / "controls.yaml"
HOST_NOT_RUN = "host checks not run in this audit"
HOST_NO_RESULT = "no result for this check in the host findings file"
STATUS_ORDER = (Status.FAIL, Status.NOT_VERIFIED, Status.MANUAL, Status.PASS)
LANGS = ("en", "nl")
# The register's own check: no resource or host is judged, the register generated from the profile is.
REGISTER_META = RuleMeta(
    id="AVG-REG-030",
    title="The processing register is generated from the profile and every activity carries Art. 30(1)(a)-(g)",
    articles=("30",),
    severity=Severity.MEDIUM,
    rationale=(
        "Art. 30 requires a record of every processing activity with its controller, purposes, data subjects "
        "and categories, recipients, transfers, retention and security measures. Generated from the same "
        "profile that drives the deployment, it cannot drift from what runs."
    ),
    remediation=(
        "Complete the profile: every data category needs purpose, legal basis, data subjects, retention with "
        "rationale and reader roles; the organisation needs controller and DPO. Then run `avg-voip register`."
    ),
)


class ControlsError(ValueError):
    """The controls file is malformed; names the key."""


@dataclass(frozen=True)
class Obligation:
    id: str
    articles: tuple[str, ...]
    title: dict[str, str]
    plan_rules: tuple[str, ...] = ()
    host_checks: tuple[str, ...] = ()
    manual: tuple[str, ...] = ()
    generated: str | None = None
    automated_when: str | None = None
    required_when: str | None = None
    manual_when: str | None = None
    procedure: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def check_ids(self) -> tuple[str, ...]:
        return self.plan_rules + self.host_checks + self.manual


@dataclass(frozen=True)
class Activity:
    id: str
    name: dict[str, str]
    match: dict[str, str]


@dataclass(frozen=True)
class Controls:
    obligations: tuple[Obligation, ...]
    activities: tuple[Activity, ...]
    storage_targets: dict[str, tuple[str, ...]]
    eea_countries: frozenset[str]
    path: Path


def _strs(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ControlsError(f"{key}: must be a list of strings")
    return tuple(value)


def _texts(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) for lang in LANGS):
        raise ControlsError(f"{key}: needs an 'en' and an 'nl' text")
    return {lang: value[lang] for lang in LANGS}


@cache
def load_controls(path: Path = CONTROLS_PATH) -> Controls:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("obligations"), list):
        raise ControlsError("obligations: must be a list")
    obligations: list[Obligation] = []
    for i, o in enumerate(raw["obligations"]):
        key = f"obligations.{i}"
        if not isinstance(o, dict) or not isinstance(o.get("id"), str):
            raise ControlsError(f"{key}.id: is required")
        procedure = o.get("procedure") or {}
        obligations.append(
            Obligation(
                id=o["id"],
                articles=_strs(o.get("articles"), f"{key}.articles"),
                title=_texts(o.get("title"), f"{key}.title"),
                plan_rules=_strs(o.get("plan_rules"), f"{key}.plan_rules"),
                host_checks=_strs(o.get("host_checks"), f"{key}.host_checks"),
                manual=_strs(o.get("manual"), f"{key}.manual"),
                generated=o.get("generated"),
                automated_when=o.get("automated_when"),
                required_when=o.get("required_when"),
                manual_when=o.get("manual_when"),
                procedure={lang: _strs(procedure.get(lang), f"{key}.procedure.{lang}") for lang in procedure},
            )
        )
    activities = tuple(
        Activity(a["id"], _texts(a.get("name"), f"activities.{i}.name"), dict(a.get("match") or {}))
        for i, a in enumerate(raw.get("activities") or [])
    )
    targets = {k: _strs(v, f"storage_targets.{k}") for k, v in (raw.get("storage_targets") or {}).items()}
    return Controls(
        tuple(obligations),
        activities,
        targets,
        frozenset(_strs(raw.get("eea_countries"), "eea_countries")),
        path,
    )


def catalogue() -> dict[str, RuleMeta]:
    """Plan rules, manual obligations and (when their package imports) the host checks, by id."""
    from avg_voip.audit import rule_catalogue

    metas = dict(rule_catalogue())
    metas[REGISTER_META.id] = REGISTER_META
    try:
        from policies.host.base import meta_by_id
    except ImportError:
        return metas
    # Host checks are optional here: when their modules cannot load, their ids still show, without titles.
    with contextlib.suppress(Exception):
        metas.update(meta_by_id())
    with contextlib.suppress(Exception):
        from avg_voip.lab.flow import CONVERGES, IDEMPOTENT  # the playbook's own checks, run by the lab

        metas.update({m.id: m for m in (CONVERGES, IDEMPOTENT)})
    return metas


@dataclass
class CheckRow:
    """One check of an obligation and what it found in this stack."""

    id: str
    kind: str  # plan | host | manual | generated
    title: str
    status: Status | None  # None: the check judged nothing in this stack (not applicable)
    note: str
    findings: list[Finding]
    owner: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "status": self.status.value if self.status else "not applicable",
            "note": self.note,
            "findings": [finding_evidence(f) for f in sorted(self.findings, key=finding_order)],
        }
        if self.owner:
            d["owner"] = self.owner
        return d


@dataclass
class ObligationRow:
    obligation: Obligation
    status: Status
    reasons: list[str]
    owners: list[str]
    checks: list[CheckRow]
    details: dict[str, Any]

    @property
    def counts(self) -> Counter[str]:
        return Counter(c.status.value if c.status else "not applicable" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        o = self.obligation
        return {
            "id": o.id,
            "articles": list(o.articles),
            "title": dict(o.title),
            "status": self.status.value,
            "reasons": list(self.reasons),
            "owners": list(self.owners),
            "checks": [c.to_dict() for c in self.checks],
            "details": self.details,
        }


@dataclass
class Matrix:
    stack: str
    rows: list[ObligationRow]
    host_checks_run: bool

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(r.status.value for r in self.rows)
        return {s.value: c[s.value] for s in STATUS_ORDER}

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "host_checks_run": self.host_checks_run,
            "summary": self.counts,
            "obligations": [r.to_dict() for r in self.rows],
        }


def _worst(statuses: list[Status]) -> Status:
    for s in STATUS_ORDER:
        if s in statuses:
            return s
    return Status.PASS


def _profile_flag(profile: Profile | None, path: str) -> bool:
    cur: Any = profile
    for step in path.split("."):
        if cur is None:
            return False
        cur = getattr(cur, step, None)
    return bool(cur)


def _contact(name: str, email: str, phone: str | None = None) -> str:
    return f"{name} <{email}>" + (f", {phone}" if phone else "")


def _automated_row(
    check_id: str, kind: str, title: str, found: list[Finding], host_run: bool, hosts: tuple[str, ...] = ()
) -> CheckRow:
    if kind == "host" and not host_run:
        return CheckRow(check_id, kind, title, Status.NOT_VERIFIED, HOST_NOT_RUN, [])
    if not found:
        if kind == "host":
            return CheckRow(check_id, kind, title, Status.NOT_VERIFIED, HOST_NO_RESULT, [])
        return CheckRow(
            check_id, kind, title, None, "judged nothing in this stack (no resource of its kind)", []
        )
    # A host check passes for the stack only when every host of the stack reported it.
    unchecked = (
        [h for h in hosts if not any(f.target == f"host:{h}" for f in found)] if kind == "host" else []
    )
    if unchecked:
        statuses = [f.status for f in found]
        status = Status.FAIL if Status.FAIL in statuses else Status.NOT_VERIFIED
        return CheckRow(check_id, kind, title, status, "no result for " + ", ".join(unchecked), found)
    status = _worst([f.status for f in found])
    counts = Counter(f.status.value for f in found)
    note = ", ".join(f"{counts[s.value]} {s.value}" for s in STATUS_ORDER if counts[s.value])
    return CheckRow(check_id, kind, title, status, note, found)


def _manual_row(check_id: str, title: str, found: list[Finding], fallback_owner: str, note: str) -> CheckRow:
    owners = sorted({str(f.extra["owner"]) for f in found if "owner" in f.extra}) or [fallback_owner]
    if found:
        note = "; ".join(f.message for f in sorted(found, key=finding_order))
    return CheckRow(check_id, "manual", title, Status.MANUAL, note, found, ", ".join(owners))


def _details(o: Obligation, profile: Profile | None, controls: Controls) -> dict[str, Any]:
    if profile is None:
        return {}
    org = profile.organisation
    details: dict[str, Any] = {}
    if o.procedure:
        if profile.provider is Provider.AWS:
            where = (
                "the S3 recordings bucket, one prefix per category, versioned: delete every version; hosts "
                f"spool under {RECORDINGS_ROOT}/<category>/ until upload"
            )
        else:
            where = f"{RECORDINGS_ROOT}/<category>/ on each SIP server's encrypted volume"
        details["procedure"] = {
            lang: [step.replace("{recordings_where}", where) for step in steps]
            for lang, steps in sorted(o.procedure.items())
        }
    if o.id == "processors":
        details["processors"] = [
            {
                "name": p.name,
                "role": p.role,
                "agreement_ref": p.agreement_ref,
                "location": p.location,
                "in_eea": p.location in controls.eea_countries,
                "categories": list(p.categories),
                "sub_processors": [sp.summary for sp in p.sub_processors],
                "sub_processor_details": [sp.model_dump(mode="json") for sp in p.sub_processors],
            }
            for p in org.processors
        ]
    if o.id == "breach-notification":
        details["contacts"] = {
            "security_officer": _contact(org.security_officer.name, org.security_officer.email),
            "dpo": _contact(org.dpo.name, org.dpo.email, org.dpo.phone),
            "controller": f"{org.controller.name}, {org.controller.contact_email}",
            "supervisory_authority": "Autoriteit Persoonsgegevens, Meldloket datalekken",
        }
    if o.id == "dpia":
        details["dpia"] = {
            "required": profile.dpia_required,
            "large_scale": profile.dpia.large_scale,
            "risk_level": profile.risk_level.value,
            "special_categories": sorted(c.id for c in profile.data_categories if c.special_categories),
            "reference": profile.dpia.reference,
        }
    if o.id == "information":
        details["recording_notice"] = {
            "played_by_ivr": profile.recording_notice.played_by_ivr,
            "text_reference": profile.recording_notice.text_reference,
        }
    if o.id == "transfers":
        details["residency"] = {
            "location": profile.location,
            "allowed_zones": list(profile.residency.allowed_zones),
            "exceptions": [e.model_dump(mode="json") for e in profile.residency.exceptions],
            "backup_copy_regions": list(profile.backups.copy_regions),
        }
        details["processor_transfers"] = [
            {
                "recipient": t.label,
                "kind": t.kind,
                "location": t.location,
                "transfer_ground": t.ground,
                "agreement_ref": t.agreement_ref,
                "categories": list(t.categories),
            }
            for t in profile.processor_transfers()
        ]
    return details


def build_matrix(
    stack: str,
    findings: list[Finding],
    profile: Profile | None,
    *,
    host_checks_run: bool,
    generated: dict[str, Finding] | None = None,
    controls: Controls | None = None,
    hosts: tuple[str, ...] = (),
) -> Matrix:
    """Add the findings up per obligation. `generated` holds the result of each generated document by name."""
    controls = controls or load_controls()
    metas = catalogue()
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    dpo = (
        _contact(profile.organisation.dpo.name, profile.organisation.dpo.email)
        if profile
        else "the controller"
    )

    def title(check_id: str) -> str:
        meta = metas.get(check_id)
        return meta.title if meta else ""

    rows: list[ObligationRow] = []
    for o in controls.obligations:
        checks: list[CheckRow] = []
        for rid in o.plan_rules:
            checks.append(_automated_row(rid, "plan", title(rid), by_rule.get(rid, []), host_checks_run))
        for hid in o.host_checks:
            checks.append(
                _automated_row(hid, "host", title(hid), by_rule.get(hid, []), host_checks_run, hosts)
            )
        if o.generated:
            doc = (generated or {}).get(o.generated)
            if doc is None:
                checks.append(
                    CheckRow(o.generated, "generated", o.generated, Status.NOT_VERIFIED, "not generated", [])
                )
            else:
                checks.append(CheckRow(doc.rule_id, "generated", doc.message, doc.status, doc.message, [doc]))

        automated = not o.automated_when or _profile_flag(profile, o.automated_when)
        triggered = not o.required_when or _profile_flag(profile, o.required_when)
        # Without a profile nothing shows the manual part is unneeded: it stays.
        manual_applies = not o.manual_when or profile is None or _profile_flag(profile, o.manual_when)
        reasons: list[str] = []
        if o.automated_when and automated:
            if not checks:
                reasons.append(f"the profile sets {o.automated_when}, but no automated check confirms it yet")
        elif manual_applies:
            for mid in o.manual:
                note = (
                    "" if triggered else f"not required by the profile ({o.required_when} is false): confirm"
                )
                if not triggered:
                    reasons.append(note)
                checks.append(_manual_row(mid, title(mid), by_rule.get(mid, []), dpo, note))

        if o.automated_when and automated and not checks:
            status, more = Status.NOT_VERIFIED, []
        else:
            status, more = _add_up(checks)
        rows.append(
            ObligationRow(
                obligation=o,
                status=status,
                reasons=reasons + more,
                owners=sorted({c.owner for c in checks if c.owner}),
                checks=checks,
                details=_details(o, profile, controls),
            )
        )
    return Matrix(stack, rows, host_checks_run)


def _add_up(checks: list[CheckRow]) -> tuple[Status, list[str]]:
    auto = [c for c in checks if c.kind != "manual" and c.status is not None]
    manual = [c for c in checks if c.kind == "manual"]
    failing = [c.id for c in auto if c.status is Status.FAIL]
    if failing:
        return Status.FAIL, [f"failing: {', '.join(failing)}"]
    unverified = [c for c in auto if c.status is Status.NOT_VERIFIED]
    if unverified:
        why: dict[str, list[str]] = {}
        for c in unverified:
            texts = {f.message for f in c.findings} or {c.note}
            for t in sorted(texts):
                why.setdefault(t, []).append(c.id)
        passed = [c.id for c in auto if c.status is Status.PASS]
        out = [f"{t} ({', '.join(ids)})" for t, ids in why.items()]
        if passed:
            out.append(f"passed: {', '.join(passed)}")
        return Status.NOT_VERIFIED, out
    if manual:
        return Status.MANUAL, [f"to be confirmed by {c.owner} ({c.id})" for c in manual]
    if not auto:
        return Status.NOT_VERIFIED, ["no check judged anything in this stack"]
    return Status.PASS, []


def matrix_markdown(matrix: Matrix) -> str:
    c = matrix.counts
    lines = [
        f"# AVG control matrix for stack `{matrix.stack}`",
        "",
        "| PASS | FAIL | NOT-VERIFIED | MANUAL |",
        "|---|---|---|---|",
        f"| {c['PASS']} | {c['FAIL']} | {c['NOT-VERIFIED']} | {c['MANUAL']} |",
        "",
        "An obligation is PASS only when every automated check that applies passed and nothing is left to a "
        "person. NOT-VERIFIED is never counted as PASS.",
        "",
        "| obligation | AVG art. | status | why / owner | checks |",
        "|---|---|---|---|---|",
    ]
    for r in matrix.rows:
        why = "; ".join(r.reasons).replace("|", "\\|")
        checks = ", ".join(f"{ch.id} {ch.status.value if ch.status else 'n/a'}" for ch in r.checks)
        arts = ", ".join(r.obligation.articles)
        lines.append(f"| {r.obligation.title['en']} | {arts} | {r.status.value} | {why} | {checks} |")
    return "\n".join(lines) + "\n"
