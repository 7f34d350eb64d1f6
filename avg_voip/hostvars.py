"""Ansible variables derived from the profile (contract: docs/host-vars.md). The only place they are computed."""

from __future__ import annotations

from typing import Any

from avg_voip.profile import DataKind, Profile, Provider

RECORDINGS_ROOT = "/srv/recordings"
REVIEWER_GROUP = "recording-reviewers"
ADMIN_GROUP = "sipadmins"


def host_categories(profile: Profile) -> list[dict[str, Any]]:
    """Content categories kept on the SIP hosts, with the retention the hosts' deletion timer enforces.

    On Hetzner the host volume is the recordings store, so the category's own retention applies. On AWS the
    hosts only spool recordings until they are uploaded to the bucket: the shorter of spool and retention.
    """
    out = []
    for c in profile.categories(kind=DataKind.CONTENT):
        days = c.retention_days
        if profile.provider is Provider.AWS:
            days = min(days, profile.hosts.local_spool_days)
        out.append(
            {
                "id": c.id,
                "path": f"{RECORDINGS_ROOT}/{c.id}",
                "retention_days": days,
                "readers": list(c.readers),
            }
        )
    return out


def derive_hostvars(profile: Profile, stack: str, recordings_device: str | None) -> dict[str, Any]:
    return {
        "avg_voip_stack": stack,
        "avg_voip_provider": profile.provider.value,
        "avg_voip_risk_level": profile.risk_level.value,
        "avg_voip_sip_domain": profile.network.sip_domain,
        "avg_voip_admin_cidrs": list(profile.network.admin_cidrs),
        "avg_voip_admin_group": ADMIN_GROUP,
        "avg_voip_sip_peer_cidrs": list(profile.network.sip_peer_cidrs),
        "avg_voip_rtp_port_min": profile.network.rtp_port_min,
        "avg_voip_rtp_port_max": profile.network.rtp_port_max,
        "avg_voip_recordings_root": RECORDINGS_ROOT,
        "avg_voip_recordings_encryption": "luks" if profile.provider is Provider.HCLOUD else "provider",
        "avg_voip_recordings_device": recordings_device,
        "avg_voip_reviewer_group": REVIEWER_GROUP,
        "avg_voip_recording_categories": host_categories(profile),
        "avg_voip_retention_days": {c.id: c.retention_days for c in profile.data_categories},
        "avg_voip_audit_log_retention_days": profile.audit_retention_days,
        "avg_voip_log_collector": profile.audit_log.collector,
        "avg_voip_reboot_window": profile.patching.reboot_window,
        "avg_voip_timezone": profile.patching.timezone,
    }


def inventory(hosts: list[dict[str, Any]]) -> dict[str, Any]:
    """hosts: [{name, address, index}] -> an Ansible YAML inventory with the `sip_servers` group."""
    return {
        "all": {
            "children": {
                "sip_servers": {
                    "hosts": {
                        h["name"]: {"ansible_host": h["address"], "avg_voip_host_index": h["index"]}
                        for h in hosts
                    }
                }
            }
        }
    }
