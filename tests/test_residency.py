"""The residency catalogue against the regions and locations the installed provider SDKs know."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi_aws
import pulumi_hcloud

from avg_voip.residency import EU_EEA_COUNTRIES, ISO_3166_ALPHA2, LegalStatus, load_catalogue

CAT = load_catalogue()


def test_every_aws_region_of_the_sdk_is_catalogued() -> None:
    sdk = {r.value for r in pulumi_aws.Region}
    assert sdk - set(CAT.names("aws")) == set(), "regions missing from the catalogue"
    assert set(CAT.names("aws")) - sdk == set(), "catalogue lists regions the SDK does not know"


def test_every_hcloud_location_named_by_the_sdk_is_catalogued() -> None:
    # pulumi-hcloud has no location enum; its docs name locations in examples. All must be known.
    text = "".join(p.read_text() for p in Path(pulumi_hcloud.__file__).parent.glob("*.py"))
    named = set(re.findall(r'location="([a-z]+[0-9]?)"', text))
    assert named, "the SDK's examples name no location"
    assert named <= set(CAT.names("hcloud")), named - set(CAT.names("hcloud"))


def test_known_facts() -> None:
    facts = {
        ("aws", "eu-central-1"): ("DE", LegalStatus.EU),
        ("aws", "eu-central-2"): ("CH", LegalStatus.ADEQUACY),  # Zurich is not in the EU
        ("aws", "eu-west-2"): ("GB", LegalStatus.ADEQUACY),  # London is not in the EU
        ("aws", "eu-west-1"): ("IE", LegalStatus.EU),
        ("aws", "us-east-1"): ("US", LegalStatus.THIRD_COUNTRY),
        ("aws", "il-central-1"): ("IL", LegalStatus.ADEQUACY),
        ("hcloud", "hel1"): ("FI", LegalStatus.EU),
        ("hcloud", "ash"): ("US", LegalStatus.THIRD_COUNTRY),
        ("hcloud", "sin"): ("SG", LegalStatus.THIRD_COUNTRY),
    }
    for (provider, name), (country, status) in facts.items():
        loc = CAT.find(provider, name)
        assert loc is not None and (loc.country, loc.status) == (country, status), (provider, name, loc)


def test_only_eu_locations_allowed_by_default() -> None:
    allowed = set(CAT.names("aws", allowed_only=True)) | set(CAT.names("hcloud", allowed_only=True))
    assert allowed == {
        "eu-central-1",
        "eu-west-1",
        "eu-west-3",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eusc-de-east-1",
        "fsn1",
        "nbg1",
        "hel1",
    }


def test_country_codes_are_iso_3166_alpha2() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert EU_EEA_COUNTRIES <= ISO_3166_ALPHA2
    assert not {"XX", "EU", "UK", "ZZ"} & ISO_3166_ALPHA2
    placed = {CAT.find(p, n).country for p in CAT.providers() for n in CAT.names(p)}  # type: ignore[union-attr]
    assert placed - {"??"} <= ISO_3166_ALPHA2, placed - ISO_3166_ALPHA2
