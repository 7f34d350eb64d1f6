"""IAM policy documents, as the JSON strings the AWS provider takes."""

from __future__ import annotations

import json
from typing import Any


def policy_document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def service_trust_policy(service: str, source_arn: str | None = None) -> str:
    """Trust policy letting one AWS service (e.g. `backup.amazonaws.com`) assume the role."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_arn is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceArn": source_arn}}
    return policy_document([statement])
