"""AVG-RES-002: every explicit provider is configured for an allowed region."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules.res_001_resource_location import location_verdict


def _provider(name: str, region: str) -> dict[str, object]:
    return {
        "urn": f"urn:pulumi:example::avg-voip::pulumi:providers:aws::{name}",
        "type": "pulumi:providers:aws",
        "name": name,
        "props": {"region": region},
        "custom": True,
    }


@rule(
    id="AVG-RES-002",
    title="Every AWS provider targets an EU/EEA region",
    articles=("44", "45"),
    severity=Severity.HIGH,
    rationale=(
        "A provider configured for a region outside the EU places every resource that uses it there; one "
        "forgotten provider is enough to move recordings or keys out of the EU."
    ),
    remediation="Configure the provider (aws:region or `region=` on aws.Provider) with an EU region.",
    types=("pulumi:providers:aws",),
    passing=[Example([_provider("eu", "eu-west-1")])],
    failing=[Example([_provider("us", "us-west-2")]), Example([_provider("zurich", "eu-central-2")])],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    region = record.props.get("region")
    if is_unknown(region):
        yield unverified(record, "provider region unknown at preview")
    elif not isinstance(region, str) or not region:
        yield fail(record, "provider has no region", None, "an EU region")
    else:
        why = location_verdict(ctx, "aws", region)
        yield (
            fail(record, why, region, "EU/EEA")
            if why
            else ok(record, f"provider in {region}", region, "EU/EEA")
        )
