"""One network namespace per lab host, joined to the machine's root namespace by a veth pair.

The host-side end of each pair holds the first address of a /30 of the lab's range; the lab host the second.
Nothing is routed: lab hosts have no default route, and the root namespace's forwarding and firewall are
left as they are.
"""

from __future__ import annotations

from pathlib import Path

from avg_voip.lab.config import LabHost
from avg_voip.lab.state import LabState
from avg_voip.lab.system import LabError, run


def create_link(state: LabState, host: LabHost) -> None:
    if Path(f"/run/netns/{host.netns}").exists():
        raise LabError(f"netns {host.netns} already exists: run `avg-voip lab down` first")
    state.add("netns", host.netns)
    run(["ip", "netns", "add", host.netns])
    state.add("links", host.link_outer)
    run(["ip", "link", "add", host.link_outer, "type", "veth", "peer", "name", host.link_inner])
    run(["ip", "link", "set", host.link_inner, "netns", host.netns])
    # Inside the host the link is its eth0, like a cloud server's first interface.
    run(["ip", "-n", host.netns, "link", "set", host.link_inner, "name", "eth0"])
    prefix = host.subnet.prefixlen
    run(["ip", "addr", "add", f"{host.gateway}/{prefix}", "dev", host.link_outer])
    run(["ip", "-n", host.netns, "addr", "add", f"{host.address}/{prefix}", "dev", "eth0"])
    run(["ip", "link", "set", host.link_outer, "up"])
    run(["ip", "-n", host.netns, "link", "set", "eth0", "up"])
    run(["ip", "-n", host.netns, "link", "set", "lo", "up"])


def netns_path(host: LabHost) -> str:
    return f"/run/netns/{host.netns}"
