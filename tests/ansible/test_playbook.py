"""The playbook as a whole: syntax, ansible-lint production profile, argument specs, check mode on lab hosts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from roles_render import ANSIBLE_DIR, REPO, STACKS, ansible_tool, run_ansible, stack_hostvars

ROLES = sorted(p.name for p in (ANSIBLE_DIR / "roles").iterdir() if (p / "tasks" / "main.yml").exists())


def test_site_passes_syntax_check() -> None:
    proc = run_ansible(
        [
            ansible_tool("ansible-playbook"),
            "-i",
            str(ANSIBLE_DIR / "inventory" / "example.yml"),
            str(ANSIBLE_DIR / "site.yml"),
            "--syntax-check",
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ansible_lint_production_profile() -> None:
    proc = run_ansible([ansible_tool("ansible-lint"), "--nocolor", "--offline"], cwd=ANSIBLE_DIR)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Profile 'production' was required, and it passed" in proc.stdout + proc.stderr


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_typed_in_the_argument_spec(role: str) -> None:
    defaults = yaml.safe_load((ANSIBLE_DIR / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((ANSIBLE_DIR / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    missing = sorted(set(defaults) - set(options))
    assert not missing, f"{role}: defaults without an argument spec: {missing}"
    assert all(opt.get("description") for opt in options.values()), f"{role}: undocumented option"


def test_roles_read_profile_values_never_restate_them() -> None:
    """Role defaults may not hold profile values (retention, CIDRs, recordings paths): those come from the stack."""
    cidr = re.compile(r"^[0-9a-f.:]+/[0-9]{1,3}$", re.I)

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                assert key != "retention_days", f"{where}: restates retention_days"
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)
        elif isinstance(node, str):
            assert not cidr.match(node), f"{where}: restates a CIDR ({node})"
            assert "/srv/recordings" not in node, f"{where}: restates the recordings root"

    for role in ROLES:
        walk(yaml.safe_load((ANSIBLE_DIR / "roles" / role / "defaults" / "main.yml").read_text()) or {}, role)


def validate_specs(hostvars: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """Validate the stack's variables against every role's argument spec; return {role: error} for failures."""
    play = [
        {
            "name": "Validate argument specs",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "tasks": [
                {
                    "name": f"Validate {role}",
                    "ansible.builtin.validate_argument_spec": {
                        "argument_spec": "{{ (lookup('ansible.builtin.file', '"
                        + str(ANSIBLE_DIR / "roles" / role / "meta" / "argument_specs.yml")
                        + "') | from_yaml).argument_specs.main.options }}",
                    },
                    "ignore_errors": True,
                    "register": f"spec_{role}",
                }
                for role in ROLES
                if role != "avg_voip_common"
            ]
            + [
                {
                    "name": "Report",
                    "ansible.builtin.copy": {
                        "dest": str(tmp_path / "result.json"),
                        "mode": "0644",
                        "content": "{{ {"
                        + ", ".join(
                            f"'{r}': spec_{r}.msg | default('') if spec_{r} is failed else ''"
                            for r in ROLES
                            if r != "avg_voip_common"
                        )
                        + "} | to_json }}",
                    },
                },
            ],
        }
    ]
    playbook = tmp_path / "validate.yml"
    playbook.write_text(yaml.safe_dump(play))
    varsfile = tmp_path / "vars.json"
    varsfile.write_text(json.dumps(hostvars))
    proc = run_ansible(
        [
            ansible_tool("ansible-playbook"),
            *("-i", "localhost,", str(playbook)),
            *("-e", f"@{varsfile}", "-e", f"ansible_python_interpreter={sys.executable}"),
        ]
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    return {role: err for role, err in json.loads((tmp_path / "result.json").read_text()).items() if err}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_variables_match_the_argument_specs(stack: str, tmp_path: Path) -> None:
    assert validate_specs(stack_hostvars(stack), tmp_path) == {}


@pytest.mark.parametrize(
    ("key", "value", "role", "message"),
    [
        ("avg_voip_recordings_encryption", "none", "recordings", "avg_voip_recordings_encryption"),
        ("avg_voip_rtp_port_min", "lots", "firewall", "avg_voip_rtp_port_min"),
        (
            "avg_voip_recording_categories",
            [{"id": "qa", "path": "/srv/recordings/qa"}],
            "recordings",
            "retention_days",
        ),
        ("avg_voip_admin_cidrs", {"not": "a list"}, "firewall", "avg_voip_admin_cidrs"),
        ("ssh_hardening_permit_root_login", "yes", "ssh_hardening", "ssh_hardening_permit_root_login"),
    ],
)
def test_argument_specs_refuse_wrong_values(
    key: str, value: Any, role: str, message: str, tmp_path: Path
) -> None:
    errors = validate_specs({**stack_hostvars(STACKS[0]), key: value}, tmp_path)
    assert message in errors.get(role, ""), f"{role} accepted {key}={value!r}: {errors}"


def test_check_mode_on_lab_hosts() -> None:
    """`--check` against real Debian 12 hosts: the lab (avg_voip/lab) passes its inventory in AVG_VOIP_CHECK_INVENTORY."""
    inventory = os.environ.get("AVG_VOIP_CHECK_INVENTORY")
    if not inventory:
        pytest.skip("no lab hosts: set AVG_VOIP_CHECK_INVENTORY to a lab inventory (booted by avg_voip/lab)")
    proc = run_ansible(
        [
            ansible_tool("ansible-playbook"),
            "-i",
            inventory,
            str(ANSIBLE_DIR / "site.yml"),
            "--check",
            "--diff",
        ],
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]


def record_controls(tmp_path: Path, record: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Run avg_voip_common (main, then record) on this machine, writing only the facts file in tmp_path."""
    play = [
        {
            "name": "Record controls",
            "hosts": "localhost",
            "connection": "local",
            "become": False,
            "gather_facts": False,
            "vars": {
                "avg_voip_common_facts_file": str(tmp_path / "facts.d" / "avg_voip.fact"),
                # the package lists of this machine are left alone (refreshed only when it has none)
                "avg_voip_common_apt_cache_valid_time": 10 * 365 * 86400,
            },
            "tasks": [
                {"name": "Common", "ansible.builtin.include_role": {"name": "avg_voip_common"}},
                {
                    "name": "Record",
                    "ansible.builtin.include_role": {"name": "avg_voip_common", "tasks_from": "record"},
                    "vars": {"avg_voip_common_record": record},
                },
            ],
        }
    ]
    playbook = tmp_path / "record.yml"
    playbook.write_text(yaml.safe_dump(play))
    return run_ansible(
        [
            ansible_tool("ansible-playbook"),
            *("-i", "localhost,", str(playbook)),
            *("-e", f"ansible_python_interpreter={sys.executable}"),
        ]
    )


def test_control_status_facts_file_is_idempotent_and_strict(tmp_path: Path) -> None:
    facts = tmp_path / "facts.d" / "avg_voip.fact"
    first = {"ssh.config": {"status": "PASS", "reason": "validated"}}
    second = {"os.sysctl": {"status": "NOT-VERIFIED", "reason": "read-only /proc/sys in a container"}}
    assert record_controls(tmp_path, first).returncode == 0
    proc = record_controls(tmp_path, second)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert json.loads(facts.read_text()) == {**first, **second}, "records of earlier runs must be kept"
    again = record_controls(tmp_path, second)
    assert re.search(r"localhost\s+:\s+ok=\d+\s+changed=0\s", again.stdout), (
        "re-recording must change nothing"
    )
    refused = record_controls(tmp_path, {"os.sysctl": {"status": "PASSED", "reason": "close enough"}})
    assert refused.returncode != 0, "a status other than PASS / NOT-VERIFIED must be refused"
    assert json.loads(facts.read_text())["os.sysctl"]["status"] == "NOT-VERIFIED"


@pytest.mark.checkov
def test_checkov_ansible_checks_pass() -> None:
    checkov = Path(os.environ.get("CHECKOV_BIN") or REPO / ".tools" / "checkov" / "bin" / "checkov")
    if not checkov.is_file():
        pytest.skip(f"checkov not found at {checkov}: `make checkov` creates its tool environment")
    proc = subprocess.run(
        [str(checkov), "-d", str(ANSIBLE_DIR), "--framework", "ansible", "--compact", "--output", "json"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    report = json.loads(proc.stdout)
    summary = report["summary"]
    failed = [f"{c['check_id']} {c['resource']}" for c in report["results"]["failed_checks"]]
    assert summary["passed"] > 0 and not failed, failed
