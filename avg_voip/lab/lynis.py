"""Lynis on a lab host: its hardening index is a figure we track, not a pass/fail.

Lynis is copied from this machine's package to a temporary directory on the host, run there as root and
removed again, so the audit adds no package to the host it judges.
"""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from avg_voip.lab.config import LabHost, LabPaths
from avg_voip.lab.hosts import ssh_cmd

REMOTE_DIR = "/tmp/avg-voip-lynis"
SOURCES = {
    "lynis": Path("/usr/sbin/lynis"),
    "include": Path("/usr/share/lynis/include"),
    "plugins": Path("/etc/lynis/plugins"),
    "db": Path("/usr/share/lynis/db"),
    "default.prf": Path("/etc/lynis/default.prf"),
}


def bundle() -> bytes | None:
    if not all(p.exists() for p in SOURCES.values()):
        return None
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, path in SOURCES.items():
            tar.add(path, arcname=name, filter=_root_owned)
    return buf.getvalue()


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Lynis refuses to run files not owned by root or writable by others.
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode &= 0o755
    return info


def run(paths: LabPaths, host: LabHost, timeout_s: float = 600) -> dict[str, Any]:
    data = bundle()
    if data is None:
        return {"error": "lynis not installed on this machine (apt package lynis)"}
    unpack = f"sudo rm -rf {REMOTE_DIR} && sudo mkdir -m 0700 {REMOTE_DIR} && sudo tar -xzf - -C {REMOTE_DIR}"
    proc = subprocess.run(
        ssh_cmd(paths, host, unpack), input=data, capture_output=True, timeout=60, check=False
    )
    if proc.returncode != 0:
        return {
            "error": f"could not copy lynis to {host.name}: {proc.stderr.decode(errors='replace')[-200:]}"
        }
    audit = (
        f"sudo sh -c 'cd {REMOTE_DIR} && ./lynis audit system --quick --no-colors --no-log"
        f" --report-file {REMOTE_DIR}/report.dat > /dev/null 2>&1; cat {REMOTE_DIR}/report.dat;"
        f" rm -rf {REMOTE_DIR}'"
    )
    try:
        out = subprocess.run(
            ssh_cmd(paths, host, audit), capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"lynis did not finish within {timeout_s:.0f} s"}
    report = out.stdout
    paths.logs.mkdir(parents=True, exist_ok=True)
    (paths.logs / f"lynis-{host.name}.dat").write_text(report)
    m = re.search(r"^hardening_index=(\d+)", report, re.M)
    if not m:
        return {"error": f"lynis wrote no hardening index (exit {out.returncode})"}
    return {
        "hardening_index": int(m.group(1)),
        "warnings": re.findall(r"^warning\[\]=([^|\n]+)", report, re.M),
        "suggestions": len(re.findall(r"^suggestion\[\]=", report, re.M)),
        "tests_performed": int((re.search(r"^lynis_tests_done=(\d+)", report, re.M) or [0, 0])[1]),
        "report": str(paths.logs / f"lynis-{host.name}.dat"),
    }
