"""AVG-ENC-003: backup vaults are encrypted with a customer-managed key."""

from __future__ import annotations

from collections.abc import Iterator

from avg_voip.findings import Severity
from avg_voip.records import ResourceRecord, is_unknown
from policies.engine import Context, Example, Result, fail, ok, rule, unverified
from policies.rules._util import BACKUP_VAULT, res


@rule(
    id="AVG-ENC-003",
    title="Backup vaults are encrypted with a customer-managed KMS key",
    articles=("32(1)(a)", "32(1)(c)"),
    severity=Severity.HIGH,
    rationale="Backups hold every recording and call record; they need the same key control as the originals.",
    remediation="Set kms_key_arn on every aws.backup.Vault to a CMK in the vault's own region.",
    types=BACKUP_VAULT,
    passing=[
        Example([res(BACKUP_VAULT[0], "vault", {"kmsKeyArn": "arn:aws:kms:eu-central-1:123456789012:key/1"})])
    ],
    failing=[Example([res(BACKUP_VAULT[0], "vault", {})])],
)
def check(record: ResourceRecord, ctx: Context) -> Iterator[Result]:
    key = record.props.get("kmsKeyArn")
    if is_unknown(key):
        yield unverified(record, "vault key unknown until the key exists")
    elif not key:
        yield fail(record, "vault uses the AWS-managed backup key", None, "a CMK ARN")
    else:
        yield ok(record, "vault encrypted with a customer-managed key", key, "a CMK ARN")
