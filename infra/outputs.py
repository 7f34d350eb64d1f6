"""Stack outputs both providers share: the Ansible inventory and host variables (contract: docs/host-vars.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulumi import Input, Output

from avg_voip.hostvars import derive_hostvars, inventory
from avg_voip.profile import Profile

DEVICE_VAR = "avg_voip_recordings_device"


@dataclass(frozen=True)
class HostRecord:
    name: str
    address: Input[str]
    recordings_device: Input[str]


def host_outputs(profile: Profile, stack: str, hosts: list[HostRecord]) -> dict[str, Output[Any]]:
    """`inventory`, `hostvars`, `recordings_devices` and `host_addresses`.

    The recordings device can differ per host (Hetzner names it by volume id), so each inventory host carries
    its own `avg_voip_recordings_device`; inventory host variables take precedence over the group-level
    `hostvars`, whose device is the first host's.
    """
    names = [h.name for h in hosts]
    addresses = Output.all(*[h.address for h in hosts])
    devices = Output.all(*[h.recordings_device for h in hosts])

    def build_inventory(values: list[list[str]]) -> dict[str, Any]:
        ips, devs = values
        inv = inventory(
            [
                {"name": n, "address": ip, "index": i}
                for i, (n, ip) in enumerate(zip(names, ips, strict=True), 1)
            ]
        )
        for name, device in zip(names, devs, strict=True):
            inv["all"]["children"]["sip_servers"]["hosts"][name][DEVICE_VAR] = device
        return inv

    return {
        "inventory": Output.all(addresses, devices).apply(build_inventory),
        "hostvars": devices.apply(lambda devs: derive_hostvars(profile, stack, devs[0])),
        "recordings_devices": devices.apply(lambda devs: dict(zip(names, devs, strict=True))),
        "host_addresses": addresses.apply(lambda ips: dict(zip(names, ips, strict=True))),
    }
