"""Lab inventory: the offline render of a stack, with the cloud addresses replaced by the lab's.

Every profile-derived variable (retention, paths, groups, ports) is kept as rendered. The few values the lab
must change are changed here, in one place, listed at the top of the written inventory and in lab.json.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from avg_voip.lab import config
from avg_voip.lab.config import LabHost, LabPaths
from avg_voip.lab.system import LabError


@dataclass
class LabInventory:
    stack: str
    hosts: list[LabHost]
    hostvars: dict[str, Any]
    overrides: list[dict[str, Any]] = field(default_factory=list)
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None


def render_dir(stack: str) -> Path:
    return config.REPO_ROOT / "reports" / stack / "ansible"


def render(stack: str) -> tuple[Path, int]:
    """Render and judge the stack offline (`avg-voip audit --stack NAME`): the plan verdict and the Ansible
    inputs in reports/<stack>/. Returns the ansible dir and the verdict's exit code."""
    cli = config.REPO_ROOT / "scripts" / "avg-voip"
    if not cli.exists():
        raise LabError(f"{cli} not found: the offline render is needed for the lab inventory")
    proc = subprocess.run(
        [sys.executable, str(cli), "audit", "--stack", stack],
        cwd=config.REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    out = render_dir(stack)
    if not (out / "hostvars.yml").exists() or proc.returncode == 2:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise LabError(f"avg-voip audit --stack {stack} exited {proc.returncode}: {tail}")
    return out, proc.returncode


def _rendered_hosts(inventory: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, vars) of the hosts of group sip_servers, wherever the render nests it."""

    def walk(node: Any) -> dict[str, Any] | None:
        if not isinstance(node, dict):
            return None
        if "sip_servers" in node and isinstance(node["sip_servers"], dict):
            return node["sip_servers"]
        for child in node.values():
            found = walk(child)
            if found is not None:
                return found
        return None

    group = walk(inventory) or {}
    hosts = group.get("hosts") or {}
    items = sorted(hosts.items(), key=lambda kv: (kv[1] or {}).get("avg_voip_host_index", 0))
    return [(name, dict(hv or {})) for name, hv in items]


def build(stack: str, ansible_dir: Path, paths: LabPaths, count: int = config.HOST_COUNT) -> LabInventory:
    try:
        rendered_inv = yaml.safe_load((ansible_dir / "inventory.yml").read_text()) or {}
        hostvars = yaml.safe_load((ansible_dir / "hostvars.yml").read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LabError(f"cannot read the render of {stack} in {ansible_dir}: {exc}") from exc
    rendered_hosts = _rendered_hosts(rendered_inv)
    names = [name for name, _ in rendered_hosts] or [f"sip-{i}" for i in range(1, count + 1)]
    while len(names) < count:
        names.append(f"sip-{len(names) + 1}")
    hosts = config.lab_hosts(count, names)
    host_vars = {name: {k: v for k, v in hv.items() if k != "ansible_host"} for name, hv in rendered_hosts}
    lab_range = str(config.LAB_NETWORK)
    overrides: list[dict[str, Any]] = []

    def override(key: str, new: Any, why: str) -> None:
        rendered = [hostvars.get(key)] if key in hostvars else []
        rendered += [hv[key] for hv in host_vars.values() if key in hv]
        overrides.append(
            {
                "variable": key,
                "rendered": rendered[0] if len(rendered) == 1 else rendered,
                "lab": new,
                "why": why,
            }
        )
        hostvars[key] = new
        for hv in host_vars.values():
            if key in hv:
                hv[key] = new

    override(
        "avg_voip_recordings_device",
        None,
        "no block device in a container: recordings live in a directory on the root disk",
    )
    for key in ("avg_voip_admin_cidrs", "avg_voip_sip_peer_cidrs"):
        current = list(hostvars.get(key) or next((hv[key] for hv in host_vars.values() if key in hv), []))
        if lab_range not in current:
            override(key, [*current, lab_range], "the lab's probes and Ansible connect from this range")
    if hostvars.get("avg_voip_log_collector"):
        override("avg_voip_log_collector", None, "the lab hosts reach nothing outside their link")
    rendered_addr = {name: hv.get("ansible_host") for name, hv in rendered_hosts}
    for host in hosts:
        overrides.append(
            {
                "variable": f"ansible_host ({host.name})",
                "rendered": rendered_addr.get(host.name),
                "lab": host.address,
                "why": "lab host in its own network namespace",
            }
        )
    return LabInventory(stack=stack, hosts=hosts, hostvars=hostvars, overrides=overrides, host_vars=host_vars)


def write(inv: LabInventory, paths: LabPaths) -> Path:
    out_dir = paths.root / inv.stack
    out_dir.mkdir(parents=True, exist_ok=True)
    hosts = {
        h.name: {
            **inv.host_vars.get(h.name, {}),
            "ansible_host": h.address,
            "avg_voip_host_index": h.index,
            "avg_voip_lab_gateway": h.gateway,
        }
        for h in inv.hosts
    }
    connection = {
        "ansible_user": config.LAB_ADMIN_USER,
        "ansible_ssh_private_key_file": str(paths.ssh_key),
        "ansible_ssh_common_args": f"-F {paths.ssh_config}",
        "ansible_become": True,
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    doc = {"all": {"children": {"sip_servers": {"hosts": hosts, "vars": {**inv.hostvars, **connection}}}}}
    header = [
        f"# Lab inventory of stack {inv.stack}: the offline render (reports/{inv.stack}/ansible/) with these",
        "# lab overrides; every other variable is the profile's, unchanged.",
    ]
    for o in inv.overrides:
        header.append(f"#   {o['variable']}: {o['rendered']!r} -> {o['lab']!r}  ({o['why']})")
    path = out_dir / "inventory.yml"
    path.write_text("\n".join(header) + "\n" + yaml.safe_dump(doc, sort_keys=False))
    inv.path = path
    return path
