"""Converge the lab hosts with ansible/site.yml, twice: the second run must change nothing."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avg_voip.lab import config
from avg_voip.lab.config import LabPaths

RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)(?:\s+skipped=(?P<skipped>\d+))?(?:\s+rescued=(?P<rescued>\d+))?"
    r"(?:\s+ignored=(?P<ignored>\d+))?"
)


@dataclass
class ConvergeRun:
    number: int
    seconds: float
    returncode: int
    recap: dict[str, dict[str, int]]
    log: Path
    changed_tasks: list[str] = field(default_factory=list)
    failed_tasks: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(h["changed"] for h in self.recap.values())

    @property
    def ok(self) -> bool:
        return (
            self.returncode == 0
            and bool(self.recap)
            and all(h["failed"] == 0 and h["unreachable"] == 0 for h in self.recap.values())
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.number,
            "seconds": round(self.seconds, 1),
            "returncode": self.returncode,
            "changed": self.changed,
            "recap": self.recap,
            "log": str(self.log),
            "changed_tasks": self.changed_tasks,
            "failed_tasks": self.failed_tasks,
        }


def playbook_path() -> Path:
    return config.REPO_ROOT / "ansible" / "site.yml"


def ansible_env(paths: LabPaths) -> dict[str, str]:
    env = dict(os.environ)
    venv_bin = config.REPO_ROOT / ".venv" / "bin"
    env["PATH"] = f"{venv_bin}:{env.get('PATH', '')}"
    env["ANSIBLE_CONFIG"] = str(config.REPO_ROOT / "ansible" / "ansible.cfg")
    env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(paths.ssh_dir / "cp")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_HOST_KEY_CHECKING"] = "True"
    env["ANSIBLE_FORKS"] = "10"
    return env


def run_playbook(inventory: Path, paths: LabPaths, number: int, timeout_s: float = 1800) -> ConvergeRun:
    paths.logs.mkdir(parents=True, exist_ok=True)
    (paths.ssh_dir / "cp").mkdir(parents=True, exist_ok=True)
    log = paths.logs / f"converge-{number}.log"
    ansible = config.REPO_ROOT / ".venv" / "bin" / "ansible-playbook"
    exe = str(ansible if ansible.exists() else "ansible-playbook")
    cmd = [exe, "-i", str(inventory), str(playbook_path())]
    # Extra ansible-playbook arguments for a lab run, e.g. AVG_VOIP_LAB_ANSIBLE_ARGS="--tags ssh_hardening -v".
    cmd += shlex.split(os.environ.get("AVG_VOIP_LAB_ANSIBLE_ARGS", ""))
    start = time.monotonic()
    with open(log, "w") as out:
        try:
            proc = subprocess.run(
                cmd,
                cwd=config.REPO_ROOT / "ansible",
                env=ansible_env(paths),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout_s,
                check=False,
            )
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = 124
    seconds = time.monotonic() - start
    text = log.read_text(errors="replace")
    return ConvergeRun(
        number=number,
        seconds=seconds,
        returncode=rc,
        recap=parse_recap(text),
        log=log,
        changed_tasks=tasks_with(text, "changed"),
        failed_tasks=tasks_with(text, "fatal") + tasks_with(text, "failed"),
    )


def parse_recap(text: str) -> dict[str, dict[str, int]]:
    recap: dict[str, dict[str, int]] = {}
    in_recap = False
    for line in text.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        m = RECAP.match(line) if in_recap else None
        if m:
            recap[m["host"]] = {k: int(v or 0) for k, v in m.groupdict().items() if k != "host"}
    return recap


def tasks_with(text: str, status: str) -> list[str]:
    """Names of the tasks that reported `status` (changed / fatal / failed) on some host, with the host.

    For failures the task's message is appended (the YAML result format spreads it over indented lines).
    """
    out: list[str] = []
    task = ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line[line.index("[") + 1 : line.rindex("]")] if "]" in line else line
        elif line.startswith(f"{status}: ["):
            host = line[len(status) + 3 :].split("]")[0]
            detail = ""
            if status in ("fatal", "failed"):
                detail = _message(line, lines[i + 1 : i + 40])
            out.append(f"{host}: {task}{detail}")
    return out


def _message(line: str, following: list[str]) -> str:
    m = re.search(r'"msg": "([^"]{0,300})', line)
    if m:
        return f": {m.group(1)}"
    msg: list[str] = []
    for nxt in following:
        if not nxt.startswith(" "):
            break
        stripped = nxt.strip()
        if stripped.startswith("msg:"):
            msg.append(stripped[4:].strip())
        elif msg and not re.match(r"^[a-z_]+:( |$)", stripped):
            msg.append(stripped)
        elif msg:
            break
    text = " ".join(msg).strip("'\" ")
    return f": {text[:400]}" if text else ""
