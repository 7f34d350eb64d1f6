"""Lab hosts: a copy of the base rootfs per host, given its identity, booted with systemd-nspawn."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from avg_voip.lab import cgroups, config
from avg_voip.lab.config import LabHost, LabPaths
from avg_voip.lab.state import LabState, stop_process
from avg_voip.lab.system import LabError, is_same_process, process_start_time, run

SUDOERS_FILE = "etc/sudoers.d/90-avg-voip-lab"


def ensure_lab_key(paths: LabPaths) -> Path:
    paths.ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not paths.ssh_key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "avg-voip-lab", "-f", paths.ssh_key])
    return paths.ssh_key


def write_ssh_config(paths: LabPaths, hosts: list[LabHost]) -> None:
    lines = []
    for host in hosts:
        lines += [
            f"Host {host.address} {host.name}",
            f"  HostName {host.address}",
            f"  User {config.LAB_ADMIN_USER}",
            f"  IdentityFile {paths.ssh_key}",
            "  IdentitiesOnly yes",
            f"  UserKnownHostsFile {paths.known_hosts}",
            "  StrictHostKeyChecking yes",
            "  BatchMode yes",
            "  ConnectTimeout 5",
            "  LogLevel ERROR",
            "",
        ]
    paths.ssh_config.write_text("\n".join(lines))


def mount_root(state: LabState, base: Path, host: LabHost, paths: LabPaths) -> Path:
    """The host's root: an overlay whose lower layer is the shared base, its upper layer the host's own."""
    hdir = paths.hosts / host.name
    root = paths.host_root(host)
    if os.path.ismount(root):
        raise LabError(f"{root} is still mounted: run `avg-voip lab down` first")
    shutil.rmtree(hdir, ignore_errors=True)
    for sub in ("upper", "work", "root"):
        (hdir / sub).mkdir(parents=True)
    state.add("mounts", str(root))
    opts = f"lowerdir={base},upperdir={hdir / 'upper'},workdir={hdir / 'work'}"
    run(["mount", "-t", "overlay", "overlay", "-o", opts, root])
    return root


def prepare_root(
    state: LabState, base: Path, host: LabHost, paths: LabPaths, admin_group: str, proxy_url: str
) -> list[str]:
    """Make the host's root from the base and give it its identity; returns its known_hosts lines."""
    root = mount_root(state, base, host, paths)
    (root / "etc/hostname").write_text(host.name + "\n")
    (root / "etc/hosts").write_text(f"127.0.0.1 localhost\n{host.address} {host.name}\n")
    (root / "etc/apt/apt.conf.d/01avg-voip-lab-proxy").write_text(f'Acquire::http::Proxy "{proxy_url}";\n')
    # Host keys of its own, like a freshly created cloud server; collected for the lab's known_hosts.
    run(["ssh-keygen", "-A", "-f", root])
    known = []
    for pub in sorted((root / "etc/ssh").glob("ssh_host_*_key.pub")):
        keytype, key = pub.read_text().split()[:2]
        known.append(f"{host.address} {keytype} {key}")
    # The admin account a cloud image would create from its user data: key only, in the admin group.
    user = config.LAB_ADMIN_USER
    run(["chroot", root, "groupadd", "-f", admin_group])
    run(["chroot", root, "useradd", "-m", "-s", "/bin/bash", "-G", f"sudo,{admin_group}", user])
    home = root / "home" / user
    (home / ".ssh").mkdir(mode=0o700, exist_ok=True)
    (home / ".ssh/authorized_keys").write_text(paths.ssh_key.with_suffix(".pub").read_text())
    uid_gid = (
        run(["chroot", root, "id", "-u", user]).stdout.strip(),
        run(["chroot", root, "id", "-g", user]).stdout.strip(),
    )
    run(["chown", "-R", f"{uid_gid[0]}:{uid_gid[1]}", home / ".ssh"])
    (home / ".ssh/authorized_keys").chmod(0o600)
    sudoers = root / SUDOERS_FILE
    sudoers.write_text(f"{user} ALL=(ALL) NOPASSWD:ALL\n")
    sudoers.chmod(0o440)
    return known


def boot(
    state: LabState, host: LabHost, paths: LabPaths, append_log: bool = False
) -> subprocess.Popen[bytes]:
    """Boot one host with systemd as PID 1 in its own network namespace."""
    cmd = [
        "systemd-nspawn",
        "-q",
        f"--directory={paths.host_root(host)}",
        "--boot",
        "--register=no",
        "--keep-unit",
        f"--machine={host.name}",
        f"--network-namespace-path=/run/netns/{host.netns}",
        # The playbook owns time zone and resolver settings: nspawn must not overwrite them at each boot.
        "--timezone=off",
        "--resolv-conf=off",
        "--link-journal=no",
        # nftables needs CAP_NET_ADMIN; it only acts on the host's own network namespace.
        "--capability=CAP_NET_ADMIN",
    ]
    paths.logs.mkdir(parents=True, exist_ok=True)
    # Each host in a cgroup of its own: two hosts sharing one would manage each other's units.
    groups = cgroups.host_cgroups(host.name)
    for group in groups:
        state.add("cgroups", str(group))
    cgroups.create(groups)
    with open(paths.logs / f"console-{host.name}.log", "ab" if append_log else "wb") as out:
        proc = subprocess.Popen(
            cgroups.exec_in(groups, cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    state.add_process(f"host:{host.name}", proc.pid, process_start_time(proc.pid), cmd)
    return proc


def ssh_cmd(paths: LabPaths, host: LabHost, command: str) -> list[str]:
    return ["ssh", "-F", str(paths.ssh_config), host.address, command]


def ssh(paths: LabPaths, host: LabHost, command: str, check: bool = True, timeout: float = 120):
    return run(ssh_cmd(paths, host, command), check=check, timeout=timeout)


def wait_for_ssh(state: LabState, host: LabHost, paths: LabPaths, timeout_s: float = 120) -> float:
    """Seconds until `ssh host true` succeeds; fails early when the host's nspawn process ends."""
    start = time.monotonic()
    entry = state.process(f"host:{host.name}")
    while time.monotonic() - start < timeout_s:
        if entry is None or not is_same_process(entry["pid"], entry.get("start_time")):
            console = paths.logs / f"console-{host.name}.log"
            raise LabError(f"{host.name} stopped while booting; see {console}")
        if ssh(paths, host, "true", check=False, timeout=15).returncode == 0:
            return time.monotonic() - start
        time.sleep(0.5)
    raise LabError(f"{host.name} ({host.address}): no SSH after {timeout_s:.0f} s")


def stop(state: LabState, host: LabHost) -> None:
    entry = state.process(f"host:{host.name}")
    if entry is not None:
        stop_process(entry, timeout_s=45)
        state.remove("processes", entry)


def reboot(state: LabState, host: LabHost, paths: LabPaths, timeout_s: float = 120) -> dict[str, object]:
    """Reboot from inside (systemctl reboot), boot again the way a hypervisor would, wait for SSH.

    systemd-nspawn ends when the container asks for a reboot (exit status 133); restarting it is the job of
    whoever runs nspawn (the systemd-nspawn@ unit elsewhere, the lab here).
    """
    boot_id = ssh(paths, host, "cat /proc/sys/kernel/random/boot_id").stdout.strip()
    entry = state.process(f"host:{host.name}")
    if entry is None:
        raise LabError(f"{host.name} is not running")
    start = time.monotonic()
    ssh(paths, host, "sudo systemctl reboot", check=False, timeout=30)
    deadline = time.monotonic() + timeout_s
    while is_same_process(entry["pid"], entry.get("start_time")):
        if time.monotonic() > deadline:
            raise LabError(f"{host.name}: still running {timeout_s:.0f} s after `systemctl reboot`")
        _reap(entry["pid"])
        time.sleep(0.3)
    state.remove("processes", entry)
    boot(state, host, paths, append_log=True)
    wait_for_ssh(state, host, paths, timeout_s)
    new_boot_id = ssh(paths, host, "cat /proc/sys/kernel/random/boot_id").stdout.strip()
    return {"seconds": round(time.monotonic() - start, 1), "boot_id_changed": new_boot_id != boot_id}


def _reap(pid: int) -> None:
    import contextlib
    import os

    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def quote(cmd: str) -> str:
    return shlex.quote(cmd)
