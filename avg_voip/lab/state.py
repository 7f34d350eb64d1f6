"""Record of everything the lab started, so every exit path and `lab down` can remove it by its own id.

Each resource is written to the record *before* it is created (a namespace or link name) or right after it
exists (a process: pid and start time), so a crash between the two leaves nothing unrecorded.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from avg_voip.lab import cgroups, config
from avg_voip.lab.system import LabError, is_same_process, run


class LabState:
    """The machine-wide record in RUN_DIR/state.json: netns, links, processes, directories of the lab."""

    def __init__(self, run_dir: Path = config.RUN_DIR) -> None:
        self.run_dir = run_dir
        self.path = run_dir / "state.json"
        self.data: dict[str, Any] = {"netns": [], "links": [], "processes": [], "mounts": [], "cgroups": []}
        if self.path.exists():
            with contextlib.suppress(OSError, ValueError):
                self.data.update(json.loads(self.path.read_text()))

    def save(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2))
        os.replace(tmp, self.path)

    def add(self, kind: str, entry: Any) -> None:
        if entry not in self.data[kind]:
            self.data[kind].append(entry)
        self.save()

    def remove(self, kind: str, entry: Any) -> None:
        if entry in self.data[kind]:
            self.data[kind].remove(entry)
        self.save()

    def add_process(self, role: str, pid: int, start_time: int | None, cmd: list[str]) -> None:
        self.add("processes", {"role": role, "pid": pid, "start_time": start_time, "cmd": cmd})

    def process(self, role: str) -> dict[str, Any] | None:
        for entry in self.data["processes"]:
            if entry["role"] == role:
                return entry
        return None

    @property
    def empty(self) -> bool:
        return not any(self.data.get(k) for k in ("netns", "links", "processes", "mounts", "cgroups"))


_held = 0  # nesting depth of lab_lock in this process


@contextlib.contextmanager
def lab_lock(run_dir: Path = config.RUN_DIR, wait_s: float = 30) -> Iterator[None]:
    """One lab at a time on a machine: names and addresses are machine-wide. Re-entrant in one process."""
    global _held
    if _held:
        _held += 1
        try:
            yield
        finally:
            _held -= 1
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "lock", "w") as fh:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError(f"another lab run holds {run_dir / 'lock'}") from None
                time.sleep(0.5)
        _held = 1
        try:
            yield
        finally:
            _held = 0
            fcntl.flock(fh, fcntl.LOCK_UN)


def stop_process(entry: dict[str, Any], timeout_s: float = 30) -> bool:
    """Stop one recorded process: SIGTERM (systemd-nspawn turns it into an orderly shutdown), then SIGKILL.

    Only the process with the recorded pid *and* start time is signalled; a recycled pid is left alone.
    """
    pid, start = entry["pid"], entry.get("start_time")
    if not is_same_process(pid, start):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap(pid)
        if not is_same_process(pid, start):
            return True
        time.sleep(0.2)
    # The process leads its own session and group (started with start_new_session): kill the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for _ in range(50):
        _reap(pid)
        if not is_same_process(pid, start):
            break
        time.sleep(0.1)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def teardown(state: LabState, log: Any = print) -> list[str]:
    """Remove every recorded resource: processes (hosts first, proxy last), cgroups, mounts, links, namespaces."""
    done: list[str] = []
    procs = sorted(state.data["processes"], key=lambda p: p["role"] == "proxy")
    for entry in procs:
        if stop_process(entry):
            done.append(f"stopped {entry['role']} (pid {entry['pid']})")
        state.remove("processes", entry)
    for group in list(state.data.get("cgroups", [])):
        if cgroups.remove(Path(group)):
            done.append(f"removed cgroup {group}")
        state.remove("cgroups", group)
    for mount in list(state.data.get("mounts", [])):
        if os.path.ismount(mount):
            if run(["umount", mount], check=False).returncode != 0:
                run(["umount", "-l", mount], check=False)
            done.append(f"unmounted {mount}")
        state.remove("mounts", mount)
    for link in list(state.data["links"]):
        if run(["ip", "link", "show", link], check=False).returncode == 0:
            run(["ip", "link", "del", link], check=False)
            done.append(f"removed link {link}")
        state.remove("links", link)
    for ns in list(state.data["netns"]):
        if Path(f"/run/netns/{ns}").exists():
            _kill_netns_leftovers(ns)
            run(["ip", "netns", "del", ns], check=False)
            done.append(f"removed netns {ns}")
        state.remove("netns", ns)
    for line in done:
        log(line)
    return done


def _kill_netns_leftovers(ns: str) -> None:
    """Processes still inside one of the lab's own namespaces belong to the lab (a host's tree): end them."""
    pids = run(["ip", "netns", "pids", ns], check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)


def leftover_netns() -> list[str]:
    """Namespaces named with the lab's prefix (created by an earlier run whose record was lost)."""
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(f"{config.NAME_PREFIX}-")]


def leftover_links() -> list[str]:
    out = run(["ip", "-o", "link", "show"], check=False).stdout
    names = []
    for line in out.splitlines():
        parts = line.split(":")
        if len(parts) > 1:
            name = parts[1].strip().split("@")[0]
            if name.startswith(config.NAME_PREFIX):
                names.append(name)
    return names
