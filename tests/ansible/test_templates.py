"""The roles' configuration templates, rendered for both example stacks, checked by the real tools."""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from roles_render import render, stack_hostvars, tool

Rendered = tuple[dict[str, Any], Path]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False)


def needs_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (CAP_NET_ADMIN / privilege separation)")


# --- the real validators (the same commands the roles run in `validate:`) -------------------------------

# rendered file -> (validator command, needs root, a broken value the validator must refuse)
VALIDATORS = {
    "kamailio.cfg": (("kamailio", "-c", "-f"), False, {"avg_voip_sip_domain": 'sip.example"'}),
    "nftables.conf": (("nft", "-c", "-f"), True, {"avg_voip_admin_cidrs": ["10.0.0.0/33"]}),
}


def validate(name: str, out: Path) -> subprocess.CompletedProcess[str]:
    command, root, _ = VALIDATORS[name]
    if root:
        needs_root(command[0])
    return run(tool(command[0]), *command[1:], str(out / name))


@pytest.mark.parametrize("name", sorted(VALIDATORS))
def test_rendered_config_passes_its_validator(rendered: Rendered, name: str) -> None:
    proc = validate(name, rendered[1])
    assert proc.returncode == 0, f"{VALIDATORS[name][0][0]} rejected {name}:\n{proc.stderr[-2000:]}"


@pytest.mark.parametrize("name", sorted(VALIDATORS))
def test_validator_refuses_a_broken_value(rendered: Rendered, name: str, tmp_path: Path) -> None:
    broken = VALIDATORS[name][2]
    out = render(rendered[0], tmp_path / "bad", only=[name], **broken)
    assert validate(name, out).returncode != 0, f"{name}: the validator accepted {broken}"


# --- Kamailio -------------------------------------------------------------------------------------------


def test_kamailio_listens_on_tls_5061_only(rendered: Rendered) -> None:
    _, out = rendered
    cfg = re.sub(r"(?m)^\s*#(?!!).*$", "", (out / "kamailio.cfg").read_text())
    listens = re.findall(r"^listen=(\S+)", cfg, flags=re.M)
    assert listens and all(s.startswith("tls:") and s.endswith(":5061") for s in listens), listens
    assert "5060" not in cfg
    assert re.search(r'modparam\("tls", "tls_method", "TLSv1\.[23]\+"\)', cfg), "TLS method must be >= 1.2"


def test_kamailio_refuses_plain_rtp_offers_with_488(rendered: Rendered) -> None:
    _, out = rendered
    cfg = (out / "kamailio.cfg").read_text()
    route = cfg[cfg.index("route[SRTP_ONLY]") :]
    pattern = re.search(r'search_body\("([^"]+)"\)', route).group(1)
    assert '"488"' in route[: route.index("route[WITHINDLG]")]
    plain = "v=0\r\nm=audio 40000 RTP/AVP 0 8\r\n"
    plain_avpf = "v=0\r\nm=video 40002 RTP/AVPF 96\r\n"
    mixed = "v=0\r\nm=audio 40000 RTP/SAVP 0\r\nm=video 40002 RTP/AVP 96\r\n"
    srtp = "v=0\r\nm=audio 40000 RTP/SAVP 0 8\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n"
    dtls = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    assert re.search(pattern, plain) and re.search(pattern, plain_avpf) and re.search(pattern, mixed)
    assert not re.search(pattern, srtp) and not re.search(pattern, dtls)


# --- nftables -------------------------------------------------------------------------------------------


def test_nftables_default_drop_and_nothing_on_5060(rendered: Rendered) -> None:
    hostvars, out = rendered
    ruleset = re.sub(r"#.*", "", (out / "nftables.conf").read_text())
    assert "5060" not in ruleset
    input_chain = ruleset[ruleset.index("chain input") : ruleset.index("chain forward")]
    assert "policy drop;" in input_chain
    assert "policy drop;" in ruleset[ruleset.index("chain forward") :]
    ssh_rules = [line for line in input_chain.splitlines() if "dport 22 " in line]
    assert ssh_rules and all("saddr" in line for line in ssh_rules), "SSH must be limited to admin CIDRs"
    for cidr in hostvars["avg_voip_admin_cidrs"]:
        assert any(cidr in line for line in ssh_rules), f"admin CIDR {cidr} missing from the SSH rule"
    sip_rules = [line for line in input_chain.splitlines() if "dport 5061 " in line]
    for cidr in hostvars["avg_voip_sip_peer_cidrs"]:
        assert any(cidr in line for line in sip_rules), f"SIP peer {cidr} missing from the 5061 rule"
    rtp = f"udp dport {hostvars['avg_voip_rtp_port_min']}-{hostvars['avg_voip_rtp_port_max']} accept"
    assert rtp in input_chain


# --- sshd -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def host_keys(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    keygen = tool("ssh-keygen")
    keys = tmp_path_factory.mktemp("hostkeys")
    paths = []
    for kind in ("ed25519", "rsa"):
        path = keys / f"ssh_host_{kind}_key"
        subprocess.run([keygen, "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
        paths.append(str(path))
    return paths


def sshd_test(config: Path) -> subprocess.CompletedProcess[str]:
    sshd = tool("sshd")
    needs_root("sshd -t")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory sshd -t insists on
    return run(sshd, "-t", "-f", str(config))


def test_sshd_config_passes_sshd_test(stack: str, host_keys: list[str], tmp_path: Path) -> None:
    hostvars = stack_hostvars(stack)
    out = render(hostvars, tmp_path / "out", only=["sshd_config"], ssh_hardening_host_keys=host_keys)
    proc = sshd_test(out / "sshd_config")
    assert proc.returncode == 0, f"sshd -t rejected sshd_config:\n{proc.stderr}"
    config = (out / "sshd_config").read_text()
    assert re.search(r"^PasswordAuthentication no$", config, re.M)
    assert re.search(r"^PermitRootLogin (no|prohibit-password)$", config, re.M)
    assert re.search(r"^LogLevel VERBOSE$", config, re.M)
    allow = re.search(r"^AllowGroups (.+)$", config, re.M).group(1).split()
    assert hostvars["avg_voip_admin_group"] in allow
    assert not re.search(r"^\s*Include", config, re.M | re.I), "drop-ins could re-enable password login"


def test_sshd_test_rejects_an_unknown_cipher(stack: str, host_keys: list[str], tmp_path: Path) -> None:
    out = render(
        stack_hostvars(stack),
        tmp_path / "bad",
        ssh_hardening_host_keys=host_keys,
        ssh_hardening_ciphers=["rot13"],
    )
    assert sshd_test(out / "sshd_config").returncode != 0, "sshd -t accepted Ciphers rot13"


# --- recordings: retention, audit -----------------------------------------------------------------------


def test_retention_deletes_by_modification_time_not_access_time(stack: str, tmp_path: Path) -> None:
    """Run the rendered deletion script on a scratch tree: age is mtime; reading (atime) never extends it."""
    hostvars = stack_hostvars(stack)
    root = tmp_path / "recordings"
    categories = [
        {**c, "path": str(root / Path(c["path"]).name)} for c in hostvars["avg_voip_recording_categories"]
    ]
    out = render(
        hostvars,
        tmp_path / "out",
        only=["avg-voip-recordings-retention"],
        avg_voip_recordings_root=str(root),
        avg_voip_recording_categories=categories,
    )
    script = (out / "avg-voip-recordings-retention").read_text()
    assert "-mtime" in script and "-atime" not in script and "-amin" not in script
    now = time.time()
    day = 86400
    expected_left = {}
    for c in categories:
        d = Path(c["path"])
        d.mkdir(parents=True)
        days = c["retention_days"]
        files = {
            "expired.wav": (now - (days + 1) * day, now),  # old, but listened to just now
            "expired-by-an-hour.wav": (now - days * day - 3600, now - days * day - 3600),
            "young-but-unread.wav": (now - (days - 1) * day, now - 10 * 365 * day),  # atime ancient
            "new.wav": (now, now),
        }
        for name, (mtime, atime) in files.items():
            (d / name).write_bytes(b"RIFF")
            os.utime(d / name, (atime, mtime))
        expected_left[c["id"]] = {"young-but-unread.wav", "new.wav"}
    proc = run(tool("sh"), str(out / "avg-voip-recordings-retention"))
    assert proc.returncode == 0, proc.stderr
    for c in categories:
        assert {p.name for p in Path(c["path"]).iterdir()} == expected_left[c["id"]], c["id"]
        assert f"category={c['id']} retention_days={c['retention_days']} deleted=2" in proc.stdout
    assert ".wav" not in proc.stdout, "the log must hold counts, never recording names"


def verify_units(out: Path, units: Path) -> subprocess.CompletedProcess[str]:
    """systemd-analyze verify the rendered timer and service, ExecStart pointed at the rendered script."""
    analyze = tool("systemd-analyze")
    units.mkdir()
    script = out / "avg-voip-recordings-retention"
    script.chmod(0o755)
    service = (out / "avg-voip-recordings-retention.service").read_text()
    (units / "avg-voip-recordings-retention.service").write_text(
        re.sub(r"^ExecStart=.*$", f"ExecStart={script}", service, flags=re.M)
    )
    (units / "avg-voip-recordings-retention.timer").write_text(
        (out / "avg-voip-recordings-retention.timer").read_text()
    )
    return run(analyze, "verify", str(units / "avg-voip-recordings-retention.timer"))


def test_retention_units_pass_systemd_analyze(rendered: Rendered, tmp_path: Path) -> None:
    hostvars, out = rendered
    service = (out / "avg-voip-recordings-retention.service").read_text()
    timer = (out / "avg-voip-recordings-retention.timer").read_text()
    assert re.search(r"^OnCalendar=\S", timer, re.M) and "Persistent=true" in timer
    assert f"ReadWritePaths={hostvars['avg_voip_recordings_root']}" in service
    proc = verify_units(out, tmp_path / "units")
    assert proc.returncode == 0, f"systemd-analyze verify: {proc.stdout}{proc.stderr}"


def test_systemd_analyze_refuses_a_broken_schedule(rendered: Rendered, tmp_path: Path) -> None:
    out = render(
        rendered[0],
        tmp_path / "bad",
        only=[
            "avg-voip-recordings-retention",
            "avg-voip-recordings-retention.service",
            "avg-voip-recordings-retention.timer",
        ],
        recordings_retention_on_calendar="every full moon",
    )
    assert verify_units(out, tmp_path / "units").returncode != 0, (
        "systemd-analyze accepted a broken OnCalendar"
    )


def test_audit_rules_watch_reads_and_end_immutable(rendered: Rendered) -> None:
    hostvars, out = rendered
    root = hostvars["avg_voip_recordings_root"]
    lines = []
    for name in sorted(["60-avg-voip-recordings.rules", "99-avg-voip-finalize.rules"]):
        lines += [ln.strip() for ln in (out / name).read_text().splitlines()]
    rules = [ln for ln in lines if ln and not ln.startswith("#")]
    assert rules[-1] == "-e 2", "immutable audit rules (-e 2) must be the last rule"
    watches = [r for r in rules if f"dir={root} " in r]
    assert watches and all("perm=r" in r for r in watches), f"no read watch on {root}"


# --- rtpengine, patching, logging, sysctl ---------------------------------------------------------------


def test_rtpengine_conf_userspace_srtp_range(rendered: Rendered) -> None:
    hostvars, out = rendered
    conf = configparser.ConfigParser(strict=True)
    conf.read_string((out / "rtpengine.conf").read_text())
    section = conf["rtpengine"]
    assert section["table"] == "-1", "user-space forwarding (no kernel module) expected"
    assert int(section["port-min"]) == hostvars["avg_voip_rtp_port_min"]
    assert int(section["port-max"]) == hostvars["avg_voip_rtp_port_max"]
    assert section["listen-ng"].startswith("127.0.0.1:"), "the control socket must stay on loopback"
    assert "recording-dir" not in section, "rtpengine must not write call media to the root disk"


def test_unattended_upgrades_reboot_in_the_stack_window(rendered: Rendered) -> None:
    hostvars, out = rendered
    apt_config = tool("apt-config")
    for name in ("20auto-upgrades", "52avg-voip-unattended-upgrades"):
        proc = run(apt_config, "-c", str(out / name), "dump")
        assert proc.returncode == 0, f"apt-config rejected {name}: {proc.stderr}"
    dump = run(apt_config, "-c", str(out / "52avg-voip-unattended-upgrades"), "dump").stdout
    assert f'Unattended-Upgrade::Automatic-Reboot-Time "{hostvars["avg_voip_reboot_window"]}";' in dump
    origins = re.findall(r'^Unattended-Upgrade::Origins-Pattern:: "(.*)";$', dump, re.M)
    assert origins and all(o.endswith("label=Debian-Security") for o in origins), (
        f"not security-only: {origins}"
    )


def test_patch_state_script_prints_json(rendered: Rendered) -> None:
    _, out = rendered
    proc = run(tool("sh"), str(out / "avg-voip-patch-state"))
    assert proc.returncode == 0, proc.stderr
    state = json.loads(proc.stdout)
    assert isinstance(state["pending_security_updates"], int)
    assert isinstance(state["reboot_required"], bool)
    assert len(state["pending_security_packages"]) == state["pending_security_updates"]


def test_log_forwarding_passes_rsyslog_check(rendered: Rendered) -> None:
    hostvars, out = rendered
    forward = out / "60-avg-voip-forward.conf"
    if not hostvars.get("avg_voip_log_collector"):
        assert not forward.exists(), "no collector in the stack: nothing may be forwarded"
        return
    proc = run(tool("rsyslogd"), "-N1", "-f", str(forward))
    assert proc.returncode == 0, f"rsyslogd -N1 rejected the forwarding config:\n{proc.stderr}"
    host, port = hostvars["avg_voip_log_collector"].rsplit(":", 1)
    assert f'target="{host}" port="{port}"' in forward.read_text()


def test_sysctl_file_holds_the_hardening(rendered: Rendered) -> None:
    _, out = rendered
    text = (out / "60-avg-voip-hardening.conf").read_text()
    for line in ("net.ipv4.ip_forward = 0", "fs.suid_dumpable = 0", "kernel.kptr_restrict = 2"):
        assert line in text


def test_journal_bounded_by_the_access_log_retention(rendered: Rendered) -> None:
    hostvars, out = rendered
    journald = (out / "journald-60-avg-voip-hardening.conf").read_text()
    assert re.search(r"^Storage=persistent$", journald, re.M)
    days = hostvars.get("avg_voip_audit_log_retention_days")
    if days:
        assert re.search(rf"^MaxRetentionSec={days}day$", journald, re.M), (
            "journal kept longer than access logs"
        )
    else:
        assert "MaxRetentionSec" not in journald
