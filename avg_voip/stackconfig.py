"""Reading a Pulumi stack file (`Pulumi.<stack>.yaml`): the profile plus the provider settings beside it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from avg_voip.profile import Profile, ProfileError, parse_profile

PROJECT = "avg-voip"
PROFILE_KEY = f"{PROJECT}:profile"
# Starts with a letter or digit, so neither "." nor ".." can name a stack (and a reports/ directory).
_STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
# Provider settings the program understands; anything else under these namespaces is refused.
KNOWN_PROVIDER_KEYS = {
    "aws": {"region", "profile", "accessKey", "secretKey", "token", "defaultTags", "allowedAccountIds"},
    "hcloud": {"token", "endpoint", "pollInterval"},
}
SECRET_KEYS = {"aws:accessKey", "aws:secretKey", "aws:token", "hcloud:token"}


@dataclass(frozen=True)
class StackConfig:
    name: str
    path: Path
    profile: Profile
    # Plain config values as Pulumi passes them to the program (secure values stay encrypted and are redacted).
    config: dict[str, Any] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def check_stack_name(name: str) -> str:
    if not _STACK_NAME.match(name):
        raise ProfileError(
            "--stack",
            f"{name!r} is not a valid stack name (letters, digits, '-', '_', '.', starting with a letter or digit)",
        )
    return name


def stack_file(name: str, root: Path | None = None) -> Path:
    check_stack_name(name)
    return (root or project_root()) / f"Pulumi.{name}.yaml"


def list_stacks(root: Path | None = None) -> list[str]:
    base = root or project_root()
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in base.glob("Pulumi.*.yaml"))


class _DuplicateKeyError(yaml.YAMLError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (plain YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKeyError(f"key {key!r} appears twice (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_stack(name: str, root: Path | None = None, path: Path | None = None) -> StackConfig:
    check_stack_name(name)  # also for a --stack-file: the name becomes a directory under reports/
    path = path or stack_file(name, root)
    if not path.is_file():
        known = ", ".join(list_stacks(root)) or "none"
        raise ProfileError("--stack", f"no stack file {path.name}; known stacks: {known}")
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader
    except UnicodeDecodeError:
        raise ProfileError(path.name, "is not UTF-8 text") from None
    except _DuplicateKeyError as exc:
        raise ProfileError(path.name, str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ProfileError(path.name, f"is not valid YAML{where}") from None
    return parse_stack_document(name, path, doc)


def parse_stack_document(name: str, path: Path, doc: Any) -> StackConfig:
    if not isinstance(doc, dict):
        raise ProfileError(path.name, "must be a YAML mapping with a 'config' key")
    config = doc.get("config")
    if not isinstance(config, dict):
        raise ProfileError("config", "must be a mapping of config keys")
    plain: dict[str, Any] = {}
    secrets: set[str] = set()
    for key, value in config.items():
        if not isinstance(key, str) or ":" not in key:
            raise ProfileError(f"config.{key}", "config keys must be namespaced, e.g. 'aws:region'")
        ns, _, sub = key.partition(":")
        if ns in KNOWN_PROVIDER_KEYS and sub not in KNOWN_PROVIDER_KEYS[ns]:
            allowed = ", ".join(sorted(KNOWN_PROVIDER_KEYS[ns]))
            raise ProfileError(f"config.{key}", f"unknown {ns} setting; allowed: {allowed}")
        if ns not in KNOWN_PROVIDER_KEYS and ns != PROJECT:
            raise ProfileError(f"config.{key}", f"unknown namespace {ns!r}; allowed: {PROJECT}, aws, hcloud")
        if ns == PROJECT and key != PROFILE_KEY:
            raise ProfileError(f"config.{key}", f"unknown key; the project reads only {PROFILE_KEY}")
        if isinstance(value, dict) and set(value) == {"secure"}:
            cipher = value["secure"]
            if not isinstance(cipher, str) or not cipher.startswith("v1:") or len(cipher) < 20:
                raise ProfileError(
                    f"config.{key}",
                    "secure value is not a Pulumi ciphertext (set it with `pulumi config set --secret`)",
                )
            secrets.add(key)
            continue
        if key in SECRET_KEYS:
            raise ProfileError(f"config.{key}", "is a credential: store it with `pulumi config set --secret`")
        plain[key] = value
    if PROFILE_KEY not in config:
        raise ProfileError(PROFILE_KEY, "is required (the compliance profile)")
    profile = parse_profile(config[PROFILE_KEY])
    if profile.provider.value == "aws":
        region = plain.get("aws:region")
        if region is None:
            raise ProfileError(
                "config.aws:region", f"is required and must equal the profile location {profile.location}"
            )
        if region != profile.location:
            raise ProfileError(
                "config.aws:region", f"{region!r} differs from the profile location {profile.location!r}"
            )
    return StackConfig(name=name, path=path, profile=profile, config=plain, secret_keys=frozenset(secrets))
