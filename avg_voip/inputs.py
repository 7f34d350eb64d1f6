"""Inputs beyond the offline render: our records.json, `pulumi preview --json`, `pulumi stack export` (v3).

Every format becomes the same neutral RecordSet, so the same resources get the same verdict whatever the
source. Resources are judged on their inputs (what the program asked for), as in the render and the
CrossGuard pack; state outputs only supply the stack outputs. Unknown values (Pulumi's sentinels) become
UNKNOWN; secrets become REDACTED as soon as they are read and are never printed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from avg_voip.profile import ProfileError
from avg_voip.records import (
    REDACTED,
    SECRET_SIG,
    UNKNOWN,
    UNKNOWN_SENTINEL,
    ProviderRef,
    RecordSet,
    ResourceRecord,
)

Format = Literal["records", "preview", "export"]

# Pulumi's key that marks special values (secrets, assets) inside a map.
SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"
# Every unknown sentinel Pulumi emits (string, bool, number, array, asset, archive, object).
UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_SENTINEL,
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)
STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
# Steps whose new state will not exist after the operation: not part of the verdict on the new state.
_GONE_OPS = frozenset({"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"})
SUPPORTED_DEPLOYMENT_VERSIONS = (3,)


class InputError(ProfileError):
    """An input file that cannot be judged; printed as one line by the CLI (exit 2)."""


def decode(value: Any) -> Any:
    """Pulumi's wire form to plain data: sentinels become UNKNOWN, secrets REDACTED (never kept)."""
    if isinstance(value, str):
        return UNKNOWN if value in UNKNOWN_SENTINELS else value
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SECRET_SIG:
            return REDACTED
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def load_input(path_or_dash: str | Path, flag: str = "--input") -> RecordSet:
    """Read a records.json, preview JSON or stack export from a path or '-' (stdin) and detect its format.

    A path may name a regular file or a pipe (`<(pulumi stack export)`); `flag` is the option named in errors.
    """
    where = str(path_or_dash)
    if where == "-":
        text = sys.stdin.read()
        where = "stdin"
    else:
        path = Path(path_or_dash)
        if path.is_dir():
            raise InputError(flag, f"{where} is a directory; name the JSON file in it")
        if not path.exists():
            raise InputError(flag, f"no such file: {where}")
        if not (path.is_file() or path.is_fifo()):
            raise InputError(flag, f"{where} is not a regular file (a device or socket); name a JSON file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(flag, f"{where} is not UTF-8 text (expected JSON)") from None
        except OSError as exc:
            raise InputError(flag, f"cannot read {where}: {exc.strerror or exc}") from None
    return parse_input(text, where)


def require_stack(records: RecordSet, stack: str, flag: str, where: str | Path) -> None:
    """The records belong to `stack`: one stack's resources are never judged against another's profile."""
    if records.stack != stack:
        raise InputError(flag, f"{where} holds stack {records.stack!r}, not {stack!r}")


def parse_input(text: str, where: str = "input") -> RecordSet:
    if not text.strip():
        raise InputError(where, "is empty: expected a records.json, `pulumi preview --json` or stack export")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            where, f"is not valid JSON (truncated?) at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    fmt = detect_format(doc, where)
    if fmt == "records":
        return _from_records(doc, where)
    if fmt == "preview":
        return from_preview(doc, where)
    return from_export(doc, where)


def detect_format(doc: Any, where: str = "input") -> Format:
    if not isinstance(doc, dict):
        raise InputError(where, "must be a JSON object")
    if "steps" in doc:
        return "preview"
    if "deployment" in doc or "version" in doc:
        return "export"
    if "resources" in doc and "stack" in doc:
        return "records"
    raise InputError(
        where,
        "unknown format: expected records.json ('stack', 'resources'), `pulumi preview --json` ('steps') "
        "or `pulumi stack export` ('version', 'deployment')",
    )


def _from_records(doc: dict[str, Any], where: str) -> RecordSet:
    if not isinstance(doc.get("resources"), list):
        raise InputError(f"{where}: resources", "must be a list of records")
    if not doc["resources"]:
        raise InputError(f"{where}: resources", "is empty: there is nothing to judge")
    try:
        rs = RecordSet.from_dict(doc)
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{where}: resources", f"a record lacks or mistypes {exc}") from None
    return RecordSet(rs.stack, rs.records, rs.outputs, source=rs.source)


def from_preview(doc: dict[str, Any], where: str = "preview") -> RecordSet:
    steps = doc.get("steps")
    if not isinstance(steps, list):
        raise InputError(f"{where}: steps", "must be a list of steps")
    states: dict[str, dict[str, Any]] = {}
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise InputError(f"{where}: steps[{i}]", "must be an object")
        op = step.get("op")
        if op in _GONE_OPS:
            continue
        state = step.get("newState")
        if not isinstance(state, dict):
            continue
        _require(state, ("urn", "type"), f"{where}: steps[{i}].newState")
        states[state["urn"]] = state  # a later step on the same urn (replacement) wins
    if not states:
        raise InputError(f"{where}: steps", "no resource will exist after this preview")
    return _record_set(list(states.values()), "preview", where)


def from_export(doc: dict[str, Any], where: str = "export") -> RecordSet:
    version = doc.get("version")
    if version not in SUPPORTED_DEPLOYMENT_VERSIONS or isinstance(version, bool):
        given = f"the string {version!r}" if isinstance(version, str) else repr(version)
        raise InputError(
            f"{where}: version",
            f"must be the number 3 (the deployment format `pulumi stack export` writes), not {given}",
        )
    deployment = doc.get("deployment")
    if not isinstance(deployment, dict):
        raise InputError(f"{where}: deployment", "must be an object")
    resources = deployment.get("resources")
    if resources is None or resources == []:
        raise InputError(f"{where}: deployment.resources", "the deployment is empty (no resources)")
    if not isinstance(resources, list):
        raise InputError(f"{where}: deployment.resources", "must be a list")
    for i, r in enumerate(resources):
        if not isinstance(r, dict):
            raise InputError(f"{where}: deployment.resources[{i}]", "must be an object")
        _require(r, ("urn", "type"), f"{where}: deployment.resources[{i}]")
    live = [r for r in resources if not r.get("delete")]  # pending deletions are not part of the state
    return _record_set(live, "state", where)


def _require(obj: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    for k in keys:
        if not isinstance(obj.get(k), str) or not obj[k]:
            raise InputError(f"{where}.{k}", "is required (a string)")


def stack_of(urn: str) -> str:
    """urn:pulumi:<stack>::<project>::<type>::<name>"""
    head = urn.split("::", 1)[0]
    return head.split(":", 2)[2] if head.count(":") >= 2 else "unknown"


def name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _record_set(states: list[dict[str, Any]], source: str, where: str) -> RecordSet:
    providers: dict[str, ProviderRef] = {}
    for s in states:
        if s["type"].startswith(PROVIDER_PREFIX):
            providers[s["urn"]] = ProviderRef(s["urn"], s["type"], decode(s.get("inputs") or {}))
    outputs: dict[str, Any] = {}
    records: list[ResourceRecord] = []
    for s in states:
        if s["type"] == STACK_TYPE:
            outputs = decode(s.get("outputs") or {})
            continue
        ref = s.get("provider")
        provider = providers.get(ref.rsplit("::", 1)[0]) if isinstance(ref, str) and ref else None
        if ref and provider is None:
            # a provider reference to nothing in this input: keep the type, no config (rules then say why)
            purn = ref.rsplit("::", 1)[0]
            provider = ProviderRef(purn, PROVIDER_PREFIX + s["type"].split(":", 1)[0])
        parent = s.get("parent")
        records.append(
            ResourceRecord(
                urn=s["urn"],
                type=s["type"],
                name=name_of(s["urn"]),
                props=decode(s.get("inputs") or {}),
                provider=provider,
                parent=parent if isinstance(parent, str) and parent else None,
                dependencies=[d for d in s.get("dependencies") or [] if isinstance(d, str)],
                id=_id(s.get("id")),
                custom=bool(s.get("custom", True)),
            )
        )
    if not records:
        raise InputError(where, "holds no resources besides the stack itself")
    return RecordSet(stack_of(records[0].urn), records, outputs, source=source)


def _id(value: Any) -> str | None:
    if isinstance(value, str) and value and value not in UNKNOWN_SENTINELS:
        return value
    return None
