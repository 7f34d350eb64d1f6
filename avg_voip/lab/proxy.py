"""apt-cacher-ng on the host side of the lab links: the lab hosts' only way to packages.

Its Debian backends are the mirror URLs of this machine's own apt sources (the package's built-in default
mirror is not reachable from every network). The cache lives in the lab cache directory, so a second run
downloads nothing it already has.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

from avg_voip.lab import config
from avg_voip.lab.state import LabState, stop_process
from avg_voip.lab.system import LabError, process_start_time

DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"


def machine_mirrors(apt_dir: Path = Path("/etc/apt")) -> tuple[str, str]:
    """(archive URL, security URL) from this machine's apt sources (one-line and deb822 formats)."""
    archive = security = None
    files = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*"))]
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        for uri, suites in _source_entries(text, deb822=path.suffix == ".sources"):
            if not uri.startswith("http://") or not any(s.startswith("bookworm") for s in suites):
                continue
            if any(s.endswith("-security") for s in suites):
                security = security or uri.rstrip("/")
            elif any(s == "bookworm" for s in suites):
                archive = archive or uri.rstrip("/")
    return archive or DEFAULT_MIRROR, security or DEFAULT_SECURITY_MIRROR


def _source_entries(text: str, deb822: bool) -> list[tuple[str, list[str]]]:
    entries: list[tuple[str, list[str]]] = []
    if deb822:
        for stanza in re.split(r"\n\s*\n", text):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
            if "deb" in fields.get("types", "").split():
                entries += [(uri, fields.get("suites", "").split()) for uri in fields.get("uris", "").split()]
        return entries
    for line in text.splitlines():
        parts = re.sub(r"\[[^\]]*\]", "", line).split()
        if len(parts) >= 3 and parts[0] == "deb":
            entries.append((parts[1], [parts[2]]))
    return entries


def write_config(conf_dir: Path, log_dir: Path, cache_dir: Path, bind: list[str], port: int) -> None:
    archive, security = machine_mirrors()
    conf_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "backends_debian").write_text(archive + "/\n")
    (conf_dir / "backends_debian_security").write_text(security + "/\n")
    (conf_dir / "acng.conf").write_text(
        "\n".join(
            [
                "# apt-cacher-ng of the AVG VoIP lab; written by `avg-voip lab up`.",
                f"CacheDir: {cache_dir}",
                f"LogDir: {log_dir}",
                "SupportDir: /usr/lib/apt-cacher-ng",
                f"Port: {port}",
                f"BindAddress: {' '.join(bind)}",
                f"SocketPath: {conf_dir / 'acng.socket'}",
                f"PidFile: {conf_dir / 'acng.pid'}",
                "ForeGround: 1",
                "Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian",
                "Remap-secdeb: security.debian.org security.debian.org/debian-security "
                "deb.debian.org/debian-security /debian-security ; file:backends_debian_security",
                "ExThreshold: 4",
                "FollowIndexFileRemoval: 1",
                "",
            ]
        )
    )


def start(state: LabState, paths: config.LabPaths, bind: list[str], port: int = config.PROXY_PORT) -> None:
    """Start the lab's apt-cacher-ng (or restart it when it must listen on other addresses)."""
    entry = state.process("proxy")
    if entry is not None:
        if sorted(entry.get("bind", [])) == sorted(bind) and process_start_time(entry["pid"]) is not None:
            return
        stop_process(entry)
        state.remove("processes", entry)
    conf_dir = paths.proxy_dir / "conf"
    log_dir = paths.proxy_dir / "log"
    write_config(conf_dir, log_dir, config.CACHE_DIR / "apt-cacher-ng", bind, port)
    paths.logs.mkdir(parents=True, exist_ok=True)
    cmd = ["apt-cacher-ng", "-c", str(conf_dir)]
    with open(paths.logs / "apt-cacher-ng.log", "ab") as out:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    state.add(
        "processes",
        {
            "role": "proxy",
            "pid": proc.pid,
            "start_time": process_start_time(proc.pid),
            "cmd": cmd,
            "bind": bind,
        },
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"apt-cacher-ng exited {proc.returncode}; see {paths.logs / 'apt-cacher-ng.log'}")
        if _listening(bind[0], port):
            return
        time.sleep(0.2)
    raise LabError(f"apt-cacher-ng does not listen on {bind[0]}:{port} after 15 s")


def _listening(addr: str, port: int) -> bool:
    try:
        with socket.create_connection((addr, port), timeout=1):
            return True
    except OSError:
        return False


def url(addr: str, port: int = config.PROXY_PORT) -> str:
    return f"http://{addr}:{port}"
