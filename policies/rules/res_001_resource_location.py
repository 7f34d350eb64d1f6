"""AVG-RES-001: every resource is in an allowed location (its own region first, then its provider's)."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.profile import Profile, Residency
from avg_voip.records import ResourceRecord, is_unknown, region_of
from avg_voip.residency import Catalogue, LegalStatus
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import HC_SUBNET, res

_GLOBAL_AWS = ("aws:iam/", "aws:route53/", "aws:cloudfront/", "aws:organizations/")
# Hetzner resources that live in a location: without one pinned, Hetzner picks it (any of its locations,
# Ashburn, Hillsboro and Singapore included), so the plan cannot show the data stays in the EU.
HC_PLACED = (
    "hcloud:index/server:Server",
    "hcloud:index/volume:Volume",
    "hcloud:index/loadBalancer:LoadBalancer",
    "hcloud:index/floatingIp:FloatingIp",
    "hcloud:index/primaryIp:PrimaryIp",
)


def location_verdict(ctx: Context, provider: str, location: str) -> str | None:
    """None when allowed; otherwise why not."""
    return judge_location(ctx.catalogue, ctx.profile, provider, location)


def judge_location(catalogue: Catalogue, profile: Profile | None, provider: str, location: str) -> str | None:
    entry = catalogue.find(provider, location)
    if entry is None:
        return f"unknown {provider} location {location!r}: not in the residency catalogue"
    residency = profile.residency if profile else Residency()
    if entry.status.value in residency.allowed_zones:
        return None
    if entry.status is LegalStatus.ADEQUACY and any(e.location == location for e in residency.exceptions):
        return None
    return f"{location} is in {entry.country} ({entry.status.value}), outside the EU/EEA"


def hcloud_location(record: ResourceRecord) -> object:
    for key in ("location", "homeLocation"):
        if key in record.props:
            return record.props[key]
    dc = record.props.get("datacenter")
    if isinstance(dc, str) and dc:
        return dc.split("-", 1)[0]  # nbg1-dc3 -> nbg1
    return dc if is_unknown(dc) else None


@rule(
    id="AVG-RES-001",
    title="Every resource is placed in an EU/EEA location (or a justified adequacy exception)",
    articles=("44", "45", "46"),
    severity=Severity.CRITICAL,
    rationale=(
        "Personal data stored or processed outside the EU/EEA is a transfer (Chapter V). The platform keeps "
        "call data, recordings, logs and keys in EU locations so the full protection of the AVG applies."
    ),
    remediation=(
        "Set the resource's region/location to an EU location from the residency catalogue, or add a justified "
        "residency.exceptions entry for an adequacy-decision location to the profile."
    ),
    passing=[
        Example([res("aws:s3/bucket:Bucket", "rec", {"bucket": "rec"})]),
        Example([res("hcloud:index/server:Server", "sip-1", {"location": "nbg1"})]),
    ],
    failing=[
        Example([res("aws:s3/bucket:Bucket", "rec", {"bucket": "rec"}, region="us-east-1")]),
        Example(
            [res("aws:s3/bucket:Bucket", "rec", {"bucket": "rec", "region": "eu-west-2"})],
            note="resource region differs from its provider's: London is not in the EU",
        ),
        Example([res("hcloud:index/server:Server", "sip-1", {"datacenter": "ash-dc1"})]),
        Example([res(HC_SUBNET[0], "sub", {"networkZone": "us-east"})]),
        Example([res("hcloud:index/server:Server", "sip-1", {"serverType": "cpx31"})], note="no location"),
        Example([res("hcloud:index/volume:Volume", "rec", {"size": 200})], note="volume without location"),
        Example([res(HC_SUBNET[0], "sub", {"ipRange": "10.0.0.0/24"})], note="subnet without network zone"),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    if record.package == "aws":
        if record.type.startswith(_GLOBAL_AWS):
            return  # global services hold no regional data; their data lands where the regional ones are
        region = region_of(record)
        if is_unknown(region):
            yield unverified(record, "region unknown until the resource exists")
            return
        if region is None:
            yield fail(record, "no region set on the resource or its provider", None, "an EU region")
            return
        why = location_verdict(ctx, "aws", str(region))
        yield fail(record, why, region, "EU/EEA") if why else ok(record, f"in {region}", region, "EU/EEA")
    elif record.package == "hcloud":
        if record.type in HC_SUBNET:
            zone = record.props.get("networkZone")
            if is_unknown(zone):
                yield unverified(record, "network zone unknown at preview")
            elif zone is None:
                yield fail(record, "no network zone set", None, "eu-central")
            elif zone == "eu-central":
                yield ok(record, "network zone eu-central", zone, "eu-central")
            else:
                yield fail(record, f"network zone {zone!r} lies outside the EU", zone, "eu-central")
            return
        loc = hcloud_location(record)
        if loc is None and record.type in HC_PLACED:
            yield fail(
                record, "no location set: Hetzner picks one, possibly outside the EU", None, "an EU location"
            )
            return
        if loc is None:
            return  # not a placed resource (firewall, ssh key, network)
        if is_unknown(loc):
            yield unverified(record, "location unknown at preview")
            return
        if not isinstance(loc, str) or not loc:
            yield fail(record, f"unreadable location {loc!r}", loc, "an EU location")
            return
        why = location_verdict(ctx, "hcloud", loc)
        yield fail(record, why, loc, "EU/EEA") if why else ok(record, f"in {loc}", loc, "EU/EEA")
