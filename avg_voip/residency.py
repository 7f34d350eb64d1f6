"""Residency catalogue: where each AWS region and Hetzner location is, and its legal status under the AVG."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CATALOGUE_PATH = Path(__file__).parent / "data" / "residency.yaml"
# ISO 3166 alpha-2 codes of the EU member states and the other EEA states (Iceland, Liechtenstein, Norway).
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "HU",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
EEA_COUNTRIES = frozenset({"IS", "LI", "NO"})
EU_EEA_COUNTRIES = EU_COUNTRIES | EEA_COUNTRIES

# Every officially assigned ISO 3166-1 alpha-2 code (249, as published in Debian iso-codes 4.15.0). User-assigned
# codes (AA, QM-QZ, XA-XZ, ZZ) and reserved ones (EU, UK) are not countries.
ISO_3166_ALPHA2 = frozenset(
    " ".join(
        (
            "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS",
            "BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE",
            "EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM",
            "HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC",
            "LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA",
            "NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW",
            "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO",
            "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW",
        )
    ).split()
)


class LegalStatus(enum.StrEnum):
    EU = "EU"
    EEA = "EEA"
    ADEQUACY = "adequacy"
    THIRD_COUNTRY = "third_country"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Location:
    provider: str
    name: str
    city: str
    country: str
    status: LegalStatus
    note: str = ""
    network_zone: str = ""

    @property
    def in_eu_eea(self) -> bool:
        return self.status in (LegalStatus.EU, LegalStatus.EEA)


class Catalogue:
    def __init__(self, entries: dict[str, dict[str, Location]]) -> None:
        self._entries = entries

    def find(self, provider: str, name: str) -> Location | None:
        return self._entries.get(provider, {}).get(name)

    def names(self, provider: str, allowed_only: bool = False) -> list[str]:
        locs = self._entries.get(provider, {}).values()
        return sorted(loc.name for loc in locs if not allowed_only or loc.in_eu_eea)

    def providers(self) -> list[str]:
        return sorted(self._entries)

    def hcloud_zone_locations(self, zone: str) -> list[str]:
        return sorted(
            loc.name for loc in self._entries.get("hcloud", {}).values() if loc.network_zone == zone
        )


@cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries: dict[str, dict[str, Location]] = {}
    for provider, locations in raw.items():
        entries[provider] = {
            name: Location(
                provider=provider,
                name=name,
                city=str(v["city"]),
                country=str(v["country"]),
                status=LegalStatus(v["status"]),
                note=str(v.get("note", "")),
                network_zone=str(v.get("network_zone", "")),
            )
            for name, v in locations.items()
        }
    return Catalogue(entries)
