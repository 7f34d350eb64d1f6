"""A cgroup of its own for each lab host.

With `--register=no --keep-unit` systemd-nspawn keeps the cgroup it was started in and puts the container's
systemd into `<that cgroup>/payload`. Two hosts started from the same process would then share one cgroup tree:
each host's systemd creates, kills and removes the other's `system.slice/<unit>` (seen as
`Failed to attach to cgroup /system.slice/nftables.service` and status 219/CGROUP on one host while the other
reloaded the same unit). Starting each nspawn in `<own cgroup>/avgvlab-<host>` of every hierarchy systemd
tracks processes in (the cgroup2 one, and `name=systemd` on a hybrid machine) gives each host a tree of its own,
and a way to end every process of a host that is left over.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import time
from pathlib import Path

from avg_voip.lab import config


def hierarchies(mountinfo_text: str | None = None, cgroup_text: str | None = None) -> list[Path]:
    """This process's cgroup directory in each hierarchy systemd uses for tracking (cgroup2, name=systemd)."""
    try:
        mountinfo = (mountinfo_text or Path("/proc/self/mountinfo").read_text()).splitlines()
        own = (cgroup_text or Path("/proc/self/cgroup").read_text()).splitlines()
    except OSError:
        return []
    mounts: dict[str, Path] = {}
    for line in mountinfo:
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        fstype, _source, options = line.split(" - ", 1)[1].split()[:3]
        if fstype == "cgroup2":
            mounts.setdefault("", Path(fields[4]))
        elif fstype == "cgroup" and "name=systemd" in options.split(","):
            mounts.setdefault("name=systemd", Path(fields[4]))
    found: list[Path] = []
    for line in own:
        if line.count(":") < 2:
            continue
        hier_id, controllers, path = line.split(":", 2)
        key = "" if hier_id == "0" and controllers == "" else controllers
        if key in mounts:
            found.append(mounts[key] / path.lstrip("/"))
    return found


def host_cgroups(host_name: str) -> list[Path]:
    return [base / f"{config.NAME_PREFIX}-{host_name}" for base in hierarchies()]


def create(groups: list[Path]) -> None:
    for group in groups:
        group.mkdir(exist_ok=True)


def exec_in(groups: list[Path], cmd: list[str]) -> list[str]:
    """`cmd` wrapped so that it runs in the groups: the shell moves itself there, then execs it (same pid)."""
    moves = "".join(f"echo $$ > {shlex.quote(str(g / 'cgroup.procs'))} && " for g in groups)
    return ["/bin/sh", "-c", f'{moves}exec "$@"', "sh", *cmd]


def pids(group: Path) -> list[int]:
    """Every process in the group and the groups below it."""
    found: list[int] = []
    for procs in group.rglob("cgroup.procs"):
        with contextlib.suppress(OSError, ValueError):
            found.extend(int(p) for p in procs.read_text().split())
    return found


def remove(group: Path, wait_s: float = 10) -> bool:
    """End what is still running in a host's group, then remove the group and the groups below it."""
    if not group.is_dir():
        return False
    deadline = time.monotonic() + wait_s
    while (left := pids(group)) and time.monotonic() < deadline:
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    # Deepest first: a cgroup directory can only be removed once it has no children.
    for sub in sorted((p for p in group.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            sub.rmdir()
    with contextlib.suppress(OSError):
        group.rmdir()
    return True


def leftovers() -> list[Path]:
    """Groups named as the lab's in this process's cgroups (from a run whose record was lost)."""
    return [
        g
        for base in hierarchies()
        if base.is_dir()
        for g in base.glob(f"{config.NAME_PREFIX}-*")
        if g.is_dir()
    ]
