"""Write a RecordSet in Pulumi's documented formats: `pulumi preview --json` and `pulumi stack export` (v3).

Used to prove that the same resources get the same verdict from every input. Unknown values are written as
Pulumi's sentinel; secrets as Pulumi encodes them in state.
"""

from __future__ import annotations

import functools
from typing import Any

from avg_voip.records import UNKNOWN, UNKNOWN_SENTINEL, RecordSet
from avg_voip.stackconfig import PROJECT

SECRET_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
# What a test plants as a secret; it must never show up in any output.
PLANTED_SECRET = "s3cr3t-plaintext-never-printed"
PLANTED_CIPHERTEXT = "v1:ZW5jcnlwdGVkLWJsb2ItbmV2ZXItcHJpbnRlZA=="


def wire(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN_SENTINEL
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


def _stack_urn(rs: RecordSet) -> str:
    return f"urn:pulumi:{rs.stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{rs.stack}"


def _provider_states(rs: RecordSet) -> dict[str, dict[str, Any]]:
    """Providers the records use that are not records themselves (default providers)."""
    known = {r.urn for r in rs.records}
    out: dict[str, dict[str, Any]] = {}
    for r in rs.records:
        p = r.provider
        if p is not None and p.urn not in known and p.urn not in out:
            out[p.urn] = {
                "urn": p.urn,
                "type": p.type,
                "custom": True,
                "id": f"prov-{len(out) + 1:04d}-0000-0000-0000-000000000000",
                "inputs": wire(dict(p.config)),
                "outputs": wire(dict(p.config)),
            }
    return out


def _states(rs: RecordSet, known_ids: bool = True) -> list[dict[str, Any]]:
    stack_urn = _stack_urn(rs)
    providers = _provider_states(rs)
    prov_ids = {u: s["id"] for u, s in providers.items()}
    for r in rs.records:
        if r.type.startswith("pulumi:providers:"):
            prov_ids[r.urn] = r.id or "explicit-provider-id"
    states: list[dict[str, Any]] = [
        {"urn": stack_urn, "type": "pulumi:pulumi:Stack", "custom": False, "outputs": wire(rs.outputs)}
    ]
    for p in providers.values():
        states.append({**p, "parent": stack_urn, "dependencies": []})
    for r in rs.records:
        state: dict[str, Any] = {
            "urn": r.urn,
            "type": r.type,
            "custom": r.custom,
            "id": (r.id or "") if known_ids else "",
            "parent": r.parent or stack_urn,
            "inputs": wire(r.props),
            "outputs": wire(r.props),
            "dependencies": list(r.dependencies),
            "propertyDependencies": {},
        }
        if r.custom and r.provider is not None:
            state["provider"] = f"{r.provider.urn}::{prov_ids[r.provider.urn]}"
        states.append(state)
    return states


def to_preview(rs: RecordSet, op: str = "same") -> dict[str, Any]:
    """A `pulumi preview --json` document in which every resource gets `op` (same: ids known)."""
    steps = []
    for s in _states(rs, known_ids=op == "same"):
        step: dict[str, Any] = {"op": op, "urn": s["urn"], "newState": s}
        if op == "same":
            step["oldState"] = s
        if "provider" in s:
            step["provider"] = s["provider"]
        steps.append(step)
    return {
        "config": {},
        "steps": steps,
        "diagnostics": [],
        "duration": 1234567890,
        "changeSummary": {op: len(steps)},
    }


def to_export(rs: RecordSet, secret: str = "plaintext") -> dict[str, Any]:
    """A deployment v3 document; one provider input and one stack output are secrets, encoded as Pulumi does."""
    resources = _states(rs)
    for s in resources:
        if s["type"].startswith("pulumi:providers:"):
            encoded = {SECRET_KEY: SECRET_SIG}
            if secret == "plaintext":
                encoded["plaintext"] = f'"{PLANTED_SECRET}"'
            else:
                encoded["ciphertext"] = PLANTED_CIPHERTEXT
            s["inputs"] = {**s["inputs"], "secretKey": encoded}
            s["outputs"] = {**s["outputs"], "secretKey": encoded}
            break
    resources[0]["outputs"] = {
        **resources[0]["outputs"],
        "adminToken": {SECRET_KEY: SECRET_SIG, "ciphertext": PLANTED_CIPHERTEXT},
    }
    return {
        "version": 3,
        "deployment": {
            "manifest": {
                "time": "2026-12-03T12:00:00.000000000Z",
                "magic": "0" * 64,
                "version": "v3.272.0",
            },
            "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:abc:def"}},
            "resources": resources,
        },
    }


@functools.cache
def rendered(stack: str) -> RecordSet:
    from avg_voip.render import render
    from avg_voip.stackconfig import load_stack

    return render(load_stack(stack))
