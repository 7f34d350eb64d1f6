"""AVG-ENC-002: EBS volumes and instance block devices are encrypted with a customer-managed key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import EBS_VOLUME, INSTANCE, as_list, res

KEY = "arn:aws:kms:eu-central-1:123456789012:key/1111"
_IMDS = {"httpTokens": "required"}


@rule(
    id="AVG-ENC-002",
    title="EBS volumes and instance disks are encrypted with a customer-managed KMS key",
    articles=("32(1)(a)",),
    severity=Severity.HIGH,
    rationale=(
        "SIP servers spool recordings and hold call records on their disks; a snapshot or a discarded disk "
        "must be unreadable without the organisation's key."
    ),
    remediation="Set encrypted=True and kms_key_id to the stack's CMK on every volume and root_block_device.",
    types=EBS_VOLUME + INSTANCE,
    passing=[
        Example([res(EBS_VOLUME[0], "data", {"encrypted": True, "kmsKeyId": KEY, "size": 100})]),
        Example(
            [
                res(
                    INSTANCE[0],
                    "sip-1",
                    {"metadataOptions": _IMDS, "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY}},
                )
            ]
        ),
    ],
    failing=[
        Example([res(EBS_VOLUME[0], "data", {"encrypted": False, "size": 100})]),
        Example(
            [res(EBS_VOLUME[0], "data", {"encrypted": True, "size": 100})], note="default EBS key, not a CMK"
        ),
        Example([res(INSTANCE[0], "sip-1", {"metadataOptions": _IMDS})], note="root disk unencrypted"),
        Example(
            [
                res(
                    INSTANCE[0],
                    "sip-1",
                    {
                        "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY},
                        "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": False}],
                    },
                )
            ]
        ),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    if record.type in EBS_VOLUME:
        disks: list[tuple[str, Any]] = [("volume", record.props)]
    else:
        disks = [("root disk", record.props.get("rootBlockDevice") or {})]
        disks += [
            (f"disk {d.get('deviceName', i)}", d)
            for i, d in enumerate(as_list(record.props.get("ebsBlockDevices")))
            if isinstance(d, dict)
        ]
    for label, d in disks:
        if is_unknown(d) or is_unknown(d.get("encrypted")) or is_unknown(d.get("kmsKeyId")):
            yield unverified(record, f"{label} encryption unknown at preview")
            return
        if d.get("encrypted") is not True:
            yield fail(record, f"{label} is not encrypted", d.get("encrypted"), True)
            return
        if not d.get("kmsKeyId"):
            yield fail(
                record, f"{label} uses the default EBS key, not a customer-managed key", None, "a CMK ARN"
            )
            return
    yield ok(record, "encrypted with a customer-managed key", True, True)
