"""The violation corpus: for every rule, record sets that violate it and record sets that pass.

The rules' own Examples are the core of the corpus (one place holds each case); the extra cases below add
the variants issue 3 asks for that are not spelled out there. Which checkov checks catch a rule's violations
is data in policies/checkov/mapping.yaml (`coverage`); the cases checkov cannot catch are listed, with the
reason, in tests/test_checkov.py (UNCOVERED).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

from policies.engine import Example, Rule, all_rules
from policies.rules._util import BUCKET, BUCKET_LIFECYCLE, BUCKET_SSE, KMS_KEY, bucket, res
from policies.rules.ret_001_bucket_lifecycle import _stores, lifecycle
from policies.rules.ret_002_log_retention import _logs
from policies.rules.ret_005_versions_and_uploads import _versioned


@dataclass(frozen=True)
class Case:
    rule_id: str
    expect: Literal["fail", "pass"]
    example: Example
    name: str

    def __str__(self) -> str:
        return self.name


# Cases named by issue 3 that the rules' examples do not already spell out.
EXTRA_FAILING: dict[str, list[Example]] = {
    "AVG-RES-001": [
        Example(
            [res(BUCKET[0], "rec", {"bucket": "rec", "region": "us-east-1"}, region="eu-central-1")],
            note="own region us-east-1 overrides the provider's EU region",
        )
    ],
    "AVG-KMS-001": [
        Example(
            [res(KMS_KEY[0], "logs", {"enableKeyRotation": True, "multiRegion": True}, region="eu-west-1")],
            note="multi-region key even in an EU region",
        )
    ],
    "AVG-ENC-001": [
        Example(
            [
                bucket("rec"),
                res(
                    BUCKET_SSE[0],
                    "rec-sse",
                    {
                        "bucket": "rec",
                        "rules": [
                            {
                                "applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"},
                                "bucketKeyEnabled": True,
                            }
                        ],
                    },
                ),
            ],
            note="SSE-S3 (AES256) where a CMK is required, bucket key on",
        )
    ],
}

HOUSEKEEPING = {
    "id": "housekeeping",
    "status": "Enabled",
    "filter": {},  # the whole bucket: aborts stray uploads, expires old versions, expires nothing current
    "noncurrentVersionExpiration": {"noncurrentDays": 1},
    "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1},
}


def _with_housekeeping(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = copy.deepcopy(records)
    for r in out:
        if r["type"] in BUCKET_LIFECYCLE:
            r["props"]["rules"].append(dict(HOUSEKEEPING))
    return out


# Passing variants beyond the rules' examples.
EXTRA_PASSING: dict[str, list[Example]] = {
    "AVG-RET-001": [
        Example(_with_housekeeping(_stores()), note="a whole-bucket housekeeping rule beside the categories")
    ],
    "AVG-RET-002": [
        Example(_with_housekeeping(_logs(730)), note="a whole-bucket housekeeping rule beside the log rule")
    ],
    "AVG-RET-005": [
        Example(
            _with_housekeeping([bucket("rec"), _versioned(), lifecycle("rec", {"qa": 30})]),
            note="a whole-bucket housekeeping rule beside the category rule",
        )
    ],
    "AVG-ENC-001": [
        Example(
            [
                {
                    **bucket("rec"),
                    "props": {
                        "bucket": "rec",
                        "tags": {"avg-voip:store": "recordings_store"},
                        # a state's outputs: the default AWS applied at creation, before the configuration
                        "serverSideEncryptionConfiguration": {
                            "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
                        },
                    },
                },
                res(
                    BUCKET_SSE[0],
                    "rec-sse",
                    {
                        "bucket": "rec",
                        "rules": [
                            {
                                "applyServerSideEncryptionByDefault": {
                                    "sseAlgorithm": "aws:kms",
                                    "kmsMasterKeyId": "arn:aws:kms:eu-central-1:123456789012:key/1111",
                                },
                                "bucketKeyEnabled": True,
                            }
                        ],
                    },
                ),
            ],
            note="the separate encryption configuration governs over the bucket's inline default",
        )
    ],
}

# The named cases and where they live (rule, kind, note fragment): proven present by a test.
NAMED = {
    "resource region differs from its provider's": ("AVG-RES-001", "resource region differs"),
    "backup copy outside the EU": ("AVG-RES-003", ""),
    "replication target outside the EU": ("AVG-RES-004", "replication target outside the EU"),
    "multi-region KMS key": ("AVG-KMS-001", ""),
    "lifecycle filter misses the recordings prefix": ("AVG-RET-001", "filter misses the category prefixes"),
    "lifecycle rule disabled": ("AVG-RET-001", "lifecycle rule disabled"),
    "SSE-S3 instead of KMS": ("AVG-ENC-001", "SSE-S3 instead of KMS"),
}


def _rules() -> list[Rule]:
    return all_rules()


def cases() -> list[Case]:
    out: list[Case] = []
    for rule in _rules():
        for i, ex in enumerate(rule.passing):
            out.append(Case(rule.id, "pass", ex, f"{rule.id}-pass-{i}"))
        for i, ex in enumerate(rule.failing):
            out.append(Case(rule.id, "fail", ex, f"{rule.id}-fail-{i}"))
        for i, ex in enumerate(EXTRA_PASSING.get(rule.id, [])):
            out.append(Case(rule.id, "pass", ex, f"{rule.id}-pass-extra-{i}"))
        for i, ex in enumerate(EXTRA_FAILING.get(rule.id, [])):
            out.append(Case(rule.id, "fail", ex, f"{rule.id}-fail-extra-{i}"))
    return out
