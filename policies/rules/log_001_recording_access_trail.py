"""AVG-LOG-001: reads and writes of recordings are logged by a trail with S3 data events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from avg_voip.findings import Severity
from avg_voip.profile import Provider, Storage
from avg_voip.records import UNKNOWN, ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import TRAIL, as_list, bucket, buckets_for_store, res


def trail(
    values: list[str], rw: str = "All", validation: bool = True, logging: bool | None = None
) -> dict[str, Any]:
    extra = {} if logging is None else {"enableLogging": logging}
    return res(
        TRAIL[0],
        "trail",
        {
            **extra,
            "s3BucketName": "logs",
            "enableLogFileValidation": validation,
            "kmsKeyId": "arn:aws:kms:eu-central-1:1:key/1",
            "eventSelectors": [
                {
                    "readWriteType": rw,
                    "includeManagementEvents": True,
                    "dataResources": [{"type": "AWS::S3::Object", "values": values}],
                }
            ],
        },
    )


def _bucket_arn(b: ResourceRecord) -> str:
    return f"arn:aws:s3:::{b.props.get('bucket') or b.id}"


def logging_on(tr: ResourceRecord) -> Any:
    """Is the trail delivering logs? enable_logging defaults to true in the provider; UNKNOWN at preview."""
    value = tr.props.get("enableLogging")
    if is_unknown(value):
        return UNKNOWN
    return value is not False


def covers(tr: ResourceRecord, arn: str) -> bool | None:
    """True/False, or None when unknown."""
    for sel in as_list(tr.props.get("eventSelectors")):
        if is_unknown(sel):
            return None
        if sel.get("readWriteType", "All") != "All":
            continue
        for dr in as_list(sel.get("dataResources")):
            if dr.get("type") != "AWS::S3::Object":
                continue
            for v in as_list(dr.get("values")):
                if is_unknown(v):
                    return None
                if v in ("arn:aws:s3", "arn:aws:s3:::") or str(v).startswith(arn + "/") or v == arn + "/":
                    return True
    for adv in as_list(tr.props.get("advancedEventSelectors")):
        fields = {f.get("field"): f for f in as_list(adv.get("fieldSelectors")) if isinstance(f, dict)}
        if "S3" in str(fields.get("resources.type", {}).get("equals")) and "readOnly" not in fields:
            arns = fields.get("resources.ARN", {})
            starts = as_list(arns.get("startsWith")) if arns else []
            if not arns or any(arn.startswith(str(s).rstrip("/")) for s in starts):
                return True
    return False


@rule(
    id="AVG-LOG-001",
    title="A trail records every read and write of objects in the recordings bucket (S3 data events)",
    articles=("32(1)(d)", "5(2)", "30"),
    severity=Severity.HIGH,
    rationale=(
        "Accountability: the organisation must be able to show who listened to, exported or deleted which "
        "recording. Management events alone do not show object reads; S3 data events with read and write do."
    ),
    remediation=(
        "Give the CloudTrail trail an event selector with read_write_type 'All' and a data resource of type "
        "AWS::S3::Object on '<recordings bucket arn>/'."
    ),
    scope="stack",
    needs_profile=True,
    passing=[
        Example([bucket("rec"), trail(["arn:aws:s3:::rec/"])]),
        Example([bucket("rec"), trail(["arn:aws:s3:::rec/"], logging=True)], note="logging on explicitly"),
    ],
    failing=[
        Example([bucket("rec")], note="no trail"),
        Example([bucket("rec"), trail(["arn:aws:s3:::rec/"], rw="WriteOnly")], note="reads not logged"),
        Example([bucket("rec"), trail(["arn:aws:s3:::other/"])], note="another bucket"),
        Example(
            [bucket("rec", "other"), trail(["arn:aws:s3:::rec/"])], note="no bucket is the recordings store"
        ),
        Example([bucket("rec"), trail(["arn:aws:s3:::rec/"], logging=False)], note="trail stopped"),
    ],
)
def check(ctx: Context) -> Iterator[Result]:
    assert ctx.profile is not None
    if ctx.profile.provider is not Provider.AWS:
        return
    trails = ctx.records.of_type(*TRAIL)
    recordings = buckets_for_store(ctx.records, Storage.RECORDINGS_STORE.value)
    if not recordings:
        yield fail(
            ctx.stack_target,
            "no bucket is tagged as the recordings store, so no trail can be shown to cover it",
            None,
            "a recordings bucket covered by S3 data events",
        )
    for b in recordings:
        arn = _bucket_arn(b)
        covering = [(t, covers(t, arn)) for t in trails]
        on = [(logging_on(t), c) for t, c in covering]
        if (True, True) in on:
            yield ok(b, "object reads and writes are logged by a trail", "All", "All")
        elif any(c is None or (c is True and is_unknown(lg)) for lg, c in on):
            yield unverified(b, "trail selectors or logging state unknown at preview")
        elif (False, True) in on:
            stopped = [t.name for t, c in covering if c is True]
            yield fail(
                b,
                f"the trail covering this bucket ({', '.join(stopped)}) has logging stopped "
                "(enable_logging false), so no object read or write is recorded",
                False,
                True,
            )
        else:
            yield fail(
                b, "no trail logs object reads and writes of this bucket", None, f"data events on {arn}/"
            )
