"""The HTML report in headless Chromium, started as on a closed network: the summary renders, no errors."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_matrix import example_verdict

from avg_voip.report_cli import write_auditor_reports

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (Debian package: chromium)"
)
# No network: nothing may be fetched, nothing phones home.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "mortgage-aws"
    write_auditor_reports(example_verdict("mortgage-aws"), out)
    return out / "report.html"


@needs_chromium
def test_summary_renders(report: Path) -> None:
    proc = chromium("--dump-dom", report.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "<h2>Summary</h2>" in dom
    cards = re.findall(r'data-status="([A-Z-]+)">\s*<div class="n">(\d+)</div>', dom)
    assert [s for s, _ in cards] == ["FAIL", "NOT-VERIFIED", "MANUAL", "PASS"], cards
    assert sum(int(n) for _, n in cards) == 15
    assert 'id="matrix"' in dom and 'id="register"' in dom


@needs_chromium
def test_page_has_no_errors(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    proc = chromium(
        "--enable-logging=stderr", "--v=0", "--window-size=1280,2000", f"--screenshot={shot}", report.as_uri()
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    blocked = [
        line for line in proc.stderr.splitlines() if "Content Security Policy" in line or "net::ERR" in line
    ]
    assert not blocked, blocked
    assert shot.stat().st_size > 20_000, "screenshot is (nearly) empty"


@needs_chromium
def test_prints_to_pdf(report: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    proc = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert pdf.read_bytes().startswith(b"%PDF")
