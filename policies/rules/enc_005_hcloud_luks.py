"""AVG-ENC-005: Hetzner recording volumes carry the LUKS2 requirement to the hosts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import HC_VOLUME, res

LABEL_KEY = "encryption"
LABEL_VALUE = "luks2-required"


def _vol(labels: dict[str, str], fmt: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"location": "nbg1", "size": 200, "labels": labels}
    if fmt:
        props["format"] = fmt
    return res(HC_VOLUME[0], "recordings-1", props, rid="10000001")


_HOSTVARS_LUKS = {"hostvars": {"avg_voip_recordings_encryption": "luks"}}
_HOSTVARS_NONE = {"hostvars": {"avg_voip_recordings_encryption": "provider"}}


def hostvar(outputs: dict[str, Any], key: str) -> Any:
    """Find a host variable in the stack outputs (flat or per host)."""
    hv = outputs.get("hostvars")
    if not isinstance(hv, dict):
        return None
    if key in hv:
        return hv[key]
    values = [v.get(key) for v in hv.values() if isinstance(v, dict) and key in v]
    if values and all(v == values[0] for v in values):
        return values[0]
    return values or None


@rule(
    id="AVG-ENC-005",
    title="Hetzner recording volumes are left unformatted, labelled LUKS2-required, and Ansible is told to encrypt them",
    articles=("32(1)(a)", "25"),
    severity=Severity.HIGH,
    rationale=(
        "Hetzner Cloud volumes have no provider-side encryption. Recordings are only protected at rest if the "
        "hosts LUKS2-encrypt the volume; a volume formatted by the provider would be used in clear."
    ),
    remediation=(
        "Create hcloud.Volume without `format`, label it encryption=luks2-required, and export hostvars with "
        "avg_voip_recordings_encryption: luks so the recordings role encrypts it."
    ),
    types=HC_VOLUME,
    passing=[Example([_vol({LABEL_KEY: LABEL_VALUE})], outputs=_HOSTVARS_LUKS, profile="healthcare-hcloud")],
    failing=[
        Example(
            [_vol({LABEL_KEY: LABEL_VALUE}, fmt="ext4")],
            outputs=_HOSTVARS_LUKS,
            profile="healthcare-hcloud",
            note="formatted by the provider",
        ),
        Example([_vol({})], outputs=_HOSTVARS_LUKS, profile="healthcare-hcloud", note="no LUKS label"),
        Example(
            [_vol({LABEL_KEY: LABEL_VALUE})],
            outputs=_HOSTVARS_NONE,
            profile="healthcare-hcloud",
            note="requirement not carried to Ansible",
        ),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    fmt, labels = record.props.get("format"), record.props.get("labels")
    if is_unknown(fmt) or is_unknown(labels):
        yield unverified(record, "volume settings unknown at preview")
        return
    if fmt:
        yield fail(
            record, f"volume is formatted by the provider as {fmt}: it cannot be LUKS-encrypted", fmt, None
        )
        return
    label = (labels or {}).get(LABEL_KEY) if isinstance(labels, dict) else None
    if label != LABEL_VALUE:
        yield fail(record, "volume is not labelled as requiring LUKS2 encryption", label, LABEL_VALUE)
        return
    if not ctx.records.outputs:
        yield unverified(record, "stack outputs (Ansible host variables) not available in this input")
        return
    carried = hostvar(ctx.records.outputs, "avg_voip_recordings_encryption")
    if carried != "luks":
        yield fail(
            record,
            "the Ansible host variables do not require LUKS for the recordings volume",
            carried,
            "luks",
        )
        return
    yield ok(record, "unformatted, labelled luks2-required, and carried to Ansible", "luks", "luks")
