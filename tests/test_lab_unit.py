"""The lab's pure parts, without root: recap parsing, mirrors, inventory overrides, nft openings, cleanup ids."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from avg_voip.lab import cgroups, config, converge, inventory, proxy, system
from avg_voip.lab.cli import register
from policies.host.checks.firewall import _allowed, accepted_openings, drop_chains
from policies.host.checks.sip_tls import weak_suite

RECAP_LOG = """
TASK [ssh_hardening : Write sshd_config] ***
changed: [sip-1]
fatal: [sip-2]: FAILED! =>
    changed: false
    msg: 'Destination directory /etc/modprobe.d
        does not exist'

PLAY RECAP *********************************************************************
sip-1                      : ok=20   changed=3    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0
sip-2                      : ok=19   changed=0    unreachable=0    failed=1    skipped=1    rescued=0    ignored=0
"""


def test_recap_is_parsed_per_host() -> None:
    recap = converge.parse_recap(RECAP_LOG)
    assert recap["sip-1"]["changed"] == 3, recap
    assert recap["sip-2"]["failed"] == 1, recap


def test_failed_task_carries_its_message() -> None:
    failed = converge.tasks_with(RECAP_LOG, "fatal")
    assert failed == [
        "sip-2: ssh_hardening : Write sshd_config: Destination directory /etc/modprobe.d does not exist"
    ]
    assert converge.tasks_with(RECAP_LOG, "changed") == ["sip-1: ssh_hardening : Write sshd_config"]


def test_mirrors_come_from_the_machine_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://mirror.example/debian bookworm main\n")
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n"
    )
    assert proxy.machine_mirrors(tmp_path) == (
        "http://mirror.example/debian",
        "http://mirror.example/debian-security",
    )


def test_mirrors_default_when_nothing_matches(tmp_path: Path) -> None:
    assert proxy.machine_mirrors(tmp_path) == (proxy.DEFAULT_MIRROR, proxy.DEFAULT_SECURITY_MIRROR)


def test_lab_addresses_are_in_the_lab_range() -> None:
    hosts = config.lab_hosts(2)
    assert [h.address for h in hosts] == ["10.231.0.2", "10.231.0.6"]
    assert [h.gateway for h in hosts] == ["10.231.0.1", "10.231.0.5"]
    assert all(len(h.link_outer) <= 15 and len(h.link_inner) <= 15 for h in hosts), "interface names too long"


def _render(tmp_path: Path) -> Path:
    out = tmp_path / "ansible"
    out.mkdir()
    hosts = {
        "sip-1": {
            "ansible_host": "203.0.113.12",
            "avg_voip_host_index": 1,
            "avg_voip_recordings_device": "/dev/sdb",
        },
        "sip-2": {
            "ansible_host": "203.0.113.13",
            "avg_voip_host_index": 2,
            "avg_voip_recordings_device": "/dev/sdc",
        },
    }
    (out / "inventory.yml").write_text(
        yaml.safe_dump({"all": {"children": {"sip_servers": {"hosts": hosts}}}})
    )
    hostvars = {
        "avg_voip_admin_cidrs": ["198.51.100.0/28"],
        "avg_voip_sip_peer_cidrs": ["203.0.113.0/27"],
        "avg_voip_recordings_device": None,
        "avg_voip_recording_categories": [{"id": "qa", "path": "/srv/recordings/qa", "retention_days": 28}],
        "avg_voip_log_collector": "logs.example:6514",
    }
    (out / "hostvars.yml").write_text(yaml.safe_dump(hostvars))
    return out


def test_inventory_keeps_profile_values_and_lists_every_override(tmp_path: Path) -> None:
    paths = config.LabPaths(tmp_path / "lab")
    inv = inventory.build("healthcare-hcloud", _render(tmp_path), paths)
    written = inventory.write(inv, paths)
    doc = yaml.safe_load(written.read_text())["all"]["children"]["sip_servers"]
    assert doc["vars"]["avg_voip_recording_categories"][0]["retention_days"] == 28, "profile value changed"
    assert doc["vars"]["avg_voip_admin_cidrs"] == ["198.51.100.0/28", str(config.LAB_NETWORK)]
    assert doc["vars"]["avg_voip_log_collector"] is None
    assert doc["hosts"]["sip-2"]["ansible_host"] == "10.231.0.6"
    assert doc["hosts"]["sip-2"]["avg_voip_recordings_device"] is None, "per-host device not overridden"
    header = written.read_text().split("all:")[0]
    for var in (
        "avg_voip_recordings_device",
        "avg_voip_admin_cidrs",
        "avg_voip_sip_peer_cidrs",
        "ansible_host",
    ):
        assert var in header, f"override of {var} not shown at the top of the inventory"


NFT = {
    "nftables": [
        {"chain": {"family": "inet", "table": "f", "name": "input", "hook": "input", "policy": "drop"}},
        {"rule": {"family": "inet", "table": "f", "chain": "input", "expr": [
            {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}},
            {"accept": None}]}},
        {"rule": {"family": "inet", "table": "f", "chain": "input", "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "x"}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 5061}},
            {"accept": None}]}},
        {"rule": {"family": "inet", "table": "f", "chain": "input", "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}},
                       "right": {"range": [30000, 34999]}}},
            {"accept": None}]}},
    ]
}  # fmt: skip


def test_firewall_openings_allowed() -> None:
    chain = drop_chains(NFT["nftables"])[0]
    openings = accepted_openings(NFT["nftables"], chain)
    assert all(_allowed(o, (30000, 34999)) for o in openings), openings


def test_firewall_opening_on_5060_is_not_allowed() -> None:
    items = json.loads(json.dumps(NFT["nftables"]))
    items[2]["rule"]["expr"][1]["match"]["right"] = 5060
    chain = drop_chains(items)[0]
    assert not all(_allowed(o, (30000, 34999)) for o in accepted_openings(items, chain))


def test_ssh_without_source_restriction_is_not_allowed() -> None:
    opening = {"proto": "tcp", "ports": [(22, 22)], "saddr": False, "other": []}
    assert not _allowed(opening, (30000, 34999))


@pytest.mark.parametrize(
    ("suite", "weak"),
    [
        ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", False),
        ("TLS_AES_128_GCM_SHA256", False),
        ("TLS_RSA_WITH_AES_128_GCM_SHA256", True),
        ("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", True),
        ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", True),
    ],
)
def test_weak_suites(suite: str, weak: bool) -> None:
    assert weak_suite(suite) is weak


def test_a_pid_is_identified_with_its_start_time() -> None:
    start = system.process_start_time(os.getpid())
    assert start is not None
    assert system.is_same_process(os.getpid(), start)
    assert not system.is_same_process(os.getpid(), start + 1), "a recycled pid must not match"


def test_cli_registers_the_lab_commands() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    for cmd in ("up", "converge", "verify", "reboot", "down", "demo", "status"):
        args = parser.parse_args(["lab", cmd])
        assert args.lab_command == cmd


def test_without_root_the_lab_says_so_and_exits_2(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from avg_voip.lab import cli

    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    assert cli.main(parser.parse_args(["lab", "up"])) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "root" in err[0], err


HYBRID_MOUNTINFO = """\
30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
"""
HYBRID_CGROUP = "9:name=systemd:/ci\n4:memory:/elsewhere\n0::/ci\n"


def test_hosts_get_cgroups_of_their_own_in_the_tracking_hierarchies() -> None:
    found = cgroups.hierarchies(HYBRID_MOUNTINFO, HYBRID_CGROUP)
    assert found == [Path("/sys/fs/cgroup/systemd/ci"), Path("/sys/fs/cgroup/unified/ci")]
    unified_only = cgroups.hierarchies("40 1 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/\n")
    assert unified_only == [Path("/sys/fs/cgroup")]


def test_a_host_command_runs_in_its_groups_under_its_own_pid(tmp_path: Path) -> None:
    groups = [tmp_path / "a", tmp_path / "b"]
    cgroups.create(groups)
    proc = subprocess.run(cgroups.exec_in(groups, ["sh", "-c", "echo $$"]), capture_output=True, text=True)
    pid = proc.stdout.strip()
    assert pid and all((g / "cgroup.procs").read_text().strip() == pid for g in groups)


def test_a_group_that_cannot_be_entered_stops_the_boot(tmp_path: Path) -> None:
    proc = subprocess.run(cgroups.exec_in([tmp_path / "missing"], ["true"]), capture_output=True)
    assert proc.returncode != 0


def test_lab_log_prints_messages_as_text() -> None:
    import io

    from rich.console import Console

    from avg_voip.lab.cli import lab_log

    buffer = io.StringIO()
    log = lab_log(Console(file=buffer, width=1000, color_system=None))
    log("FAIL AVG-HOST-SSH-001 host:[sip-1]: admitted from [secret] then [/bold]")
    assert (
        buffer.getvalue() == "lab FAIL AVG-HOST-SSH-001 host:[sip-1]: admitted from [secret] then [/bold]\n"
    )
