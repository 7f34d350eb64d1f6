"""Render the Ansible roles' templates for the example stacks, on the controller only.

Host variables come from the stack's offline render (reports/<stack>/ansible/hostvars.yml) when it exists,
otherwise from the fixture of the same name in tests/ansible/fixtures/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "ansible"
HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
STACKS = ("healthcare-hcloud", "mortgage-aws")
BIN = Path(sys.executable).parent


def ansible_tool(name: str) -> str:
    """Path of an Ansible command of this virtualenv (ansible-playbook, ansible-lint)."""
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} not installed in {BIN}: run `make setup`")
    return str(path)


def stack_hostvars(stack: str) -> dict[str, Any]:
    rendered = REPO / "reports" / stack / "ansible" / "hostvars.yml"
    source = rendered if rendered.exists() else FIXTURES / f"{stack}.yml"
    return yaml.safe_load(source.read_text())


def run_ansible(args: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def render(hostvars: dict[str, Any], out: Path, only: list[str] | None = None, **overrides: Any) -> Path:
    """Render the role templates (all, or the file names in `only`) with `hostvars` (+ overrides) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    varsfile = out.parent / f"{out.name}.vars.json"
    extra = {"render_dir": str(out)} | ({"render_only": only} if only else {})
    varsfile.write_text(json.dumps({**hostvars, **overrides, **extra}))
    proc = run_ansible(
        [
            ansible_tool("ansible-playbook"),
            "-i",
            "localhost,",
            str(HERE / "render.yml"),
            "-e",
            f"@{varsfile}",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
        ]
    )
    assert proc.returncode == 0, (
        f"rendering the templates failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    )
    return out


def tool(name: str) -> str:
    """Absolute path of a system tool, or skip: CI installs them (.ci/run), a workstation may not have them."""
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/sbin/{name}"):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip(f"{name} is not installed (Debian package list: tests/ansible/README.md)")
    raise AssertionError  # unreachable, for the type checker
