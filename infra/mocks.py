"""Rendering the Pulumi program offline under the SDK's mock runtime (no CLI, no provider plugins).

`render(stack, config)` runs `infra.program.main()` against mocks that answer like the real providers (numeric
Hetzner ids, account-scoped AWS arns) and returns every registered resource with its inputs as Pulumi names
them (camelCase), its parent and its dependencies, plus the resolved stack outputs. Each render gets its own
event loop and a fresh root stack: runtime state must not leak from one render into the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, settings
from pulumi.runtime.stack import run_pulumi_func

ACCOUNT_ID = "123456789012"
DEBIAN_AMI = "ami-0d5e1b4c3a2f18e90"
PROJECT = "avg-voip"

# Service part of the arn for each AWS module that carries one.
_ARN_SERVICE = {
    "backup": "backup",
    "cloudtrail": "cloudtrail",
    "cloudwatch": "logs",
    "ebs": "ec2",
    "ec2": "ec2",
    "kms": "kms",
}


@dataclass(frozen=True)
class RenderedResource:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    provider: str
    parent: str
    dependencies: tuple[str, ...]
    id: str
    state: dict[str, Any]


@dataclass
class Render:
    stack: str
    resources: list[RenderedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, token: str) -> list[RenderedResource]:
        return [r for r in self.resources if r.type == token]

    def named(self, token: str, name: str) -> RenderedResource:
        for r in self.of_type(token):
            if r.name == name:
                return r
        raise KeyError(f"{token} {name}")


class CloudMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes like the AWS and Hetzner providers would."""

    def __init__(self, region: str) -> None:
        self.region = region

    @staticmethod
    def _serial(args: pulumi.runtime.MockResourceArgs) -> int:
        # Derived from type and name, not from registration order: the same stack renders to the same ids,
        # so two renders (and the evidence hashed from them) compare equal.
        digest = hashlib.sha256(f"{args.typ}::{args.name}".encode()).hexdigest()
        return 4_100_001 + int(digest[:12], 16) % 895_000_000

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if not args.custom:
            return None, state
        package, module, kind = _split(args.typ)
        if package == "hcloud":
            rid = str(self._serial(args))
            if kind == "Server":
                n = int(rid) % 200
                state.setdefault("ipv4Address", f"203.0.113.{n % 250 + 1}")
                state.setdefault("ipv6Address", f"2001:db8:{n:x}::1")
                state.setdefault("status", "running")
            if kind == "Volume":
                state.setdefault("linuxDevice", f"/dev/disk/by-id/scsi-0HC_Volume_{rid}")
            return rid, state
        if package == "aws":
            return self._aws(args, module, kind, state)
        return f"{args.name}-id", state

    def _aws(
        self, args: pulumi.runtime.MockResourceArgs, module: str, kind: str, state: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        region = state.get("region") or self.region
        serial = self._serial(args)
        suffix = f"{serial:07x}"
        if module == "s3":
            if kind == "Bucket":
                name = state.get("bucket") or f"{args.name}-{suffix}"
                state.update(bucket=name, arn=f"arn:aws:s3:::{name}", region=region)
                return name, state
            return f"{args.name}-{suffix}", state
        if module == "iam":
            name = state.get("name") or f"{args.name}-{suffix}"
            state["name"] = name
            if kind in ("Role", "InstanceProfile", "Policy"):
                path = {"Role": "role", "InstanceProfile": "instance-profile", "Policy": "policy"}[kind]
                state["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:{path}/{name}"
            return name, state
        service = _ARN_SERVICE.get(module, module)
        if module == "kms" and kind == "Key":
            rid = f"{serial:08x}-0000-4000-8000-{serial:012x}"
            state.update(arn=f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{rid}", keyId=rid)
            return rid, state
        if module == "kms" and kind == "Alias":
            state["arn"] = f"arn:aws:kms:{region}:{ACCOUNT_ID}:{state.get('name')}"
            return str(state.get("name")), state
        if module == "cloudwatch" and kind == "LogGroup":
            name = state.get("name") or f"{args.name}-{suffix}"
            state.update(name=name, arn=f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{name}")
            return name, state
        if module == "backup" and kind == "Vault":
            name = state.get("name") or f"{args.name}-{suffix}"
            state.update(name=name, arn=f"arn:aws:backup:{region}:{ACCOUNT_ID}:backup-vault:{name}")
            return name, state
        if module == "backup":
            rid = f"{serial:08x}-1111-4111-8111-{serial:012x}"
            state["arn"] = f"arn:aws:backup:{region}:{ACCOUNT_ID}:backup-plan:{rid}"
            return rid, state
        if module == "cloudtrail":
            name = state.get("name") or f"{args.name}-{suffix}"
            state.update(name=name, arn=f"arn:aws:cloudtrail:{region}:{ACCOUNT_ID}:trail/{name}")
            return name, state
        prefix = {
            "Vpc": "vpc",
            "Subnet": "subnet",
            "InternetGateway": "igw",
            "RouteTable": "rtb",
            "SecurityGroup": "sg",
            "DefaultSecurityGroup": "sg",
            "Instance": "i",
            "Volume": "vol",
            "Eip": "eipalloc",
            "FlowLog": "fl",
            "KeyPair": "key",
        }.get(kind, kind.lower())
        rid = f"{prefix}-{serial:017x}"
        resource = {"Instance": "instance", "Volume": "volume", "Eip": "elastic-ip", "Vpc": "vpc"}.get(
            kind, prefix
        )
        state["arn"] = f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource}/{rid}"
        if kind == "Eip":
            state.setdefault("publicIp", f"198.18.{serial % 250}.{serial % 200 + 10}")
        if kind == "Instance":
            state.setdefault("privateIp", f"10.0.0.{serial % 200 + 10}")
        if kind == "KeyPair":  # a key pair's id is its name
            rid = state.get("keyName") or f"{args.name}-{suffix}"
            state["keyName"] = rid
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
                "userId": "AIDAEXAMPLEDEPLOYER",
                "id": ACCOUNT_ID,
            }, []
        if args.token == "aws:ec2/getAmi:getAmi":
            return {"id": DEBIAN_AMI, "imageId": DEBIAN_AMI, "name": "debian-12-amd64-20261120-1940"}, []
        return {}, []


class _RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, also keeping what the engine would know: parent and dependencies."""

    def __init__(self, cloud: CloudMocks, render: Render) -> None:
        super().__init__(cloud)
        self._render = render
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()

    def _keep_thread_loop(self) -> None:
        # The SDK gives each worker thread its own event loop; they are closed when the render ends.
        policy = asyncio.get_event_loop_policy()
        with contextlib.suppress(RuntimeError):
            self.thread_loops.add(policy.get_event_loop())

    def Invoke(self, request: Any) -> Any:
        response = super().Invoke(request)
        self._keep_thread_loop()
        return response

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        self._keep_thread_loop()
        if request.type == "pulumi:pulumi:Stack":
            return response
        reg = self.resources[response.urn]
        inputs = dict(mocks.rpc.deserialize_properties(request.object))
        self._render.resources.append(
            RenderedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                inputs=_plain(inputs),
                custom=bool(request.custom),
                provider=request.provider,
                parent=request.parent,
                dependencies=tuple(request.dependencies),
                id=reg.id or "",
                state=_plain(dict(reg.state)),
            )
        )
        return response


def render(
    stack: str, config: dict[str, Any], region: str = "eu-central-1", into: Render | None = None
) -> Render:
    """Run the program for `stack` with `config` (keys like `avg-voip:profile`; values plain or JSON).

    `into` collects the resources even when the program fails (e.g. to show nothing was registered).
    """
    from infra.program import main

    result = into if into is not None else Render(stack=stack)
    cloud = CloudMocks(str(config.get("aws:region") or region))
    monitor = _RecordingMonitor(cloud, result)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        settings.ROOT.set(None)  # a fresh root stack per render
        mocks.set_mocks(cloud, project=PROJECT, stack=stack, preview=False, monitor=monitor)
        settings.SETTINGS.rpc_manager.clear()
        settings.SETTINGS.outputs.clear()
        pulumi.runtime.set_all_config(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
        )

        async def run() -> None:
            outputs = main()
            for key, value in outputs.items():
                result.outputs[key] = await pulumi.Output.from_input(value).future()

        loop.run_until_complete(run_pulumi_func(run))
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        for thread_loop in monitor.thread_loops - {loop}:
            thread_loop.close()
        settings.ROOT.set(None)  # nor does the next program inherit this one's root stack
        asyncio.set_event_loop(None)
        loop.close()
    return result


def render_stack(stack: str) -> Render:
    """Render an example stack from its `Pulumi.<stack>.yaml` (secure values are left out, as Pulumi would)."""
    from avg_voip.stackconfig import load_stack

    return render(stack, load_stack(stack).config)


def _split(token: str) -> tuple[str, str, str]:
    package, _, rest = token.partition(":")
    module, _, kind = rest.partition(":")
    return package, module.split("/")[0], kind


def _plain(value: Any) -> Any:
    """Unknowns and resource references become plain data a rule can read."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pulumi.Resource):
        return getattr(value, "_urn_value", None) or type(value).__name__
    return value
