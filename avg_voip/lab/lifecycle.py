"""`lab up` and `lab down`: network, proxy, rootfs, hosts; and removal of all of it on every exit path."""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from avg_voip.lab import cgroups, config, hosts, network, proxy, rootfs
from avg_voip.lab.config import LabHost, LabPaths
from avg_voip.lab.inventory import LabInventory
from avg_voip.lab.state import LabState, lab_lock, leftover_links, leftover_netns, teardown
from avg_voip.lab.system import LabError, LabUnavailable, run, unavailable_reason

Log = Callable[[str], None]


def require_lab() -> None:
    reason = unavailable_reason()
    if reason:
        raise LabUnavailable(reason)


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP end the run like Ctrl-C does, so the cleanup in `finally` blocks runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def up(inv: LabInventory, paths: LabPaths, log: Log = print, rebuild_rootfs: bool = False) -> dict[str, Any]:
    """Start the lab; on any failure or interruption remove what was started, then re-raise."""
    require_lab()
    figures: dict[str, Any] = {}
    state = LabState()
    if not state.empty:
        log("leftovers of an earlier lab run found: removing them first")
        down(paths, log)
        state = LabState()
    try:
        with signals_raise():
            _up(state, inv, paths, log, figures, rebuild_rootfs)
    except BaseException:
        log("lab up failed: removing what it started")
        teardown(state, log)
        raise
    return figures


def _up(
    state: LabState, inv: LabInventory, paths: LabPaths, log: Log, figures: dict[str, Any], rebuild: bool
) -> None:
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(parents=True, exist_ok=True)
    hosts.ensure_lab_key(paths)
    for host in inv.hosts:
        network.create_link(state, host)
    log(f"network: {', '.join(f'{h.name} {h.address} (netns {h.netns})' for h in inv.hosts)}")
    proxy.start(state, paths, ["127.0.0.1", *[h.gateway for h in inv.hosts]])
    log(f"apt proxy: apt-cacher-ng on port {config.PROXY_PORT}, backends {proxy.machine_mirrors()}")
    base = rootfs.ensure(f"{proxy.url('127.0.0.1')}/debian", paths.logs, force=rebuild)
    figures["rootfs_seconds"] = round(base.seconds, 1)
    figures["rootfs_built"] = base.built
    log(f"rootfs: {'built' if base.built else 'cached'} {base.path} in {base.seconds:.1f} s")
    admin_group = str(inv.hostvars.get("avg_voip_admin_group") or "sshusers")
    known: list[str] = []
    t0 = time.monotonic()
    for host in inv.hosts:
        known += hosts.prepare_root(state, base.path, host, paths, admin_group, proxy.url(host.gateway))
    paths.known_hosts.write_text("\n".join(known) + "\n")
    hosts.write_ssh_config(paths, inv.hosts)
    figures["host_root_seconds"] = round(time.monotonic() - t0, 1)
    t0 = time.monotonic()
    for host in inv.hosts:
        hosts.boot(state, host, paths)
    boot: dict[str, float] = {}
    for host in inv.hosts:
        hosts.wait_for_ssh(state, host, paths)
        boot[host.name] = round(time.monotonic() - t0, 1)
    figures["boot_to_ssh_seconds"] = boot
    log(f"hosts up, SSH ready: {', '.join(f'{n} {s} s' for n, s in boot.items())}")
    save_lab(paths, inv, figures)


def save_lab(paths: LabPaths, inv: LabInventory, figures: dict[str, Any]) -> None:
    paths.lab_json.write_text(
        json.dumps(
            {
                "stack": inv.stack,
                "inventory": str(inv.path) if inv.path else None,
                "hosts": [{"index": h.index, "name": h.name} for h in inv.hosts],
                "overrides": inv.overrides,
                "figures": figures,
            },
            indent=2,
            default=str,
        )
    )


def load_lab(paths: LabPaths) -> dict[str, Any]:
    try:
        data = json.loads(paths.lab_json.read_text())
    except (OSError, ValueError) as exc:
        raise LabError(f"no running lab described in {paths.lab_json}: run `avg-voip lab up` first") from exc
    data["lab_hosts"] = [LabHost(index=h["index"], name=h["name"]) for h in data["hosts"]]
    return data


def down(paths: LabPaths | None = None, log: Log = print) -> list[str]:
    """Remove everything the lab started (recorded in the run state), then leftovers named as the lab's."""
    paths = paths or LabPaths.default()
    with lab_lock():
        state = LabState()
        done = teardown(state, log)
        for mount in _leftover_mounts(paths):
            if run(["umount", mount], check=False).returncode != 0:
                run(["umount", "-l", mount], check=False)
            done.append(f"unmounted leftover {mount}")
            log(done[-1])
        for link in leftover_links():
            run(["ip", "link", "del", link], check=False)
            done.append(f"removed leftover link {link}")
            log(done[-1])
        for ns in leftover_netns():
            run(["ip", "netns", "del", ns], check=False)
            done.append(f"removed leftover netns {ns}")
            log(done[-1])
        for group in cgroups.leftovers():
            cgroups.remove(group)
            done.append(f"removed leftover cgroup {group}")
            log(done[-1])
        _close_ssh_masters(paths)
    return done


def _leftover_mounts(paths: LabPaths) -> list[str]:
    """Host roots of this checkout still mounted (a run whose record was lost)."""
    prefix = str(paths.hosts.resolve()) + "/"
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return []
    points = [line.split()[1] for line in lines if len(line.split()) > 1]
    return [p for p in reversed(points) if p.startswith(prefix)]


def _close_ssh_masters(paths: LabPaths) -> None:
    """SSH connection masters the lab's tools opened (Ansible, testinfra) under .lab/ssh/cp."""
    cp_dir = paths.ssh_dir / "cp"
    if not cp_dir.is_dir():
        return
    for sock in cp_dir.iterdir():
        if sock.is_socket():
            run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "lab"], check=False, timeout=10)
            with contextlib.suppress(OSError):
                sock.unlink()


def host_roots_size(paths: LabPaths) -> int:
    total = 0
    for p in Path(paths.hosts).rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
    return total
