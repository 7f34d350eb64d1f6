"""AVG-RES-002: every AWS provider, explicit or default, is configured for an allowed region.

A render (and the CrossGuard pack) shows the default provider only as the provider of each resource, with the
stack's `aws:region` as its config; a preview or export lists it as a resource too. Both are judged, once per
provider URN: the provider resource when the input has it, otherwise the configuration the resources carry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.records import is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import res
from policies.rules.res_001_resource_location import location_verdict

PROVIDER = "pulumi:providers:aws"


def _provider(name: str, region: str) -> dict[str, object]:
    return {
        "urn": f"urn:pulumi:example::avg-voip::pulumi:providers:aws::{name}",
        "type": PROVIDER,
        "name": name,
        "props": {"region": region},
        "custom": True,
    }


def _on_default(region: str | None) -> dict[str, Any]:
    """A bucket on the default provider configured (stack config `aws:region`) with `region`."""
    return res("aws:s3/bucket:Bucket", "rec", {"bucket": "rec"}, region=region)


@rule(
    id="AVG-RES-002",
    title="Every AWS provider (explicit or the default one from aws:region) targets an EU/EEA region",
    articles=("44", "45"),
    severity=Severity.HIGH,
    rationale=(
        "A provider configured for a region outside the EU places every resource that uses it there; one "
        "forgotten provider is enough to move recordings or keys out of the EU."
    ),
    remediation="Configure the provider (aws:region or `region=` on aws.Provider) with an EU region.",
    scope="stack",
    passing=[
        Example([_provider("eu", "eu-west-1")]),
        Example([_on_default("eu-central-1")], note="the default provider, from the stack's aws:region"),
    ],
    failing=[
        Example([_provider("us", "us-west-2")]),
        Example([_provider("zurich", "eu-central-2")]),
        Example([_on_default("us-east-1")], note="the default provider's aws:region is outside the EU"),
        Example([_on_default(None)], note="no aws:region in the stack config"),
    ],
)
def check(ctx: Context) -> Iterator[Result]:
    judged: set[str] = set()
    for record in ctx.records.of_type(PROVIDER):
        judged.add(record.urn)
        yield _verdict(ctx, record.urn, record.props.get("region"))
    for record in ctx.records.records:
        prov = record.provider
        if prov is None or prov.type != PROVIDER or prov.urn in judged or not record.custom:
            continue
        judged.add(prov.urn)
        yield _verdict(ctx, prov.urn, prov.config.get("region"))


def _verdict(ctx: Context, target: str, region: Any) -> Result:
    if is_unknown(region):
        return unverified(target, "provider region unknown at preview")
    if not isinstance(region, str) or not region:
        return fail(
            target, "provider has no region (set aws:region in the stack config)", None, "an EU region"
        )
    why = location_verdict(ctx, "aws", region)
    return (
        fail(target, why, region, "EU/EEA") if why else ok(target, f"provider in {region}", region, "EU/EEA")
    )
