"""Every namespace, link, mount and process the lab starts is removed when it is interrupted, and by `lab down`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from avg_voip.lab import config
from avg_voip.lab.state import LabState, leftover_links, leftover_netns
from avg_voip.lab.system import is_same_process

pytestmark = pytest.mark.lab
CLI = config.REPO_ROOT / "scripts" / "avg-voip"


def _nothing_left(before: dict) -> None:
    assert leftover_netns() == [], "network namespaces left"
    assert leftover_links() == [], "veth links left"
    for entry in before.get("processes", []):
        assert not is_same_process(entry["pid"], entry.get("start_time")), f"{entry['role']} still running"
    for mount in before.get("mounts", []):
        assert not Path(mount).is_mount(), f"{mount} still mounted"
    assert LabState().empty, "run state still lists resources"


def test_interrupted_up_removes_what_it_started() -> None:
    subprocess.run([sys.executable, str(CLI), "lab", "down"], check=False, capture_output=True)
    proc = subprocess.Popen(
        [sys.executable, str(CLI), "lab", "up"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    seen: dict = {}
    deadline = time.monotonic() + 600
    state_file = config.RUN_DIR / "state.json"
    # Interrupt once the hosts are being booted: namespaces, links, mounts and the proxy exist by then.
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            seen = json.loads(state_file.read_text())
        except (OSError, ValueError):
            seen = {}
        if any(p["role"].startswith("host:") for p in seen.get("processes", [])):
            break
        time.sleep(0.2)
    assert proc.poll() is None, (
        f"lab up ended before it could be interrupted: {proc.communicate()[0][-2000:]}"
    )
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode != 0, out
    assert "removing what it started" in out, out
    _nothing_left(seen)


def test_down_removes_a_running_lab() -> None:
    proc = subprocess.Popen(
        [sys.executable, str(CLI), "lab", "up", "--no-render"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out.decode()[-2000:]
    seen = json.loads((config.RUN_DIR / "state.json").read_text())
    assert len(seen["netns"]) == config.HOST_COUNT
    done = subprocess.run(
        [sys.executable, str(CLI), "lab", "down"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    _nothing_left(seen)
