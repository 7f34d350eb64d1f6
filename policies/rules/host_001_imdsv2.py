"""AVG-HOST-001: instances require IMDSv2 session tokens."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import INSTANCE, LAUNCH_TEMPLATE, res


@rule(
    id="AVG-HOST-001",
    title="SIP server instances require IMDSv2 (metadata session tokens)",
    articles=("32(1)(b)",),
    severity=Severity.HIGH,
    rationale=(
        "With IMDSv1 a single server-side request forgery in any service on the host hands out the instance "
        "role's credentials, which can write recordings; IMDSv2 tokens block that path."
    ),
    remediation="Set metadata_options http_tokens='required' (and http_put_response_hop_limit=1).",
    types=INSTANCE + LAUNCH_TEMPLATE,
    passing=[Example([res(INSTANCE[0], "sip-1", {"metadataOptions": {"httpTokens": "required"}})])],
    failing=[
        Example([res(INSTANCE[0], "sip-1", {"metadataOptions": {"httpTokens": "optional"}})]),
        Example([res(INSTANCE[0], "sip-1", {})], note="default is optional"),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    tokens = record.get("metadataOptions", "httpTokens")
    if is_unknown(tokens):
        yield unverified(record, "metadata options unknown at preview")
    elif tokens == "required":
        yield ok(record, "IMDSv2 required", tokens, "required")
    else:
        yield fail(record, f"IMDS tokens are {tokens or 'optional (default)'}", tokens, "required")
