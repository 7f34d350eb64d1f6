"""The Art. 30 register: activities from the profile, items (a)-(g), measures from findings, bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_matrix import example_verdict, in_eea_only, run_cli

from avg_voip.findings import Finding, Status
from avg_voip.profile import DataKind, Profile, ProfileError
from avg_voip.register import ART30_ITEMS, build_register, register_finding, require

ROOT = Path(__file__).resolve().parent.parent


def register_of(stack: str, findings: list[Finding] | None = None) -> dict[str, Any]:
    verdict = example_verdict(stack)
    return build_register(verdict.profile, stack, verdict.findings if findings is None else findings)


def activity(reg: dict[str, Any], activity_id: str) -> dict[str, Any]:
    return next(a for a in reg["activities"] if a["id"] == activity_id)


def test_activities_come_from_the_categories_present() -> None:
    mortgage = [a["id"] for a in register_of("mortgage-aws")["activities"]]
    assert mortgage == [
        "call_handling",
        "transcription",
        "legal_recording",
        "qa_recording",
        "directory",
        "staff_accounts",
        "security_logging",
    ]
    healthcare = [a["id"] for a in register_of("healthcare-hcloud")["activities"]]
    assert "legal_recording" not in healthcare, "no category is kept for a legal obligation there"
    assert len(healthcare) == 6


@pytest.mark.parametrize("stack", ["mortgage-aws", "healthcare-hcloud"])
def test_every_activity_carries_art30_a_to_g(stack: str) -> None:
    reg = register_of(stack)
    assert reg["complete"], reg["missing"]
    for a in reg["activities"]:
        assert set(a["art30"]) == set(ART30_ITEMS)
        assert all(a["art30"].values()), (a["id"], a["art30"])
        for key in (
            "dpv:hasDataController",
            "dpv:hasPurpose",
            "dpv:hasLegalBasis",
            "dpv:hasDataSubject",
            "dpv:hasPersonalData",
            "dpv:hasRecipient",
            "dpv:hasTechnicalOrganisationalMeasure",
        ):
            assert a[key], (a["id"], key)
    assert reg["controller"]["@type"] == "dpv:DataController"
    assert reg["@context"]["dpv"] == "https://w3id.org/dpv#"


def test_traffic_data_and_content_are_kept_apart() -> None:
    for a in register_of("mortgage-aws")["activities"]:
        kinds = {c["kind"] for c in a["dpv:hasPersonalData"]}
        assert not {DataKind.TRAFFIC.value, DataKind.CONTENT.value} <= kinds, a["id"]


def test_retention_per_category_with_rationale_as_dpv_storage_duration() -> None:
    legal = activity(register_of("mortgage-aws"), "legal_recording")
    (cat,) = legal["dpv:hasPersonalData"]
    cond = cat["dpv:hasStorageCondition"]
    assert cond["@type"] == "dpv:StorageDuration"
    assert cond["dpv:hasDuration"] == "P2555D"
    assert "Wft" in cond["rationale"]
    (basis,) = legal["dpv:hasLegalBasis"]
    assert basis["@type"] == "dpv:LegalObligation" and basis["article"] == "6(1)(c)"


def test_special_category_data_carries_its_art9_condition() -> None:
    qa = activity(register_of("healthcare-hcloud"), "qa_recording")
    assert qa["dpv:hasPersonalData"][0]["special_category"] is True
    assert qa["dpv:hasLegalBasis"][0]["special_category_condition"].startswith("9(2)(a)")


def test_measures_come_from_what_the_stack_deploys() -> None:
    urn = "urn:pulumi:mortgage-aws::avg-voip::avg:ObjectStore$aws:s3/bucket:Bucket::recordings"
    findings = [
        Finding("AVG-ENC-001", Status.PASS, urn, "SSE-KMS with a customer-managed key and bucket key"),
        Finding("AVG-ACC-001", Status.FAIL, urn, "public access not blocked"),
    ]
    reg = register_of("mortgage-aws", findings)
    qa = activity(reg, "qa_recording")["dpv:hasTechnicalOrganisationalMeasure"]
    texts = [m["text"] for m in qa]
    assert "SSE-KMS with a customer-managed key and bucket key on recordings (AVG-ENC-001 PASS)" in texts, (
        texts
    )
    assert any(m["status"] == "FAIL" and m["rule_id"] == "AVG-ACC-001" for m in qa)
    # the recordings bucket holds no call records: the call handling activity does not claim its measures
    assert not activity(reg, "call_handling")["dpv:hasTechnicalOrganisationalMeasure"]
    assert "call_handling: 30(1)(g)" in reg["missing"]
    assert register_finding(reg, "mortgage-aws").status is Status.FAIL


def test_measures_of_one_category_stay_with_its_activity() -> None:
    urn = "urn:pulumi:mortgage-aws::avg-voip::aws:s3/bucket:Bucket::recordings"
    findings = [
        Finding("AVG-RET-001", Status.PASS, urn, "qa_recordings: qa_recordings/ expires after 90 days"),
        Finding(
            "AVG-RET-001", Status.PASS, urn, "advice_recordings: advice_recordings/ expires after 2555 days"
        ),
    ]
    reg = register_of("mortgage-aws", findings)
    qa = [m["text"] for m in activity(reg, "qa_recording")["dpv:hasTechnicalOrganisationalMeasure"]]
    assert len(qa) == 1 and qa[0].startswith("qa_recordings:"), qa


def test_processors_are_recipients_only_of_the_categories_they_process() -> None:
    reg = register_of("mortgage-aws")
    hosting, transcription = "Amazon Web Services EMEA SARL", "Transcriptie Diensten B.V."
    by_activity = {a["id"]: a["dpv:hasRecipient"]["dpv:hasDataProcessor"] for a in reg["activities"]}
    assert all(hosting in names for names in by_activity.values()), by_activity
    with_transcription = {a for a, names in by_activity.items() if transcription in names}
    assert with_transcription == {"transcription", "qa_recording"}, by_activity
    listed = {p["name"]: p["categories"] for p in reg["processors"]}
    assert listed[transcription] == ["qa_recordings", "transcripts"]


def test_no_transfers_is_stated_with_the_residency_evidence() -> None:
    verdict = example_verdict("mortgage-aws")
    reg = build_register(in_eea_only(), "mortgage-aws", verdict.findings)
    assert reg["transfers"] == [] and register_of("healthcare-hcloud")["transfers"] == []
    assert all(a["transfers"] == [] for a in reg["activities"])
    assert any(e.startswith("AVG-RES-001 PASS") for e in reg["transfers_evidence"])


def test_a_sub_processor_outside_the_eea_is_a_transfer_in_every_activity_it_reaches() -> None:
    reg = register_of("mortgage-aws")
    (transfer,) = reg["transfers"]
    assert transfer["kind"] == "sub-processor outside the EU/EEA"
    assert transfer["location"] == "US"
    assert transfer["recipient"].startswith(
        "Amazon Web Services, Inc. (sub-processor of Amazon Web Services EMEA"
    )
    assert transfer["legal_ground"].startswith("Art. 46(2)(c) SCCs")
    for a in reg["activities"]:  # the hosting provider holds every category, so its sub-processor reaches all
        assert [t["location"] for t in a["transfers"]] == ["US"], a["id"]
        assert a["transfers"][0]["categories"] == [c["id"] for c in a["dpv:hasPersonalData"]]
    aws = next(p for p in reg["processors"] if p["name"] == "Amazon Web Services EMEA SARL")
    assert aws["sub_processor_details"][0]["location"] == "US"
    assert "(US; Art. 46(2)(c) SCCs" in aws["sub_processors"][0]


def _with(
    profile: Profile, exceptions: list[dict[str, Any]], extra: list[dict[str, Any]], **top: Any
) -> Profile:
    doc = profile.model_dump(mode="json")
    doc["residency"] = {"allowed_zones": ["EU", "EEA"], "exceptions": exceptions}
    for p in doc["organisation"]["processors"]:
        p["sub_processors"] = []  # only the transfers this test adds
    doc["organisation"]["processors"] += extra
    return Profile.model_validate({**doc, **top})


ZURICH = {
    "location": "eu-central-2",
    "justification": "disaster recovery copy in Zurich under the Swiss adequacy decision",
    "legal_ground": "Art. 45 adequacy decision 2000/518/EC",
    "approved_by": "DPO",
    "reference": "EXC-1",
}
US_TRANSCRIPTION = {
    "name": "US Support Inc.",
    "role": "transcription",
    "agreement_ref": "DPA-7",
    "location": "US",
    "categories": ["transcripts"],
    "transfer_ground": "Art. 46 SCCs 2021/914 + TIA-7",
}


def test_an_exception_the_stack_does_not_use_is_no_transfer() -> None:
    verdict = example_verdict("mortgage-aws")
    assert verdict.profile is not None
    reg = build_register(_with(verdict.profile, [ZURICH], []), "mortgage-aws", verdict.findings)
    assert reg["transfers"] == []
    assert all(a["transfers"] == [] for a in reg["activities"])


def test_exceptions_in_use_and_processors_outside_the_eea_are_transfers() -> None:
    verdict = example_verdict("mortgage-aws")
    assert verdict.profile is not None
    changed = _with(verdict.profile, [ZURICH], [US_TRANSCRIPTION], backups={"copy_regions": ["eu-central-2"]})
    reg = build_register(changed, "mortgage-aws", verdict.findings)
    assert {t["location"] for t in reg["transfers"]} == {"eu-central-2", "US"}
    by_activity = {a["id"]: {t["location"] for t in a["transfers"]} for a in reg["activities"]}
    assert by_activity["transcription"] == {"eu-central-2", "US"}
    assert all(locs == {"eu-central-2"} for a, locs in by_activity.items() if a != "transcription"), (
        by_activity
    )
    grounds = {t["legal_ground"] for t in reg["transfers"]}
    assert grounds == {"Art. 45 adequacy decision 2000/518/EC", "Art. 46 SCCs 2021/914 + TIA-7"}


def test_an_exception_location_seen_on_a_resource_is_a_transfer() -> None:
    verdict = example_verdict("mortgage-aws")
    assert verdict.profile is not None
    seen = Finding("AVG-RES-001", Status.PASS, "urn:x::bucket", "in eu-central-2", "eu-central-2", "EU/EEA")
    reg = build_register(_with(verdict.profile, [ZURICH], []), "mortgage-aws", [*verdict.findings, seen])
    assert [t["location"] for t in reg["transfers"]] == ["eu-central-2"]


def test_the_markdown_register_lists_the_transfer_instead_of_none(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli("register", "--stack", "mortgage-aws", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    en = (out / "mortgage-aws" / "register.en.md").read_text()
    assert "sub-processor outside the EU/EEA: US (Amazon Web Services, Inc." in en
    assert "None" not in en.split("(e) Transfers", 1)[1].split("(f) Retention", 1)[0]


def test_none_is_said_per_activity_when_another_activity_has_a_transfer(tmp_path: Path) -> None:
    def mutate(p: dict[str, Any]) -> None:
        p["organisation"]["processors"][0]["sub_processors"] = []
        p["organisation"]["processors"].append(US_TRANSCRIPTION)

    out = tmp_path / "out"
    proc = run_cli("register", "--stack-file", str(_bad_stack(tmp_path, mutate)), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    for lang in ("en", "nl"):
        text = (out / "broken" / f"register.{lang}.md").read_text()
        assert "US Support Inc." in text
        assert "every location of this stack" not in text and "elke locatie van deze stack" not in text


# -- bad input ---------------------------------------------------------------------------------------------


def test_require_names_the_missing_key() -> None:
    profile = example_verdict("mortgage-aws").profile
    assert profile is not None
    with pytest.raises(ProfileError) as exc:
        require(None)
    assert exc.value.key == "avg-voip:profile"
    no_controller = Profile.model_construct(
        **{
            **dict(profile),
            "organisation": profile.organisation.model_construct(
                **{**dict(profile.organisation), "controller": None}
            ),
        }
    )
    with pytest.raises(ProfileError) as exc:
        require(no_controller)
    assert exc.value.key == "organisation.controller"
    cats = list(profile.data_categories)
    cats[2] = cats[2].model_construct(**{**dict(cats[2]), "purpose": ""})
    with pytest.raises(ProfileError) as exc:
        require(Profile.model_construct(**{**dict(profile), "data_categories": cats}))
    assert exc.value.key == "data_categories.2.purpose"


def _bad_stack(tmp_path: Path, mutate: Any) -> Path:
    doc = yaml.safe_load((ROOT / "Pulumi.mortgage-aws.yaml").read_text())
    doc = copy.deepcopy(doc)
    mutate(doc["config"]["avg-voip:profile"])
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda p: p["organisation"].pop("controller"), "organisation.controller"),
        (lambda p: p["data_categories"][1].pop("purpose"), "data_categories.1.purpose"),
        (lambda p: p["data_categories"][0].pop("legal_basis"), "data_categories.0.legal_basis"),
    ],
    ids=["no-controller", "no-purpose", "no-legal-basis"],
)
@pytest.mark.parametrize("command", ["register", "report"])
def test_bad_profile_exits_2_naming_the_key_and_writes_nothing(
    tmp_path: Path, mutate: Any, key: str, command: str
) -> None:
    stack = _bad_stack(tmp_path, mutate)
    out = tmp_path / "out"
    proc = run_cli(command, "--stack-file", str(stack), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], proc.stderr
    assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))


def test_register_cli_writes_nl_en_markdown_and_json(tmp_path: Path) -> None:
    verdict = example_verdict("healthcare-hcloud")
    records = tmp_path / "records.json"
    records.write_text(json.dumps(verdict.records.to_dict()))
    out = tmp_path / "out"
    proc = run_cli("register", "--stack", "healthcare-hcloud", "--records", str(records), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    files = sorted(p.name for p in (out / "healthcare-hcloud").iterdir())
    assert files == ["register.en.md", "register.json", "register.nl.md"]
    nl = (out / "healthcare-hcloud" / "register.nl.md").read_text()
    en = (out / "healthcare-hcloud" / "register.en.md").read_text()
    assert "Register van verwerkingsactiviteiten" in nl and "Bewaartermijnen" in nl
    assert "Register of processing activities" in en and "(g) Security measures" in en
    assert "Stichting Ziekenhuisgroep Midden-Nederland" in nl
    doc = json.loads((out / "healthcare-hcloud" / "register.json").read_text())
    assert doc["generated_from"]["profile_sha256"]


def test_profile_text_cannot_inject_markup_into_the_markdown_register(tmp_path: Path) -> None:
    def mutate(p: dict[str, Any]) -> None:
        p["organisation"]["controller"]["name"] = 'Evil <img src=x onerror="alert(1)"> | B.V.'
        p["data_categories"][0]["purpose"] = "call routing\u202e gnitrats"

    stack = _bad_stack(tmp_path, mutate)
    out = tmp_path / "out"
    proc = run_cli("register", "--stack-file", str(stack), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    for lang in ("en", "nl"):
        text = (out / "broken" / f"register.{lang}.md").read_text()
        assert "<img" not in text and "&lt;img" in text and "\\| B.V." in text
        assert "\u202e" not in text and "[U+202E]" in text
    doc = json.loads((out / "broken" / "register.json").read_text())
    assert doc["controller"]["name"].startswith("Evil <img")  # the data itself is kept as given


def test_missing_stack_file_names_the_flag(tmp_path: Path) -> None:
    proc = run_cli("register", "--stack-file", str(tmp_path / "Pulumi.nothere.yaml"), "--out", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --stack-file:") and len(proc.stderr.strip().splitlines()) == 1
