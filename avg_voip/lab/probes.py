"""Independent probes, run from the host side of the lab links against one lab host.

They never trust the host's own view: ssh-audit, sslyze, sipvicious' svmap, sipsak, and a small SIP client
over TLS for the SDP transport checks. Each returns a plain dict; a tool that cannot run returns
{"error": why}, which the host checks report as NOT-VERIFIED.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from avg_voip.lab import config

SIP_TLS_PORT = 5061
PROBE_TOOLS = config.REPO_ROOT / ".tools" / "probes" / "bin"


def _tool(name: str) -> str | None:
    local = PROBE_TOOLS / name
    return str(local) if local.exists() else shutil.which(name)


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str] | dict[str, str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"{Path(cmd[0]).name} gave no result within {timeout:.0f} s"}
    except FileNotFoundError:
        return {"error": f"{cmd[0]} not installed"}


def ssh_audit(address: str) -> dict[str, Any]:
    """ssh-audit's verdict per algorithm: lines marked [fail] and [warn] (text output; its JSON has no notes)."""
    tool = _tool("ssh-audit")
    if not tool:
        return {"error": "ssh-audit not installed (apt package ssh-audit)"}
    proc = _run([tool, "-n", "-p", "22", address], timeout=60)
    if isinstance(proc, dict):
        return proc
    lines = [re.sub(r"\s+", " ", line).strip() for line in proc.stdout.splitlines()]
    if not any(line.startswith("(gen) banner") for line in lines):
        return {"error": f"ssh-audit exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-200:]}"}
    banner = next((line.split(":", 1)[-1].strip() for line in lines if line.startswith("(gen) banner")), None)
    return {
        "fail": [line for line in lines if "[fail]" in line],
        "warn": [line for line in lines if "[warn]" in line],
        "recommendations": [line for line in lines if line.startswith("(rec)")],
        "banner": banner,
        "exit": proc.returncode,
    }


def sslyze(address: str, port: int = SIP_TLS_PORT) -> dict[str, Any]:
    tool = _tool("sslyze")
    if not tool:
        return {"error": "sslyze not installed (make lab-tools installs it in .tools/probes)"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sslyze.json"
        cmd = [tool, "--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3"]
        cmd += ["--certinfo", "--slow_connection", f"--json_out={out}", f"{address}:{port}"]
        proc = _run(cmd, timeout=180)
        if isinstance(proc, dict):
            return proc
        try:
            report = json.loads(out.read_text())
        except (OSError, ValueError):
            return {
                "error": f"sslyze exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-200:]}"
            }
    results = report.get("server_scan_results", [])
    if not results or results[0].get("scan_status") != "COMPLETED":
        why = results[0].get("connectivity_error_trace", "") if results else "no result"
        return {"error": f"sslyze could not connect: {str(why).strip()[-200:]}"}
    scan = results[0]["scan_result"]
    accepted: dict[str, list[str]] = {}
    for version in ("ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1", "tls_1_2", "tls_1_3"):
        attempt = scan.get(f"{version}_cipher_suites", {})
        result = attempt.get("result") or {}
        accepted[version] = [s["cipher_suite"]["name"] for s in result.get("accepted_cipher_suites", [])]
    if not accepted["tls_1_2"] and not accepted["tls_1_3"]:
        return {"error": "sslyze connected but saw no accepted suite in any version (scan timed out?)"}
    return {"accepted": accepted}


def svmap(address: str, port: int = 5060) -> dict[str, Any]:
    tool = _tool("sipvicious_svmap")
    if not tool:
        return {"error": "sipvicious not installed (make lab-tools installs it in .tools/probes)"}
    proc = _run([tool, "-p", str(port), "-t", "0.5", address], timeout=60)
    if isinstance(proc, dict):
        return proc
    text = proc.stdout + proc.stderr
    found = [line.strip() for line in text.splitlines() if address in line and "|" in line]
    return {"found": found, "output": text.strip()[-500:], "exit": proc.returncode}


def sipsak_options_tls(address: str, port: int = SIP_TLS_PORT) -> dict[str, Any]:
    tool = _tool("sipsak")
    if not tool:
        return {"error": "sipsak not installed (apt package sipsak)"}
    # The lab hosts carry the role's self-signed certificate: the handshake must work, trust is not judged.
    cmd = [
        tool,
        "-vv",
        "--transport=tls",
        "--tls-ignore-cert-failure",
        "-s",
        f"sip:lab-probe@{address}:{port}",
    ]
    # sipsak 0.9.8 cannot read a response over TLS 1.3 (its GnuTLS loop gives up after the handshake), so its
    # GnuTLS session is held to TLS 1.2; which versions the server offers is sslyze's job.
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as prio:
        prio.write("[overrides]\ndisabled-version = tls1.3\n")
        prio.flush()
        env = {**os.environ, "GNUTLS_SYSTEM_PRIORITY_FILE": prio.name}
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False, env=env)
        except subprocess.TimeoutExpired:
            return {"error": "sipsak gave no result within 30 s"}
    text = proc.stdout + proc.stderr
    m = re.search(r"SIP/2\.0 (\d{3})[^\r\n]*", text)
    return {
        "answered": bool(m),
        "status_line": m.group(0).strip() if m else None,
        "exit": proc.returncode,
        "output": text.strip()[-400:],
    }


def _options(address: str, port: int, transport: str, local: tuple[str, int]) -> bytes:
    branch = "z9hG4bK" + uuid.uuid4().hex[:12]
    return (
        f"OPTIONS sip:lab-probe@{address}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} {local[0]}:{local[1]};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:lab-probe@{local[0]}>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <sip:lab-probe@{address}>\r\n"
        f"Call-ID: {uuid.uuid4().hex}@{local[0]}\r\n"
        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def plaintext_5060(address: str) -> dict[str, Any]:
    """TCP connect and a plaintext OPTIONS over TCP and UDP to 5060: nothing may answer."""
    result: dict[str, Any] = {}
    try:
        with socket.create_connection((address, 5060), timeout=3) as s:
            result["tcp"] = "connected"
            s.sendall(_options(address, 5060, "TCP", s.getsockname()))
            s.settimeout(3)
            result["tcp_sip_answer"] = s.recv(200).decode(errors="replace").startswith("SIP/2.0")
    except ConnectionRefusedError:
        result["tcp"] = "refused"
    except OSError as exc:
        result["tcp"] = "timeout" if isinstance(exc, TimeoutError) else f"error: {exc}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(3)
        u.connect((address, 5060))
        try:
            u.send(_options(address, 5060, "UDP", u.getsockname()))
            data = u.recv(200)
            result["udp"] = "answered" if data.startswith(b"SIP/2.0") else "other reply"
        except TimeoutError:
            result["udp"] = "no answer"
        except OSError as exc:
            result["udp"] = f"refused ({exc.strerror})"
    return result


def plaintext_on_tls_port(address: str, port: int = SIP_TLS_PORT) -> dict[str, Any]:
    """A plaintext OPTIONS sent to the TLS port must not get a SIP answer."""
    try:
        with socket.create_connection((address, port), timeout=3) as s:
            s.sendall(_options(address, port, "TCP", s.getsockname()))
            s.settimeout(3)
            try:
                data = s.recv(200)
            except TimeoutError:
                data = b""
    except OSError as exc:
        return {"sip_answer": False, "connect": f"failed: {exc}"}
    return {"sip_answer": data.startswith(b"SIP/2.0"), "reply_bytes": len(data), "connect": "ok"}


def _sdp(local_ip: str, profile: str) -> str:
    lines = ["v=0", f"o=- 1 1 IN IP4 {local_ip}", "s=-", f"c=IN IP4 {local_ip}", "t=0 0"]
    lines.append(f"m=audio 40000 {profile} 0 8")
    if profile == "RTP/SAVP":
        key = base64.b64encode(os.urandom(30)).decode()
        lines.append(f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}")
    lines += ["a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=sendrecv"]
    return "\r\n".join(lines) + "\r\n"


def invite_over_tls(address: str, domain: str, profile: str, port: int = SIP_TLS_PORT) -> dict[str, Any]:
    """Send an INVITE whose SDP offers `profile` over TLS; return the final response (or the last one).

    One retry when the connection itself fails (a handshake can time out on a loaded machine).
    """
    first = _invite_once(address, domain, profile, port)
    return _invite_once(address, domain, profile, port) if first.get("error") else first


def _invite_once(address: str, domain: str, profile: str, port: int) -> dict[str, Any]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the lab's self-signed certificate; sslyze judges the TLS side
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        raw = socket.create_connection((address, port), timeout=5)
        with ctx.wrap_socket(raw, server_hostname=domain or address) as s:
            local = s.getsockname()
            body = _sdp(local[0], profile)
            callee = f"sip:lab-callee@{domain or address}"
            msg = (
                f"INVITE {callee} SIP/2.0\r\n"
                f"Via: SIP/2.0/TLS {local[0]}:{local[1]};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:lab-probe@{domain or address}>;tag={uuid.uuid4().hex[:8]}\r\n"
                f"To: <{callee}>\r\n"
                f"Call-ID: {uuid.uuid4().hex}@{local[0]}\r\n"
                "CSeq: 1 INVITE\r\n"
                f"Contact: <sip:lab-probe@{local[0]}:{local[1]};transport=tls>\r\n"
                "Content-Type: application/sdp\r\n"
                f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
            )
            s.sendall(msg.encode())
            s.settimeout(5)
            buf = b""
            statuses: list[str] = []
            while True:
                try:
                    chunk = s.recv(4096)
                except TimeoutError:
                    break
                if not chunk:
                    break
                buf += chunk
                statuses = re.findall(r"^SIP/2\.0 (\d{3}[^\r\n]*)", buf.decode(errors="replace"), re.M)
                if any(not st.startswith("1") for st in statuses):
                    break
    except (OSError, ssl.SSLError) as exc:
        return {"error": f"INVITE over TLS to {address}:{port} failed: {exc}"}
    if not statuses:
        return {"code": None, "status_line": "no response within 5 s", "responses": []}
    final = next((st for st in statuses if not st.startswith("1")), statuses[-1])
    return {"code": int(final[:3]), "status_line": f"SIP/2.0 {final}", "responses": statuses}


def run_all(address: str, domain: str) -> dict[str, Any]:
    """Every probe against one host; the results feed the host checks (HostContext.probes)."""
    return {
        "ssh_audit": ssh_audit(address),
        "sslyze": sslyze(address),
        "svmap": svmap(address),
        "sipsak_options_tls": sipsak_options_tls(address),
        "plaintext_5060": plaintext_5060(address),
        "plaintext_on_5061": plaintext_on_tls_port(address),
        "invite_rtp_avp": invite_over_tls(address, domain, "RTP/AVP"),
        "invite_rtp_savp": invite_over_tls(address, domain, "RTP/SAVP"),
    }
