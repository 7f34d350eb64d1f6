"""AVG-LOG-002: trails validate their log files, so tampering is detectable."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import TRAIL
from policies.rules.log_001_recording_access_trail import logging_on, trail


@rule(
    id="AVG-LOG-002",
    title="CloudTrail log file validation is enabled, so altered or deleted access logs are detected",
    articles=("32(1)(b)", "5(2)"),
    severity=Severity.MEDIUM,
    rationale="Access logs only prove anything to an auditor if tampering with them can be detected.",
    remediation="Set enable_log_file_validation=True on the trail and keep it logging (enable_logging not false).",
    types=TRAIL,
    passing=[Example([trail(["arn:aws:s3:::rec/"])])],
    failing=[
        Example([trail(["arn:aws:s3:::rec/"], validation=False)]),
        Example(
            [trail(["arn:aws:s3:::rec/"], logging=False)], note="validation on, but the trail is stopped"
        ),
    ],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    value = record.props.get("enableLogFileValidation")
    on = logging_on(record)
    if is_unknown(value) or is_unknown(on):
        yield unverified(record, "validation or logging setting unknown at preview")
    elif not on:
        yield fail(
            record,
            "trail stopped (enable_logging false): it delivers no log files or digests whose integrity "
            "could be validated",
            False,
            True,
        )
    elif value is True:
        yield ok(record, "log file validation on", True, True)
    else:
        yield fail(record, "log file validation off", value, True)
