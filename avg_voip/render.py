"""Offline render: run the real Pulumi program under Pulumi's mock runtime and capture every resource.

No Pulumi CLI, no provider plugins and no cloud credentials are needed. Every registered resource becomes a
neutral record with its inputs as Pulumi names them, its provider (with config), parent and dependencies.
Secure config values are never decrypted: the program does not need them to declare resources.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pulumi
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc

from avg_voip.records import ProviderRef, RecordSet, ResourceRecord
from avg_voip.stackconfig import PROFILE_KEY, PROJECT, StackConfig

ACCOUNT_ID = "123456789012"  # the mock account; never a real one


class RenderError(RuntimeError):
    pass


def _fake_id(typ: str, name: str) -> str:
    digest = hashlib.sha256(f"{typ}/{name}".encode()).hexdigest()
    if typ.startswith("hcloud:"):
        return str(10_000_000 + int(digest[:8], 16) % 89_999_999)  # Hetzner ids are numbers
    return f"{name}-{digest[:8]}"


class _Mocks(pmocks.Mocks):
    """Answers like the providers would for the attributes the program reads back (ids, arns, addresses)."""

    def __init__(self, region: str | None) -> None:
        self.region = region or "eu-central-1"
        self.count = 0

    def new_resource(self, args: pmocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.count += 1
        rid = _fake_id(args.typ, args.name)
        state = dict(args.inputs)
        if args.typ.startswith("aws:"):
            region = state.get("region") or self.region
            service = args.typ.split(":")[1].split("/")[0]
            if args.typ == "aws:s3/bucket:Bucket":
                bucket = state.get("bucket") or f"{args.name}-{rid[-8:]}"
                state.update(bucket=bucket, arn=f"arn:aws:s3:::{bucket}", id=bucket)
                rid = bucket
            else:
                state.setdefault("arn", f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{args.name}/{rid}")
            if args.typ == "aws:kms/key:Key":
                state.setdefault("keyId", rid)
            if args.typ == "aws:ec2/instance:Instance":
                n = self.count % 250 + 1
                state.setdefault("publicIp", f"192.0.2.{n}")
                state.setdefault("privateIp", f"10.0.0.{n}")
            if args.typ == "aws:ec2/eip:Eip":
                state.setdefault("publicIp", f"198.51.100.{self.count % 250 + 1}")
        elif args.typ.startswith("hcloud:"):
            if args.typ == "hcloud:index/server:Server":
                n = self.count % 250 + 1
                state.setdefault("ipv4Address", f"203.0.113.{n}")
                state.setdefault("ipv6Address", f"2001:db8::{n:x}")
            if args.typ == "hcloud:index/volume:Volume":
                state.setdefault("linuxDevice", f"/dev/disk/by-id/scsi-0HC_Volume_{rid}")
        return rid, state

    def call(self, args: pmocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        tok = args.token
        if tok == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/render",
                "userId": "AIDAMOCK",
                "id": ACCOUNT_ID,
            }, []
        if tok == "aws:index/getRegion:getRegion":
            region = args.args.get("region") or args.args.get("name") or self.region
            return {
                "name": region,
                "region": region,
                "id": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
            }, []
        if tok == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if tok == "aws:ec2/getAmi:getAmi":
            return {
                "id": "ami-0d9e0a1b2c3d4e5f6",
                "imageId": "ami-0d9e0a1b2c3d4e5f6",
                "name": "debian-12-amd64",
            }, []
        if tok == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {
                "names": [f"{self.region}a", f"{self.region}b", f"{self.region}c"],
                "id": self.region,
            }, []
        if tok.startswith("aws:iam/getPolicyDocument"):
            return {"json": json.dumps({"Version": "2012-10-17", "Statement": []}), "id": "doc"}, []
        return {}, []


class _CapturingMonitor(pmocks.MockMonitor):
    """Keeps what the stock mock monitor drops: parent, provider reference, dependencies, custom flag."""

    def __init__(self, mocks: pmocks.Mocks) -> None:
        super().__init__(mocks)
        self.captured: list[dict[str, Any]] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            pmocks._ensure_event_loop()
            inputs = rpc.deserialize_properties(request.object)
            self.captured.append(
                {
                    "urn": response.urn,
                    "id": response.id or None,
                    "type": request.type,
                    "name": request.name,
                    "inputs": inputs,
                    "parent": request.parent or None,
                    "provider": request.provider or None,
                    "dependencies": list(request.dependencies),
                    "custom": bool(request.custom),
                }
            )
        return response


def _plainify(value: Any) -> Any:
    """Turn values deserialised from the wire into JSON-able data."""
    if isinstance(value, dict):
        return {k: _plainify(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list | tuple):
        return [_plainify(v) for v in value]
    if isinstance(value, pulumi.Resource):
        return getattr(value, "_name", str(value))
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire format carries every number as a double; JSON inputs keep integers
    return value


def _default_provider(package: str, stack: StackConfig) -> ProviderRef:
    cfg = {
        k.split(":", 1)[1]: v
        for k, v in stack.config.items()
        if k.startswith(package + ":") and k not in stack.secret_keys
    }
    urn = f"urn:pulumi:{stack.name}::{PROJECT}::pulumi:providers:{package}::default"
    return ProviderRef(urn=urn, type=f"pulumi:providers:{package}", config=cfg)


def render(stack: StackConfig) -> RecordSet:
    """Run infra.program under mocks for `stack` (already validated) and return its records and outputs."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return _render(stack)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def _render(stack: StackConfig) -> RecordSet:
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    region = stack.config.get("aws:region")
    mocks = _Mocks(region if isinstance(region, str) else None)
    monitor = _CapturingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack.name, preview=False, monitor=monitor)
    config = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in stack.config.items()}
    config[PROFILE_KEY] = json.dumps(stack.profile.model_dump(mode="json"))
    pulumi.runtime.set_all_config(config, [])

    from infra import program

    resolved: dict[str, Any] = {}

    def run() -> None:
        outputs = program.main()
        value = _sync_await(pulumi.Output.from_input(outputs).future())
        resolved.update(value or {})

    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    try:
        _sync_await(run_pulumi_func(run))
    except pulumi.RunError as exc:
        raise RenderError(str(exc)) from None
    return _records(stack, monitor.captured, resolved)


def _records(stack: StackConfig, captured: list[dict[str, Any]], outputs: dict[str, Any]) -> RecordSet:
    providers: dict[str, ProviderRef] = {}
    for c in captured:
        if c["type"].startswith("pulumi:providers:"):
            providers[c["urn"]] = ProviderRef(c["urn"], c["type"], _plainify(c["inputs"]))
    records: list[ResourceRecord] = []
    for c in captured:
        provider: ProviderRef | None = None
        if c["provider"]:
            # a provider reference is "<urn>::<id>"
            provider = providers.get(c["provider"].rsplit("::", 1)[0])
        elif c["custom"] and not c["type"].startswith("pulumi:providers:"):
            provider = _default_provider(c["type"].split(":", 1)[0], stack)
        records.append(
            ResourceRecord(
                urn=c["urn"],
                type=c["type"],
                name=c["name"],
                props=_plainify(c["inputs"]),
                provider=provider,
                parent=c["parent"],
                dependencies=c["dependencies"],
                id=c["id"],
                custom=c["custom"],
            )
        )
    return RecordSet(stack=stack.name, records=records, outputs=_plainify(outputs), source="render")
