"""The Art. 30 processing register, generated from the compliance profile and the stack's findings.

One processing activity per kind of use the profile's data categories reveal (call handling, QA recording,
recording for a legal obligation, transcription, directory, staff accounts, security logging), each with the
Art. 30(1)(a)-(g) items. Security measures come from what the stack deploys (the findings), never from prose.
The JSON uses W3C DPV terms where they fit; the Markdown comes in Dutch and English.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from avg_voip.evidence import finding_order, short_target
from avg_voip.findings import Finding, Status
from avg_voip.matrix import REGISTER_META, Activity, Controls, load_controls
from avg_voip.profile import DataCategory, DataKind, LegalBasis, Profile, ProfileError
from avg_voip.residency import load_catalogue

REGISTER_CHECK = REGISTER_META.id
DPV_CONTEXT = {
    "dpv": "https://w3id.org/dpv#",
    "pd": "https://w3id.org/dpv/pd#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
}
# Art. 6(1) grounds as DPV legal-basis concepts, with the DPV-GDPR article concept beside them.
DPV_LEGAL_BASIS = {
    LegalBasis.CONSENT: ("dpv:Consent", "eu-gdpr:A6-1-a"),
    LegalBasis.CONTRACT: ("dpv:Contract", "eu-gdpr:A6-1-b"),
    LegalBasis.LEGAL_OBLIGATION: ("dpv:LegalObligation", "eu-gdpr:A6-1-c"),
    LegalBasis.VITAL_INTERESTS: ("dpv:VitalInterest", "eu-gdpr:A6-1-d"),
    LegalBasis.PUBLIC_TASK: ("dpv:PublicInterest", "eu-gdpr:A6-1-e"),
    LegalBasis.LEGITIMATE_INTEREST: ("dpv:LegitimateInterest", "eu-gdpr:A6-1-f"),
}
# Best-fitting DPV personal-data concept per kind; the profile's own category name stays beside it.
DPV_PERSONAL_DATA = {
    DataKind.TRAFFIC: "pd:CommunicationsMetadata",
    DataKind.CONTENT: "pd:VoiceCommunicationRecording",
    DataKind.DIRECTORY: "pd:Contact",
    DataKind.EMPLOYEE: "dpv:PersonalData",
    DataKind.AUDIT: "dpv:PersonalData",
}
ART30_ITEMS = ("a", "b", "c", "d", "e", "f", "g")


def require(profile: Profile | None) -> Profile:
    """Everything the register needs, or ProfileError naming the first missing key (nothing is written then)."""
    if profile is None:
        raise ProfileError("avg-voip:profile", "is required for the processing register")
    org = getattr(profile, "organisation", None)
    if org is None:
        raise ProfileError("organisation", "is required for the processing register")
    checks: list[tuple[str, Any]] = [
        ("organisation.controller", getattr(org, "controller", None)),
        ("organisation.dpo", getattr(org, "dpo", None)),
    ]
    for key, value in checks:
        if value is None:
            raise ProfileError(key, "is required for the processing register (Art. 30(1)(a))")
    for key in ("name", "address", "contact_email"):
        if not getattr(org.controller, key, None):
            raise ProfileError(f"organisation.controller.{key}", "is required (Art. 30(1)(a))")
    for key in ("name", "email"):
        if not getattr(org.dpo, key, None):
            raise ProfileError(f"organisation.dpo.{key}", "is required (Art. 30(1)(a))")
    categories = getattr(profile, "data_categories", None)
    if not categories:
        raise ProfileError("data_categories", "needs at least one category for the processing register")
    for i, c in enumerate(categories):
        for key, item in (
            ("purpose", "b"),
            ("legal_basis", "b"),
            ("data_subjects", "c"),
            ("readers", "d"),
            ("retention_days", "f"),
            ("retention_rationale", "f"),
        ):
            if not getattr(c, key, None):
                raise ProfileError(f"data_categories.{i}.{key}", f"is required (Art. 30(1)({item}))")
    return profile


def activity_of(category: DataCategory, activities: Iterable[Activity]) -> Activity:
    for a in activities:
        m = a.match
        if "kind" in m and category.kind.value != m["kind"]:
            continue
        if "legal_basis" in m and category.legal_basis.value != m["legal_basis"]:
            continue
        if "retention_class" in m and category.retention_class.value != m["retention_class"]:
            continue
        if "id_contains" in m and m["id_contains"] not in f"{category.id} {category.name}".lower():
            continue
        return a
    raise ProfileError(f"data_categories.{category.id}", "matches no processing activity of the register")


@dataclass(frozen=True)
class Measure:
    rule_id: str
    status: Status
    text: str
    targets: tuple[str, ...]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "status": self.status.value,
            "text": self.text,
            "targets": list(self.targets),
            "source": self.source,
        }


def _storage_of(target: str, controls: Controls) -> set[str]:
    name = short_target(target).lower()
    return {storage for storage, words in controls.storage_targets.items() if any(w in name for w in words)}


def measures_for(
    storages: set[str],
    findings: Iterable[Finding],
    controls: Controls,
    others: Iterable[str] = (),
) -> list[Measure]:
    """What the stack deploys for these stores, as judged: one line per rule, message and status.

    `others` are the ids of categories outside the activity: findings about them (their message or target
    names the category) belong to their own activity, even when the store is shared.
    """
    foreign = tuple(others)
    groups: dict[tuple[str, str, Status, str], list[str]] = {}
    for f in sorted(findings, key=finding_order):
        if f.source not in ("plan", "host"):
            continue
        if any(f.message.startswith(f"{c}:") or f.target.endswith(f"/{c}") for c in foreign):
            continue
        held = _storage_of(f.target, controls)
        if held and not held & storages:
            continue
        groups.setdefault((f.rule_id, f.message, f.status, f.source), []).append(short_target(f.target))
    out = []
    for (rule_id, message, status, source), targets in groups.items():
        names = sorted(set(targets))
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        out.append(
            Measure(rule_id, status, f"{message} on {shown} ({rule_id} {status.value})", tuple(names), source)
        )
    return sorted(out, key=lambda m: (m.rule_id, m.text))


def _duration(days: int) -> str:
    return f"P{days}D"


def _category(c: DataCategory, profile: Profile) -> dict[str, Any]:
    loc = load_catalogue().find(profile.provider.value, profile.location)
    return {
        "@id": f"category:{c.id}",
        "@type": DPV_PERSONAL_DATA[c.kind],
        "id": c.id,
        "name": c.name,
        "kind": c.kind.value,
        "description": c.description,
        "special_category": c.special_categories,
        "storage": c.storage.value,
        "dpv:hasLocation": {
            "provider": profile.provider.value,
            "location": profile.location,
            "country": loc.country if loc else None,
        },
        "dpv:hasStorageCondition": {
            "@type": "dpv:StorageDuration",
            "dpv:hasDuration": _duration(c.retention_days),
            "retention_days": c.retention_days,
            "retention_class": c.retention_class.value,
            "rationale": c.retention_rationale,
        },
        "readers": sorted(c.readers),
    }


def _legal_basis(c: DataCategory) -> dict[str, Any]:
    dpv_type, article_concept = DPV_LEGAL_BASIS[c.legal_basis]
    basis: dict[str, Any] = {
        "@type": dpv_type,
        "eu-gdpr": article_concept,
        "basis": c.legal_basis.value,
        "article": c.legal_basis.article,
        "detail": c.legal_basis_detail,
        "category": c.id,
    }
    if c.special_categories:
        basis["special_category_condition"] = (
            "9(2)(a) explicit consent" if c.legal_basis is LegalBasis.CONSENT else "9(2) see detail"
        )
    return basis


def locations_in_use(profile: Profile, findings: Iterable[Finding]) -> set[str]:
    """Where the stack puts data: the profile's location and backup copy regions, and every location the
    residency rules observed on a resource (a deployed stack may place a resource under an exception)."""
    used = {profile.location, *profile.backups.copy_regions}
    for f in findings:
        if not f.rule_id.startswith("AVG-RES-"):
            continue
        seen = f.observed if isinstance(f.observed, list) else [f.observed]
        used |= {v for v in seen if isinstance(v, str)}
    return used


def transfers_of(profile: Profile, findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Every transfer outside the EU/EEA, each with the data categories it carries (Art. 30(1)(e)).

    Residency exceptions count only for the locations the stack actually uses; those hold every category (the
    SIP servers carry all of them, if only in transit). Processors and sub-processors outside the EU/EEA carry
    the categories their processor is given.
    """
    catalogue = load_catalogue()
    used = locations_in_use(profile, findings)
    every = [c.id for c in profile.data_categories]
    out: list[dict[str, Any]] = []
    for e in profile.residency.exceptions:
        if e.location not in used:
            continue
        loc = catalogue.find(profile.provider.value, e.location)
        out.append(
            {
                "kind": "residency exception",
                "location": e.location,
                "country": loc.country if loc else None,
                "legal_ground": e.legal_ground,
                "justification": e.justification,
                "approved_by": e.approved_by,
                "reference": e.reference,
                "categories": every,
            }
        )
    for t in profile.processor_transfers():
        out.append(
            {
                "kind": t.kind,
                "location": t.location,
                "country": t.location,
                "recipient": t.label,
                "role": t.role,
                "legal_ground": t.ground,
                "reference": t.agreement_ref,
                "categories": list(t.categories),
            }
        )
    return out


def _activity_transfers(transfers: list[dict[str, Any]], cats: list[DataCategory]) -> list[dict[str, Any]]:
    ids = [c.id for c in cats]
    return [
        {**t, "categories": [c for c in ids if c in t["categories"]]}
        for t in transfers
        if set(ids) & set(t["categories"])
    ]


def build_register(
    profile: Profile | None,
    stack: str,
    findings: list[Finding],
    controls: Controls | None = None,
    host_checks_run: bool = False,
) -> dict[str, Any]:
    """The register as one JSON-LD-flavoured document; raises ProfileError before anything is built.

    Without host checks, measures on the SIP servers themselves (volume encryption opened, TLS and SRTP
    answered, patches) are not judged and so not listed; `host_checks_run` tells the reader so.
    """
    profile = require(profile)
    controls = controls or load_controls()
    org = profile.organisation
    by_activity: dict[str, list[DataCategory]] = {}
    for c in profile.data_categories:
        by_activity.setdefault(activity_of(c, controls.activities).id, []).append(c)
    transfers = transfers_of(profile, findings)
    residency = sorted(
        {f"{f.rule_id} {f.status.value}" for f in findings if f.rule_id.startswith("AVG-RES-")}
    )
    processors = [
        {
            "@type": "dpv:DataProcessor",
            "name": p.name,
            "role": p.role,
            "agreement_ref": p.agreement_ref,
            "location": p.location,
            "categories": list(p.categories),
            "sub_processors": [sp.summary for sp in p.sub_processors],
            "sub_processor_details": [sp.model_dump(mode="json") for sp in p.sub_processors],
        }
        for p in org.processors
    ]
    activities: list[dict[str, Any]] = []
    for activity in controls.activities:
        cats = by_activity.get(activity.id)
        if not cats:
            continue
        storages = {c.storage.value for c in cats}
        others = [c.id for c in profile.data_categories if c not in cats]
        measures = measures_for(storages, findings, controls, others)
        doc: dict[str, Any] = {
            "@id": f"activity:{activity.id}",
            "@type": "dpv:Process",
            "id": activity.id,
            "name": dict(activity.name),
            "dpv:hasDataController": {"@id": "controller"},
            "dpv:hasDataProtectionOfficer": {"@id": "dpo"},
            "dpv:hasPurpose": [{"@type": "dpv:Purpose", "text": c.purpose, "category": c.id} for c in cats],
            "dpv:hasLegalBasis": [_legal_basis(c) for c in cats],
            "dpv:hasDataSubject": sorted({s for c in cats for s in c.data_subjects}),
            "dpv:hasPersonalData": [_category(c, profile) for c in cats],
            "dpv:hasRecipient": {
                "internal_roles": sorted({r for c in cats for r in c.readers}),
                "dpv:hasDataProcessor": [p.name for p in profile.processors_of(c.id for c in cats)],
            },
            "transfers": _activity_transfers(transfers, cats),
            "dpv:hasTechnicalOrganisationalMeasure": [m.to_dict() for m in measures],
        }
        doc["art30"] = _art30(doc)
        activities.append(doc)
    missing = [f"{a['id']}: 30(1)({k})" for a in activities for k, ok in a["art30"].items() if not ok]
    return {
        "@context": DPV_CONTEXT,
        "stack": stack,
        "controller": {
            "@id": "controller",
            "@type": "dpv:DataController",
            "name": org.controller.name,
            "address": org.controller.address,
            "country": org.controller.country,
            "registration": org.controller.registration,
            "contact": org.controller.contact_email,
        },
        "dpo": {
            "@id": "dpo",
            "@type": "dpv:DataProtectionOfficer",
            "name": org.dpo.name,
            "email": org.dpo.email,
            "phone": org.dpo.phone,
        },
        "processors": processors,
        "transfers": transfers,
        "transfers_evidence": residency,
        "activities": activities,
        "complete": not missing,
        "missing": missing,
        "host_checks_run": host_checks_run,
    }


def _art30(doc: dict[str, Any]) -> dict[str, bool]:
    """Which Art. 30(1) items this activity carries. (e) is present as an empty list when nothing leaves the EU."""
    return {
        "a": bool(doc["dpv:hasDataController"]) and bool(doc["dpv:hasDataProtectionOfficer"]),
        "b": bool(doc["dpv:hasPurpose"]) and bool(doc["dpv:hasLegalBasis"]),
        "c": bool(doc["dpv:hasDataSubject"]) and bool(doc["dpv:hasPersonalData"]),
        "d": bool(
            doc["dpv:hasRecipient"]["internal_roles"] or doc["dpv:hasRecipient"]["dpv:hasDataProcessor"]
        ),
        "e": isinstance(doc["transfers"], list),
        "f": all("dpv:hasStorageCondition" in c for c in doc["dpv:hasPersonalData"]),
        "g": bool(doc["dpv:hasTechnicalOrganisationalMeasure"]),
    }


def register_finding(register: dict[str, Any], stack: str) -> Finding:
    """The register's own check for the matrix: generated, and every activity carries Art. 30(1)(a)-(g)."""
    n = len(register["activities"])
    if register["complete"]:
        return Finding(
            REGISTER_CHECK,
            Status.PASS,
            f"stack:{stack}",
            f"register generated from the profile: {n} activities, Art. 30(1)(a)-(g) present in each",
            observed=n,
            expected="every activity with Art. 30(1)(a)-(g)",
            source="generated",
        )
    return Finding(
        REGISTER_CHECK,
        Status.FAIL,
        f"stack:{stack}",
        "register incomplete: " + "; ".join(register["missing"]),
        observed=register["missing"],
        expected="every activity with Art. 30(1)(a)-(g)",
        source="generated",
    )
