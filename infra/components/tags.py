"""Tags and labels every resource carries, so a resource found in the console leads back to its stack."""

from __future__ import annotations

import re

STACK_TAG = "avg-voip:stack"
CATEGORIES_TAG = "avg-voip:data-categories"
# Which store of the profile a bucket is: recordings_store, metadata_store or audit_log_store.
STORE_TAG = "avg-voip:store"

_LABEL_VALUE = re.compile(r"[^a-zA-Z0-9._-]")


def aws_tags(stack: str, name: str | None = None, **extra: str) -> dict[str, str]:
    tags = {STACK_TAG: stack}
    if name:
        tags["Name"] = f"{stack}-{name}"
    tags.update(extra)
    return tags


def hcloud_label(value: str) -> str:
    """Hetzner label values allow [a-zA-Z0-9._-], at most 63 characters, starting and ending alphanumeric."""
    cleaned = _LABEL_VALUE.sub("-", value)[:63]
    return cleaned.strip("._-")


def hcloud_labels(stack: str, **extra: str) -> dict[str, str]:
    labels = {"avg-voip-stack": hcloud_label(stack)}
    labels.update({k: hcloud_label(v) for k, v in extra.items()})
    return labels
