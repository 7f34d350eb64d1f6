"""Offline render: run the real Pulumi program under Pulumi's mock runtime and capture every resource.

No Pulumi CLI, no provider plugins and no cloud credentials are needed. The mock runtime itself lives with the
program (`infra/mocks.py`); this module turns what it captured into neutral records: inputs as Pulumi names
them, the provider with its config, parent and dependencies. Secure config values are never decrypted — the
program does not need them to declare resources — and never reach a record.
"""

from __future__ import annotations

from typing import Any

import pulumi

from avg_voip.records import ProviderRef, RecordSet, ResourceRecord
from avg_voip.stackconfig import PROFILE_KEY, PROJECT, StackConfig


class RenderError(RuntimeError):
    pass


def render(stack: StackConfig) -> RecordSet:
    """Run infra.program under mocks for `stack` (already validated) and return its records and outputs."""
    from infra.mocks import Render
    from infra.mocks import render as mock_render

    config: dict[str, Any] = dict(stack.config)
    config[PROFILE_KEY] = stack.profile.model_dump(mode="json")
    captured = Render(stack=stack.name)
    try:
        mock_render(stack.name, config, into=captured)
    except pulumi.RunError as exc:
        raise RenderError(str(exc)) from None
    return _records(stack, captured)


def _numbers(value: Any) -> Any:
    """The wire format carries every number as a double; JSON inputs (preview, export) keep integers."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _default_provider(package: str, stack: StackConfig) -> ProviderRef:
    cfg = {
        k.split(":", 1)[1]: v
        for k, v in stack.config.items()
        if k.startswith(package + ":") and k not in stack.secret_keys
    }
    urn = f"urn:pulumi:{stack.name}::{PROJECT}::pulumi:providers:{package}::default"
    return ProviderRef(urn=urn, type=f"pulumi:providers:{package}", config=cfg)


def _records(stack: StackConfig, captured: Any) -> RecordSet:
    providers = {
        r.urn: ProviderRef(r.urn, r.type, _numbers(r.inputs))
        for r in captured.resources
        if r.type.startswith("pulumi:providers:")
    }
    records: list[ResourceRecord] = []
    for r in captured.resources:
        provider: ProviderRef | None = None
        if r.provider:
            provider = providers.get(r.provider.rsplit("::", 1)[0])  # a reference is "<urn>::<id>"
        elif r.custom and not r.type.startswith("pulumi:providers:"):
            provider = _default_provider(r.type.split(":", 1)[0], stack)
        records.append(
            ResourceRecord(
                urn=r.urn,
                type=r.type,
                name=r.name,
                props=_numbers(r.inputs),
                provider=provider,
                parent=r.parent or None,
                dependencies=sorted(r.dependencies),
                id=r.id or None,
                custom=r.custom,
            )
        )
    records.sort(key=lambda rec: rec.urn)  # registration order varies between runs; the record set must not
    return RecordSet(stack=stack.name, records=records, outputs=_numbers(captured.outputs), source="render")
