"""Where the lab keeps its files, which addresses it owns, and how its hosts are named."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# The lab's own address range. Every link is a /30 inside it: the host side of the link (the machine's root
# namespace, where the apt proxy and the probes live) takes the first address, the lab host the second.
# Lab hosts get no default route, so the only address they can reach is the host side of their own link.
LAB_NETWORK = ipaddress.IPv4Network(os.environ.get("AVG_VOIP_LAB_NETWORK", "10.231.0.0/24"))

# Names of the resources the lab creates: the prefix is what `lab down` recognises as the lab's own.
NAME_PREFIX = "avgvlab"

# Port of the lab's own apt-cacher-ng: not the packaged default 3142, so a system instance never clashes.
PROXY_PORT = int(os.environ.get("AVG_VOIP_LAB_PROXY_PORT", "3943"))

# Machine-wide state: the netns, links and processes are machine-wide, so their record is too.
RUN_DIR = Path(os.environ.get("AVG_VOIP_LAB_RUN_DIR", "/run/avg-voip-lab"))

# Cache kept between runs (and between clones): the debootstrap rootfs and the apt-cacher-ng cache.
CACHE_DIR = Path(os.environ.get("AVG_VOIP_LAB_CACHE", "/var/cache/avg-voip-lab"))

# A cached rootfs older than this is rebuilt (apt upgrades it on converge anyway; this bounds the catch-up).
ROOTFS_MAX_AGE_DAYS = int(os.environ.get("AVG_VOIP_LAB_ROOTFS_MAX_AGE_DAYS", "7"))

# The account the lab creates on each host for Ansible and the probes (key only, sudo without password).
LAB_ADMIN_USER = "labadmin"

DEFAULT_STACK = "healthcare-hcloud"
HOST_COUNT = 2


@dataclass(frozen=True)
class LabHost:
    """One lab host: its name, its namespace and link, and its addresses."""

    index: int  # 1-based, matches avg_voip_host_index
    name: str

    @property
    def netns(self) -> str:
        return f"{NAME_PREFIX}-h{self.index}"

    @property
    def link_outer(self) -> str:
        # Interface names are limited to 15 characters.
        return f"{NAME_PREFIX}{self.index}o"

    @property
    def link_inner(self) -> str:
        return f"{NAME_PREFIX}{self.index}i"

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return list(LAB_NETWORK.subnets(new_prefix=30))[self.index - 1]

    @property
    def gateway(self) -> str:
        """Host-side address of the link: the apt proxy and the probes are here."""
        return str(self.subnet.network_address + 1)

    @property
    def address(self) -> str:
        """Address of the lab host itself."""
        return str(self.subnet.network_address + 2)


@dataclass(frozen=True)
class LabPaths:
    """Files of one lab run in a checkout (`.lab/`), beside the machine-wide run state and cache."""

    root: Path

    @classmethod
    def default(cls) -> LabPaths:
        return cls(Path(os.environ.get("AVG_VOIP_LAB_DIR", str(REPO_ROOT / ".lab"))))

    @property
    def hosts(self) -> Path:
        return self.root / "hosts"

    def host_root(self, host: LabHost) -> Path:
        return self.hosts / host.name / "root"

    @property
    def ssh_dir(self) -> Path:
        return self.root / "ssh"

    @property
    def ssh_key(self) -> Path:
        return self.ssh_dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_dir / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.ssh_dir / "config"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def proxy_dir(self) -> Path:
        return self.root / "proxy"

    @property
    def lab_json(self) -> Path:
        """Description of the running lab (stack, hosts, addresses) for the later steps."""
        return self.root / "lab.json"

    @property
    def figures(self) -> Path:
        return self.root / "figures.json"


def lab_hosts(count: int = HOST_COUNT, names: list[str] | None = None) -> list[LabHost]:
    names = names or [f"sip-{i}" for i in range(1, count + 1)]
    return [LabHost(index=i, name=name) for i, name in enumerate(names[:count], start=1)]
