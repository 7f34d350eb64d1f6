"""The pack as the Pulumi CLI runs it: `__main__.py` in its own process serves the analyzer protocol; we call it
over gRPC as the engine does (GetAnalyzerInfo, Analyze, AnalyzeStack) — no Pulumi CLI needed."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policies.engine import all_rules

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "policies" / "crossguard"
PROVIDER = "urn:pulumi:dev::avg-voip::pulumi:providers:aws::default_7_51_1"


@contextlib.contextmanager
def _serve(dry_run: bool) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env.update(PULUMI_STACK="mortgage-aws", PULUMI_DRY_RUN="true" if dry_run else "false")
    proc = subprocess.Popen(
        [sys.executable, "-u", str(PACK / "__main__.py")],
        cwd=PACK,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), f"the pack did not start: {port!r}"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    with _serve(dry_run=False) as stub:
        yield stub


def _struct(d: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(d)
    return s


def _provider(region: str) -> analyzer_pb2.AnalyzerProviderResource:
    return analyzer_pb2.AnalyzerProviderResource(
        type="pulumi:providers:aws",
        properties=_struct({"region": region}),
        urn=PROVIDER,
        name="default_7_51_1",
    )


def test_pack_serves_every_rule(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "avg-voip"
    assert {p.name for p in info.policies} == {r.id for r in all_rules()}
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels["AVG-RES-001"] == analyzer_pb2.MANDATORY and levels["AVG-ENC-004"] == analyzer_pb2.ADVISORY


def test_analyze_a_resource_over_grpc(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    urn = "urn:pulumi:dev::avg-voip::aws:kms/key:Key::data"
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:kms/key:Key",
        properties=_struct({"enableKeyRotation": False, "multiRegion": True}),
        urn=urn,
        name="data",
        provider=_provider("us-east-1"),
    )
    got = {d.policyName for d in analyzer.Analyze(request).diagnostics}
    assert {"AVG-KMS-001", "AVG-KMS-002", "AVG-RES-001"} <= got


def test_analyze_the_stack_over_grpc(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    bucket = "urn:pulumi:mortgage-aws::avg-voip::aws:s3/bucket:Bucket::recordings"
    resources = [
        analyzer_pb2.AnalyzerResource(
            type="aws:s3/bucket:Bucket",
            properties=_struct({"bucket": "rec-1", "tags": {"avg-voip:store": "recordings_store"}}),
            urn=bucket,
            name="recordings",
            provider=_provider("eu-central-1"),
        )
    ]
    got = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources)).diagnostics
    by_policy: dict[str, list[str]] = {}
    for d in got:
        by_policy.setdefault(d.policyName, []).append(d.urn)
    # no lifecycle: retention cannot be shown (profile from Pulumi.mortgage-aws.yaml via PULUMI_STACK)
    assert bucket in by_policy["AVG-RET-001"]
    assert {"AVG-ACC-001", "AVG-ENC-001", "AVG-LOG-001"} <= set(by_policy)
    assert all(d.enforcementLevel == analyzer_pb2.MANDATORY for d in got if d.policyName == "AVG-RET-001")


def test_unknown_at_preview_is_an_advisory_cannot_verify(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:kms/key:Key",
        properties=_struct(
            {"enableKeyRotation": True, "multiRegion": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
        ),
        urn="urn:pulumi:dev::avg-voip::aws:kms/key:Key::data",
        name="data",
        provider=_provider("eu-central-1"),
    )
    with _serve(dry_run=True) as preview:
        got = [d for d in preview.Analyze(request).diagnostics if d.policyName == "AVG-KMS-001"]
    assert len(got) == 1 and "cannot verify at preview" in got[0].message
    assert got[0].enforcementLevel == analyzer_pb2.ADVISORY
    after = [d for d in analyzer.Analyze(request).diagnostics if d.policyName == "AVG-KMS-001"]
    assert after and after[0].enforcementLevel == analyzer_pb2.MANDATORY, (
        "outside a preview it is a violation"
    )
