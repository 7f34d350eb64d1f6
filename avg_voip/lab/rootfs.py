"""Debian 12 (bookworm) root filesystem for the lab hosts, built with debootstrap through the apt proxy.

The base is cached under the lab cache directory, keyed by what goes into it; it is rebuilt when that recipe
changes or when it is older than ROOTFS_MAX_AGE_DAYS. Each host boots from its own copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from avg_voip.lab import config
from avg_voip.lab.system import LabError, run

SUITE = "bookworm"
VARIANT = "minbase"
# What a Debian 12 cloud image brings that the playbook relies on: systemd as init, sshd, Python for Ansible,
# kmod (/etc/modprobe.d), cron and logrotate.
# Everything else (nftables, kamailio, auditd, unattended-upgrades, ...) is the playbook's to install.
INCLUDE = [
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "python3-apt",
    "sudo",
    "iproute2",
    "ca-certificates",
    "procps",
    "netbase",
    "less",
    "kmod",
    "cron",
    "logrotate",
]
# Bump when the preparation below changes: the cache key follows it.
RECIPE_VERSION = "3"
STAMP = ".avg-voip-lab-rootfs.json"


@dataclass(frozen=True)
class RootfsResult:
    path: Path
    built: bool  # False: taken from the cache
    seconds: float


def recipe_key() -> str:
    recipe = json.dumps({"suite": SUITE, "variant": VARIANT, "include": INCLUDE, "v": RECIPE_VERSION})
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def cache_root() -> Path:
    return config.CACHE_DIR / "rootfs"


def cached_path() -> Path:
    return cache_root() / f"{SUITE}-{recipe_key()}"


def is_fresh(path: Path, max_age_days: int = config.ROOTFS_MAX_AGE_DAYS) -> bool:
    try:
        stamp = json.loads((path / STAMP).read_text())
    except (OSError, ValueError):
        return False
    return stamp.get("key") == recipe_key() and time.time() - stamp.get("built_at", 0) < max_age_days * 86400


def ensure(mirror_url: str, log_dir: Path, force: bool = False) -> RootfsResult:
    """Return the cached base rootfs, building it first when missing, stale or forced."""
    start = time.monotonic()
    target = cached_path()
    if not force and is_fresh(target):
        return RootfsResult(target, built=False, seconds=time.monotonic() - start)
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f"{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "debootstrap.log"
    proc = run(
        [
            "debootstrap",
            f"--variant={VARIANT}",
            f"--include={','.join(INCLUDE)}",
            SUITE,
            partial,
            mirror_url,
        ],
        check=False,
        timeout=1200,
    )
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        raise LabError(f"debootstrap exited {proc.returncode} (log: {log}): {tail}")
    _prepare(partial)
    (partial / STAMP).write_text(json.dumps({"key": recipe_key(), "built_at": time.time(), "suite": SUITE}))
    # Replace the old base (and any base of an older recipe) only once the new one is complete.
    for old in root.iterdir():
        if old != partial and old.name.startswith(f"{SUITE}-"):
            shutil.rmtree(old, ignore_errors=True)
    partial.rename(target)
    return RootfsResult(target, built=True, seconds=time.monotonic() - start)


def _prepare(root: Path) -> None:
    """Make the image generic: per-host identity (host keys, machine-id) is created when a host is made."""
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")
    dbus_id = root / "var/lib/dbus/machine-id"
    if dbus_id.is_symlink() or dbus_id.exists():
        dbus_id.unlink()
    # Sources name the public mirror; each host reaches it through the lab proxy (set per host).
    (root / "etc/apt/sources.list").write_text("")
    (root / "etc/apt/sources.list.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/apt/sources.list.d/debian.sources").write_text(
        "Types: deb\n"
        "URIs: http://deb.debian.org/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\n"
        "URIs: http://deb.debian.org/debian-security\n"
        "Suites: bookworm-security\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )
    run(["chroot", root, "apt-get", "clean"], check=False)
    shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
    (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
    # No package lists fetched yet, like an image built long ago: apt's cache_valid_time must see them as old.
    for d in (root / "var/lib/apt/lists/partial", root / "var/lib/apt/lists"):
        os.utime(d, (0, 0))
