"""The compliance profile: the examples validate; bad input names its key; fuzzed input never crashes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avg_voip.profile import DataKind, ProfileError, parse_profile
from avg_voip.stackconfig import load_stack

STACKS = ("healthcare-hcloud", "mortgage-aws")


@pytest.mark.parametrize("name", STACKS)
def test_example_stacks_validate(name: str) -> None:
    stack = load_stack(name)
    assert stack.profile.categories(kind=DataKind.CONTENT), name
    assert stack.profile.dpia_required, f"{name} records calls at scale: a DPIA must be required"


def _set(d: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    cur: Any = d
    parts = path.split(".")
    for p in parts[:-1]:
        cur = cur[int(p)] if p.isdigit() else cur.setdefault(p, {})
    last = parts[-1]
    if value is _DELETE:
        del cur[int(last) if last.isdigit() else last]
    elif last.isdigit():
        cur[int(last)] = value
    else:
        cur[last] = value
    return d


_DELETE = object()

BAD = [
    ("location", "us-east-1", "location", "only EU/EEA"),
    ("location", "eu-west-2", "location", "adequacy decision"),
    ("location", "eu-central-2", "location", "CH"),
    ("location", "mars-1", "location", "unknown aws location"),
    ("provider", "gcp", "provider", "must be one of"),
    ("data_categories.1.retention_days", 0, "data_categories.1.retention_days", "at least 1"),
    ("data_categories.1.retention_days", -5, "data_categories.1.retention_days", "at least 1"),
    ("data_categories.2.retention_days", 200, "data_categories.2.retention_days", "bound of 90 days"),
    ("data_categories.1.retention_days", 4000, "data_categories.1.retention_days", "bound of 3650"),
    ("data_categories.1.retention_days", _DELETE, "data_categories.1.retention_days", "is required"),
    ("data_categories.0.legal_basis", _DELETE, "data_categories.0.legal_basis", "is required"),
    ("data_categories.0.legal_basis", "because", "data_categories.0.legal_basis", "must be one of"),
    ("network.admin_cidrs", ["0.0.0.0/0"], "network.admin_cidrs", "whole internet"),
    ("network.admin_cidrs", ["::/0"], "network.admin_cidrs", "whole internet"),
    ("network.admin_cidrs", ["10.0.0.300/24"], "network.admin_cidrs", "not a valid CIDR"),
    ("network.sip_peer_cidrs", ["203.0.113.5/24"], "network.sip_peer_cidrs", "not a valid CIDR"),
    ("organisation", _DELETE, "organisation", "is required"),
    ("backups.copy_regions", ["us-west-2"], "backups.copy_regions.0", "only EU/EEA"),
    ("hosts.admin_ssh_keys", ["ssh-rsa AAAA"], "hosts.admin_ssh_keys", "OpenSSH public key"),
    ("surprise", 1, "surprise", "not a known key"),
    ("network.admin_cidrs", ["0.0.0.0/1", "128.0.0.0/1"], "network.admin_cidrs", "too broad"),
    (
        "network.admin_cidrs",
        [f"{i}.0.0.0/8" for i in range(1, 224)],
        "network.admin_cidrs",
        "IPv4 admin networks together cover more than one /8",
    ),
    ("network.admin_cidrs", ["10.0.0.0/8", "11.0.0.0/24"], "network.admin_cidrs", "more than one /8"),
    ("network.admin_cidrs", ["2001::/16", "2002::/16"], "network.admin_cidrs", "more than one /16"),
    ("data_categories.0.retention_days", True, "data_categories.0.retention_days", "whole number"),
    ("data_categories.0.retention_days", "28", "data_categories.0.retention_days", "whole number"),
    ("hosts.count", "2", "hosts.count", "whole number"),
    ("patching.timezone", "Mars/Olympus", "patching.timezone", "IANA time zone"),
    ("network.rtp_port_min", 5000, "network.rtp_port_min", "must not include 5060 (plain SIP)"),
    ("network.rtp_port_min", 5061, "network.rtp_port_min", "must not include 5061 (SIP over TLS)"),
    ("audit_log.collector", "logs;rm -rf /:6514", "audit_log.collector", "must be host:port"),
    ("audit_log.collector", "logs.example.nl", "audit_log.collector", "must be host:port"),
    ("audit_log.collector", "2001:db8::1:6514", "audit_log.collector", "must be host:port"),
    ("audit_log.collector", "[192.0.2.1]:6514", "audit_log.collector", "must be host:port"),
    ("audit_log.collector", "logs example.nl:6514", "audit_log.collector", "must be host:port"),
    ("audit_log.collector", ":6514", "audit_log.collector", "must be host:port"),
    ("audit_log.collector", "logs.example.nl:0", "audit_log.collector", "must be host:port"),
    ("network.sip_domain", "x;rm -rf /", "network.sip_domain", "must be a DNS name"),
    ("network.sip_domain", "sip.example.nl\nfoo", "network.sip_domain", "must be a DNS name"),
    ("network.sip_domain", "sip", "network.sip_domain", "must be a DNS name"),
    ("network.sip_domain", "-sip.example.nl", "network.sip_domain", "must be a DNS name"),
    ("network.sip_domain", "sip..example.nl", "network.sip_domain", "must be a DNS name"),
    ("network.sip_domain", "192.0.2.1", "network.sip_domain", "must be a DNS name"),
    ("network.sip_domain", "a" * 64 + ".example.nl", "network.sip_domain", "must be a DNS name"),
    ("hosts.image", "ami-<script>", "hosts.image", "must be an AMI id"),
    ("hosts.image", "ami-0abc123", "hosts.image", "must be an AMI id"),
    ("hosts.image", "debian-12", "hosts.image", "must be an AMI id"),
    ("organisation.controller.country", "XX", "organisation.controller.country", "ISO 3166-1 alpha-2"),
    ("organisation.controller.country", "nl", "organisation.controller.country", "ISO 3166-1 alpha-2"),
    ("organisation.processors.0.location", "UK", "organisation.processors.0.location", "ISO 3166-1"),
    ("organisation.processors.0.location", "EU", "organisation.processors.0.location", "ISO 3166-1"),
    (
        "organisation.processors.1",
        {
            "name": "X",
            "role": "transcription",
            "agreement_ref": "A-1",
            "location": "CN",
            "categories": ["transcripts"],
        },
        "organisation.processors.1.transfer_ground",
        "outside the EU/EEA",
    ),
    (
        "organisation.processors.0.sub_processors",
        ["Amazon Web Services, Inc."],
        "organisation.processors.0.sub_processors.0",
        "a bare name does not say where",
    ),
    (
        "organisation.processors.0.sub_processors.0.transfer_ground",
        _DELETE,
        "organisation.processors.0.sub_processors.0.transfer_ground",
        "sub-processor in US (outside the EU/EEA) needs a transfer ground",
    ),
    (
        "organisation.processors.0.sub_processors.0.location",
        "USA",
        "organisation.processors.0.sub_processors.0.location",
        "ISO 3166-1",
    ),
    ("organisation.processors.1.categories", _DELETE, "organisation.processors.1.categories", "is required"),
    ("organisation.processors.1.categories", [], "organisation.processors.1.categories", "at least 1"),
    (
        "organisation.processors.1.categories",
        ["qa_recordings", "recordings"],
        "organisation.processors.1.categories.1",
        "unknown data category 'recordings'",
    ),
    (
        "organisation.processors.1.categories",
        ["transcripts", "transcripts"],
        "organisation.processors.1.categories.1",
        "listed twice",
    ),
]


@pytest.mark.parametrize(("path", "value", "key", "text"), BAD, ids=[f"{b[0]}={b[1]!r}"[:60] for b in BAD])
def test_bad_profile_names_key(
    mortgage_profile: dict[str, Any], path: str, value: Any, key: str, text: str
) -> None:
    with pytest.raises(ProfileError) as exc:
        parse_profile(_set(mortgage_profile, path, value))
    assert exc.value.key == key, str(exc.value)
    assert text in exc.value.message, str(exc.value)
    assert "\n" not in str(exc.value)


def test_overlapping_admin_networks_count_once(mortgage_profile: dict[str, Any]) -> None:
    cidrs = ["10.0.0.0/9", "10.128.0.0/9", "10.1.0.0/16", "2001::/16", "2001:db8::/32"]
    mortgage_profile["network"]["admin_cidrs"] = cidrs
    assert parse_profile(mortgage_profile).network.admin_cidrs == cidrs


@pytest.mark.parametrize("image", ["ami-0abc1234", "ami-0123456789abcdef0"])
def test_aws_image_is_an_ami_id(mortgage_profile: dict[str, Any], image: str) -> None:
    mortgage_profile["hosts"]["image"] = image
    assert parse_profile(mortgage_profile).hosts.image == image


@pytest.mark.parametrize(
    ("image", "ok"),
    [
        ("debian-12", True),
        ("ubuntu-24.04", True),
        ("103907373", True),
        ("debian-12; curl x | sh", False),
        ("Debian 12", False),
        ("ami-0abc1234/../x", False),
    ],
)
def test_hcloud_image_is_a_plain_image_name(healthcare_profile: dict[str, Any], image: str, ok: bool) -> None:
    healthcare_profile["hosts"]["image"] = image
    if ok:
        assert parse_profile(healthcare_profile).hosts.image == image
        return
    with pytest.raises(ProfileError) as exc:
        parse_profile(healthcare_profile)
    assert exc.value.key == "hosts.image" and "debian-12" in exc.value.message


def _audit_index(profile: dict[str, Any]) -> int:
    return next(i for i, c in enumerate(profile["data_categories"]) if c["kind"] == "audit")


@pytest.mark.parametrize("stack", ["mortgage", "healthcare"])
def test_audit_log_retention_is_the_audit_category_retention(
    stack: str, mortgage_profile: dict[str, Any], healthcare_profile: dict[str, Any]
) -> None:
    profile = mortgage_profile if stack == "mortgage" else healthcare_profile
    profile["data_categories"][_audit_index(profile)]["retention_days"] = 200
    parsed = parse_profile(profile)
    assert parsed.audit_retention_days == 200
    assert parsed.audit_log.retention_days == 200, "read-only alias must follow the category"


def test_audit_log_retention_days_key_is_refused(mortgage_profile: dict[str, Any]) -> None:
    mortgage_profile["audit_log"] = {"retention_days": 730}
    with pytest.raises(ProfileError) as exc:
        parse_profile(mortgage_profile)
    assert exc.value.key == "audit_log.retention_days"
    assert "data category of kind audit" in exc.value.message and "\n" not in str(exc.value)


def test_audit_category_retention_is_bounded(mortgage_profile: dict[str, Any]) -> None:
    i = _audit_index(mortgage_profile)
    mortgage_profile["data_categories"][i]["retention_days"] = 36500
    with pytest.raises(ProfileError) as exc:
        parse_profile(mortgage_profile)
    assert exc.value.key == f"data_categories.{i}.retention_days" and "bound of 730" in exc.value.message


def test_exactly_one_audit_category(mortgage_profile: dict[str, Any]) -> None:
    i = _audit_index(mortgage_profile)
    second = {**copy.deepcopy(mortgage_profile["data_categories"][i]), "id": "vpn_logs"}
    mortgage_profile["data_categories"].append(second)
    with pytest.raises(ProfileError) as exc:
        parse_profile(mortgage_profile)
    assert exc.value.key == f"data_categories.{len(mortgage_profile['data_categories']) - 1}.kind"
    del mortgage_profile["data_categories"][i]
    del mortgage_profile["data_categories"][-1]
    for p in mortgage_profile["organisation"]["processors"]:
        p["categories"] = [c for c in p["categories"] if c != "access_logs"]
    with pytest.raises(ProfileError) as exc:
        parse_profile(mortgage_profile)
    assert exc.value.key == "data_categories" and "'audit' is required" in exc.value.message


@pytest.mark.parametrize(
    ("low", "high", "port"),
    [(5000, 5060, 5060), (5060, 5070, 5060), (5061, 5100, 5061), (5000, 5061, 5060), (1024, 1100, None)],
)
def test_rtp_range_leaves_sip_ports_closed(
    mortgage_profile: dict[str, Any], low: int, high: int, port: int | None
) -> None:
    mortgage_profile["network"].update(rtp_port_min=low, rtp_port_max=high)
    if port is None:
        assert parse_profile(mortgage_profile).network.rtp_port_max == high
        return
    with pytest.raises(ProfileError) as exc:
        parse_profile(mortgage_profile)
    assert exc.value.key == "network.rtp_port_min", str(exc.value)
    assert f"must not include {port}" in exc.value.message and "\n" not in str(exc.value)


def test_collector_accepts_names_and_addresses(mortgage_profile: dict[str, Any]) -> None:
    for value in ("logs.example.nl:6514", "192.0.2.10:514", "[2001:db8::10]:6514"):
        mortgage_profile.setdefault("audit_log", {})["collector"] = value
        assert parse_profile(mortgage_profile).audit_log.collector == value


def test_sip_domain_accepts_dns_names(mortgage_profile: dict[str, Any]) -> None:
    for name in ("sip.example.nl", "SIP-1.voip.example.com", "a" * 63 + ".example.nl"):
        mortgage_profile["network"]["sip_domain"] = name
        assert parse_profile(mortgage_profile).network.sip_domain == name


def test_special_category_needs_sensitive(healthcare_profile: dict[str, Any]) -> None:
    healthcare_profile["risk_level"] = "standard"
    with pytest.raises(ProfileError) as exc:
        parse_profile(healthcare_profile)
    assert exc.value.key == "risk_level"


def test_health_qa_recordings_kept_weeks_not_months(healthcare_profile: dict[str, Any]) -> None:
    healthcare_profile["data_categories"][2]["retention_days"] = 60
    with pytest.raises(ProfileError) as exc:
        parse_profile(healthcare_profile)
    assert "bound of 42 days" in exc.value.message


def test_adequacy_location_allowed_only_with_exception(mortgage_profile: dict[str, Any]) -> None:
    mortgage_profile["location"] = "eu-central-2"
    mortgage_profile["residency"]["exceptions"] = [
        {
            "location": "eu-central-2",
            "justification": "Swiss subsidiary's advisors must keep their recordings in Switzerland",
            "legal_ground": "Art. 45 adequacy decision for Switzerland",
            "approved_by": "DPO",
            "reference": "EXC-2026-1",
        }
    ]
    assert parse_profile(mortgage_profile).location == "eu-central-2"


def test_exception_for_third_country_refused(mortgage_profile: dict[str, Any]) -> None:
    mortgage_profile["residency"]["exceptions"] = [
        {
            "location": "us-east-1",
            "justification": "cheaper storage for the recordings archive",
            "legal_ground": "none",
            "approved_by": "CFO",
            "reference": "X",
        }
    ]
    with pytest.raises(ProfileError) as exc:
        parse_profile(mortgage_profile)
    assert exc.value.key == "residency.exceptions.0.location"


def test_not_a_mapping() -> None:
    for value in ([], "profile", 3, None):
        with pytest.raises(ProfileError) as exc:
            parse_profile(value)
        assert exc.value.key == "profile"


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10_000) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path_index=st.integers(0, 10_000), value=_json)
def test_fuzzed_profile_fails_cleanly(mortgage_profile: dict[str, Any], path_index: int, value: Any) -> None:
    """Replace any one value in a valid profile by random data: the result validates or raises ProfileError."""
    paths = list(_paths(mortgage_profile))
    path = paths[path_index % len(paths)]
    doc = _set(copy.deepcopy(mortgage_profile), path, value)
    try:
        parse_profile(doc)
    except ProfileError as exc:
        assert exc.key and "\n" not in str(exc)


def _paths(d: Any, prefix: str = "") -> Any:
    items = d.items() if isinstance(d, dict) else enumerate(d) if isinstance(d, list) else []
    for k, v in items:
        p = f"{prefix}{k}"
        yield p
        yield from _paths(v, p + ".")
