"""AVG-RET-003: the hosts' deletion timer gets every content category with a retention within the profile."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.profile import DataKind
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import HC_VOLUME, res


def _out(cats: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "hostvars": {
            "avg_voip_recording_categories": [
                {"id": c, "path": f"/srv/recordings/{c}", "retention_days": d, "readers": ["qa-reviewer"]}
                for c, d in cats
            ]
        }
    }


_VOL = [res(HC_VOLUME[0], "recordings-1", {"location": "nbg1"}, rid="1")]
_OK = [("qa_recordings", 28), ("transcripts", 28)]


def host_categories(outputs: dict[str, Any]) -> list[dict[str, Any]] | None:
    hv = outputs.get("hostvars")
    if not isinstance(hv, dict):
        return None
    cats = hv.get("avg_voip_recording_categories")
    if cats is None:
        per_host = [v.get("avg_voip_recording_categories") for v in hv.values() if isinstance(v, dict)]
        cats = per_host[0] if per_host else None
    return cats if isinstance(cats, list) else None


@rule(
    id="AVG-RET-003",
    title="Every content category reaches the hosts' deletion timer with a retention within the profile",
    articles=("5(1)(e)",),
    severity=Severity.CRITICAL,
    rationale=(
        "Recordings on the SIP hosts (Hetzner volumes, or the AWS spool before upload) are deleted by a systemd "
        "timer driven by the host variables. A category missing there, or with a longer retention, is never "
        "deleted on time."
    ),
    remediation="Export the hostvars derived by avg_voip.hostvars.derive_hostvars; never edit them by hand.",
    scope="stack",
    needs_profile=True,
    passing=[Example(_VOL, profile="healthcare-hcloud", outputs=_out(_OK))],
    failing=[
        Example(
            _VOL,
            profile="healthcare-hcloud",
            outputs=_out([("qa_recordings", 28)]),
            note="transcripts missing",
        ),
        Example(
            _VOL,
            profile="healthcare-hcloud",
            outputs=_out([("qa_recordings", 60), ("transcripts", 28)]),
            note="host keeps QA recordings 60 days, profile says 28",
        ),
    ],
)
def check(ctx: Context) -> Iterator[Result]:
    assert ctx.profile is not None
    if not ctx.records.outputs:
        yield unverified(
            ctx.stack_target, "stack outputs (Ansible host variables) not available in this input"
        )
        return
    cats = host_categories(ctx.records.outputs)
    if cats is None:
        yield fail(ctx.stack_target, "stack outputs carry no avg_voip_recording_categories", None, "hostvars")
        return
    on_host = {c.get("id"): c.get("retention_days") for c in cats if isinstance(c, dict)}
    for c in ctx.profile.categories(kind=DataKind.CONTENT):
        days = on_host.get(c.id)
        target = f"{ctx.stack_target}/hostvars/{c.id}"
        if days is None:
            yield fail(
                target, f"{c.id}: not given to the hosts' deletion timer", None, f"<= {c.retention_days}"
            )
        elif not isinstance(days, int) or days > c.retention_days:
            yield fail(
                target,
                f"{c.id}: hosts keep {days} days, profile allows {c.retention_days}",
                days,
                f"<= {c.retention_days}",
            )
        else:
            yield ok(target, f"{c.id}: hosts delete after {days} days", days, f"<= {c.retention_days}")
