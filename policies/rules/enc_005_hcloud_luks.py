"""AVG-ENC-005: Hetzner recording volumes carry the LUKS2 requirement to the hosts.

Telling Ansible `avg_voip_recordings_encryption: luks` is not enough: the recordings role only sets up LUKS on
the host's `avg_voip_recordings_device`, and with `null` it keeps recordings in a directory on the root disk. So
every server a volume is attached to must carry, in the stack's `inventory` output, the device of that volume
(`/dev/disk/by-id/scsi-0HC_Volume_<volume id>`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import HC_SERVER, HC_VOLUME, res

LABEL_KEY = "encryption"
LABEL_VALUE = "luks2-required"


def _vol(labels: dict[str, str], fmt: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"location": "nbg1", "size": 200, "labels": labels}
    if fmt:
        props["format"] = fmt
    return res(HC_VOLUME[0], "recordings-1", props, rid="10000001")


HC_ATTACHMENT = ("hcloud:index/volumeAttachment:VolumeAttachment",)
DEVICE_VAR = "avg_voip_recordings_device"
DEVICE_PREFIX = "/dev/disk/by-id/scsi-0HC_Volume_"
_DEVICE = f"{DEVICE_PREFIX}10000001"


def _attached(volume: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The volume with its server and attachment, as the render records them."""
    volume = volume or _vol({LABEL_KEY: LABEL_VALUE})
    server = res(HC_SERVER[0], "sip-1", {"location": "nbg1", "serverType": "cpx31"}, rid="20000001")
    ids = {"serverId": 20000001, "volumeId": 10000001}
    deps = [volume["urn"], server["urn"]]  # the attachment depends on both, as in the render
    return [volume, server, res(HC_ATTACHMENT[0], "recordings-sip-1", ids, rid="3", deps=deps)]


def _outputs(encryption: str = "luks", device: str | None = _DEVICE) -> dict[str, Any]:
    host = {"ansible_host": "203.0.113.10", "avg_voip_host_index": 1, DEVICE_VAR: device}
    return {
        "hostvars": {"avg_voip_recordings_encryption": encryption, DEVICE_VAR: device},
        "inventory": {"all": {"children": {"sip_servers": {"hosts": {"sip-1": host}}}}},
    }


_HOSTVARS_LUKS = _outputs()
_HOSTVARS_NONE = _outputs(encryption="provider")


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
        "avg_voip_recordings_encryption: luks and, per inventory host, avg_voip_recordings_device set to the "
        "attached volume's /dev/disk/by-id/scsi-0HC_Volume_<id>, so the recordings role encrypts it."
    ),
    types=HC_VOLUME,
    passing=[Example(_attached(), outputs=_HOSTVARS_LUKS, profile="healthcare-hcloud")],
    failing=[
        Example(
            _attached(),
            outputs=_outputs(device=None),
            profile="healthcare-hcloud",
            note="inventory has no recordings device: Ansible skips LUKS and uses the root disk",
        ),
        Example(
            _attached(),
            outputs=_outputs(device=f"{DEVICE_PREFIX}10000002"),
            profile="healthcare-hcloud",
            note="inventory names another volume's device",
        ),
        Example(
            _attached(),
            outputs={"hostvars": _HOSTVARS_LUKS["hostvars"], "inventory": {"all": {"children": {}}}},
            profile="healthcare-hcloud",
            note="the server the volume is attached to is not in the inventory",
        ),
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
    yield from _devices(record, ctx)


def _inventory_hosts(outputs: dict[str, Any]) -> dict[str, Any] | None:
    hosts = (((outputs.get("inventory") or {}).get("all") or {}).get("children") or {}).get("sip_servers")
    hosts = (hosts or {}).get("hosts") if isinstance(hosts, dict) else None
    return hosts if isinstance(hosts, dict) else None


def _servers_of(volume: ResourceRecord, ctx: Context) -> list[str] | None:
    """Names of the servers the volume is attached to (None: unknown at preview).

    An attachment names its volume and server by id; where ids are not known (a CrossGuard analysis sees none),
    the attachment's dependencies name them by urn.
    """
    servers = list(ctx.records.of_type(*HC_SERVER))
    by_urn = {s.urn: s.name for s in servers}
    by_id = {s.id: s.name for s in servers if s.id}
    names: list[str] = []
    for a in ctx.records.of_type(*HC_ATTACHMENT):
        if volume.urn in a.dependencies:
            names += [by_urn[d] for d in a.dependencies if d in by_urn]
            continue  # the volume's id, where the record lacks it, is read from the attachment (_volume_id)
        if volume.id is None:
            continue
        vid, sid = a.props.get("volumeId"), a.props.get("serverId")
        if is_unknown(vid) or is_unknown(sid) or is_unknown(volume.id):
            return None
        if str(vid) == str(volume.id):
            names.append(by_id.get(str(sid), str(sid)))
    if not names:
        host = (volume.props.get("labels") or {}).get("host")
        if isinstance(host, str) and host:
            names.append(host)
    return names


def _volume_id(volume: ResourceRecord, ctx: Context) -> str | None:
    """The volume's id: its own, or (where the record carries none, as in a CrossGuard analysis) the
    `volumeId` of the attachment that depends on it."""
    if volume.id:
        return str(volume.id)
    for a in ctx.records.of_type(*HC_ATTACHMENT):
        vid = a.props.get("volumeId")
        if volume.urn in a.dependencies and vid is not None and not is_unknown(vid):
            return str(vid)
    return None


def _devices(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    """Every server using this volume gets its device in the inventory, so Ansible LUKS-encrypts it."""
    hosts = _inventory_hosts(ctx.records.outputs)
    if hosts is None and "inventory" not in ctx.records.outputs:
        yield unverified(
            record, "the stack outputs have no Ansible inventory: recordings device not verified"
        )
        return
    names = _servers_of(record, ctx)
    if names is None:
        yield unverified(record, "volume attachment unknown at preview")
        return
    # Without any id for the volume (a preview) the device is checked to be there, not to be this volume's.
    volume_id = _volume_id(record, ctx)
    expected = f"{DEVICE_PREFIX}{volume_id}" if volume_id else None
    if not names:
        yield fail(
            record, "the volume is attached to no server: no host is told to encrypt it", None, expected
        )
        return
    for name in names:
        entry = (hosts or {}).get(name)
        device = entry.get(DEVICE_VAR) if isinstance(entry, dict) else None
        if is_unknown(device):
            yield unverified(record, f"{name}: recordings device unknown at preview")
        elif not isinstance(entry, dict):
            yield fail(record, f"server {name} is not in the Ansible inventory", None, expected)
        elif not device:
            yield fail(
                record,
                f"{name}: the inventory has no {DEVICE_VAR}, so Ansible skips LUKS and keeps recordings on "
                "the root disk",
                device,
                expected,
            )
        elif expected is not None and device != expected:
            yield fail(record, f"{name}: the inventory names {device}, not this volume", device, expected)
        else:
            yield ok(
                record,
                f"unformatted, labelled luks2-required, and {name} is told to LUKS-encrypt {device}",
                device,
                expected,
            )
