"""Neutral resource records: what every rule sees, whatever the source (mock render, preview, stack export)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class UnknownValueError(TypeError):
    """Raised when a rule uses an unknown value as a truth value; the engine answers NOT-VERIFIED."""


class Unknown:
    """A value Pulumi does not know yet (a preview of a resource not yet created). Rules answer NOT-VERIFIED."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        raise UnknownValueError("value unknown at preview")


UNKNOWN = Unknown()
# Pulumi's wire sentinel for unknown values (preview) and the key that marks secrets in state files.
UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


@dataclass(frozen=True)
class ProviderRef:
    urn: str
    type: str  # e.g. pulumi:providers:aws
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return self.type.rsplit(":", 1)[-1]


@dataclass
class ResourceRecord:
    urn: str
    type: str  # Pulumi type token, e.g. aws:s3/bucket:Bucket
    name: str
    props: dict[str, Any]
    provider: ProviderRef | None = None
    parent: str | None = None
    dependencies: list[str] = field(default_factory=list)
    id: str | None = None
    custom: bool = True

    @property
    def package(self) -> str:
        return self.type.split(":", 1)[0]

    def get(self, *path: str | int, default: Any = None) -> Any:
        """Nested lookup by keys/indices; UNKNOWN propagates, a missing step yields `default`."""
        cur: Any = self.props
        for step in path:
            if cur is UNKNOWN:
                return UNKNOWN
            if isinstance(step, int):
                if not isinstance(cur, list) or step >= len(cur):
                    return default
                cur = cur[step]
            else:
                if not isinstance(cur, dict) or step not in cur:
                    return default
                cur = cur[step]
        return cur

    def to_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "id": self.id,
            "custom": self.custom,
            "props": _plain(self.props),
            "provider": None
            if self.provider is None
            else {
                "urn": self.provider.urn,
                "type": self.provider.type,
                "config": _plain(self.provider.config),
            },
            "parent": self.parent,
            "dependencies": list(self.dependencies),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ResourceRecord:
        prov = d.get("provider")
        return cls(
            urn=d["urn"],
            type=d["type"],
            name=d["name"],
            props=_revive(d.get("props") or {}),
            provider=None
            if not prov
            else ProviderRef(prov["urn"], prov["type"], _revive(prov.get("config") or {})),
            parent=d.get("parent"),
            dependencies=list(d.get("dependencies") or []),
            id=d.get("id"),
            custom=d.get("custom", True),
        )


def _plain(value: Any) -> Any:
    if value is UNKNOWN:
        return {"$unknown": True}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _revive(value: Any) -> Any:
    if isinstance(value, dict):
        if value == {"$unknown": True}:
            return UNKNOWN
        return {k: _revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revive(v) for v in value]
    return value


def region_of(record: ResourceRecord) -> str | Unknown | None:
    """Where an AWS resource lives: its own `region` (pulumi-aws v7) wins over its provider's region."""
    own = record.props.get("region")
    if own is UNKNOWN:
        return UNKNOWN
    if isinstance(own, str) and own:
        return own
    if record.provider is not None:
        reg = record.provider.config.get("region")
        if reg is UNKNOWN:
            return UNKNOWN
        if isinstance(reg, str) and reg:
            return reg
    return None


@dataclass
class RecordSet:
    """All records of one stack, with indexes rules use for cross-resource checks."""

    stack: str
    records: list[ResourceRecord]
    outputs: dict[str, Any] = field(default_factory=dict)
    source: str = "render"

    def __post_init__(self) -> None:
        self._by_type: dict[str, list[ResourceRecord]] = {}
        self._by_urn: dict[str, ResourceRecord] = {}
        for r in self.records:
            self._by_type.setdefault(r.type, []).append(r)
            self._by_urn[r.urn] = r

    def of_type(self, *types: str) -> list[ResourceRecord]:
        out: list[ResourceRecord] = []
        for t in types:
            out.extend(self._by_type.get(t, []))
        return out

    def by_urn(self, urn: str) -> ResourceRecord | None:
        return self._by_urn.get(urn)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "source": self.source,
            "resources": [r.to_dict() for r in self.records],
            "outputs": _plain(self.outputs),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RecordSet:
        return cls(
            stack=d["stack"],
            records=[ResourceRecord.from_dict(r) for r in d["resources"]],
            outputs=_revive(d.get("outputs") or {}),
            source=d.get("source", "render"),
        )
