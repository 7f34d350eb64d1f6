"""CrossGuard adapter: every catalogue rule as a Pulumi policy, running the very same rule functions.

- A resource rule that judges a resource by its own properties becomes a ResourceValidationPolicy.
- A stack rule, and a resource rule that reads other records (a bucket's lifecycle, encryption, public
  access block; a replication target), becomes a StackValidationPolicy: only the whole stack can answer it.
  Which resource rules read other records is measured, not declared: each rule's examples run against a
  record set that notes any look beyond the judged record.
- Enforcement: mandatory for critical and high rules, advisory otherwise; override per rule with the standard
  policy config file (`{"AVG-ENC-004": "mandatory"}` or `{"AVG-ENC-001": {"enforcementLevel": "advisory"}}`).
- NOT-VERIFIED is never a silent pass. During a preview, a result that cannot be verified because values are
  unknown is raised through Pulumi's own preview-unknown channel, which prints an advisory "can't run policy
  ... during preview: cannot verify at preview: <reason>" (policy config `unknowns: "enforce"` reports it as a
  violation at the policy's own level instead). Outside a preview every NOT-VERIFIED is a violation.
- Profile (for rules that compare with the compliance profile), first found wins: policy config `profile`
  (a profile mapping, or a path to a Pulumi.<stack>.yaml); the stack's own config key `avg-voip:profile`
  that Pulumi hands to the pack; the file Pulumi.<stack>.yaml in AVG_VOIP_PROJECT_DIR (default: this
  repository), the stack named by PULUMI_STACK.

Nothing here builds a PolicyPack (that starts a gRPC server and never returns): `__main__.py` does.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyProviderResource,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import Severity as PolicySeverity
from pulumi_policy.proxy import UnknownValueError as PolicyUnknownValueError
from pulumi_policy.proxy import _DictProxy, _ListProxy
from pulumi_policy.secret import Secret, _DictSecretsProxy, _ListSecretsProxy

from avg_voip.findings import Severity, Status
from avg_voip.inputs import STACK_TYPE, decode, stack_of
from avg_voip.profile import Profile, ProfileError, parse_profile
from avg_voip.records import REDACTED, ProviderRef, RecordSet, ResourceRecord
from policies.engine import Context, Result, Rule, all_rules, example_input

PACK_NAME = "avg-voip"
PROFILE_CONFIG_KEY = "avg-voip:profile"
_PROXIES = (_DictProxy, _ListProxy, _DictSecretsProxy, _ListSecretsProxy)
REPO_ROOT = Path(__file__).resolve().parents[2]
_SEVERITY = {
    Severity.CRITICAL: PolicySeverity.CRITICAL,
    Severity.HIGH: PolicySeverity.HIGH,
    Severity.MEDIUM: PolicySeverity.MEDIUM,
    Severity.LOW: PolicySeverity.LOW,
}
CONFIG_SCHEMA = PolicyConfigSchema(
    properties={
        "profile": {
            "description": "the compliance profile (mapping) or a path to the Pulumi.<stack>.yaml holding it",
            "type": ["object", "string"],
        },
        "unknowns": {
            "description": "at preview, report values that cannot be verified as advisory (default) or enforce",
            "type": "string",
            "enum": ["advisory", "enforce"],
        },
    }
)


class CannotVerifyAtPreview(PolicyUnknownValueError):
    """Raised through pulumi_policy's preview-unknown channel: the CLI prints it as an advisory diagnostic."""

    def __init__(self, reasons: list[str]) -> None:
        Exception.__init__(self)
        self.unknown_type_sentinel = ""
        self.props: list[str] = []
        self.message = "cannot verify at preview: " + "; ".join(reasons)

    def __str__(self) -> str:
        return self.message


# -- from the runtime's wrapped values to neutral records -------------------------------------------------


def unwrap(value: Any) -> Any:
    """Strip pulumi_policy's unknown-checking and secret proxies without tripping them, then decode."""
    return decode(_raw(value))


def _raw(value: Any) -> Any:
    if isinstance(value, _PROXIES):
        return _raw(value["__target"])  # the proxy hands out its target without checking for unknowns
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double; rules compare whole days as ints
    if isinstance(value, Mapping):
        return {k: _raw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_raw(v) for v in value]
    return value


def _provider_ref(provider: PolicyProviderResource | None) -> ProviderRef | None:
    if provider is None:
        return None
    return ProviderRef(provider.urn, provider.resource_type, unwrap(provider.props))


def record_from_args(args: ResourceValidationArgs) -> ResourceRecord:
    parent = args.opts.parent if args.opts is not None else None
    return _record(args, parent, [])


def records_from_stack_args(args: StackValidationArgs) -> RecordSet:
    records: list[ResourceRecord] = []
    outputs: dict[str, Any] = {}
    for r in args.resources:
        if r.resource_type == STACK_TYPE:
            outputs = unwrap(r.props)
            continue
        parent = r.parent.urn if r.parent is not None else None
        records.append(_record(r, parent, [d.urn for d in r.dependencies]))
    stack = stack_of(records[0].urn) if records else "unknown"
    return RecordSet(stack, records, outputs, source="crossguard")


def _record(
    r: ResourceValidationArgs | PolicyResource, parent: str | None, dependencies: list[str]
) -> ResourceRecord:
    return ResourceRecord(
        urn=r.urn,
        type=r.resource_type,
        name=r.name,
        props=unwrap(r.props),
        provider=_provider_ref(r.provider),
        parent=parent,
        dependencies=dependencies,
        custom=r.resource_type != STACK_TYPE,
    )


# -- which resource rules need the whole stack ------------------------------------------------------------


class _LookingRecordSet(RecordSet):
    """A record set that notes when a rule looks at anything beyond the record it judges."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.watching = False
        self.looked = False

    def _note(self) -> None:
        if self.watching:
            self.looked = True

    def of_type(self, *types: str) -> list[ResourceRecord]:
        self._note()
        return super().of_type(*types)

    def by_urn(self, urn: str) -> ResourceRecord | None:
        self._note()
        return super().by_urn(urn)

    def __getattribute__(self, name: str) -> Any:
        if name in ("records", "outputs") and object.__getattribute__(self, "__dict__").get("watching"):
            object.__setattr__(self, "looked", True)
        return object.__getattribute__(self, name)


def _looks_beyond(rule: Rule, records: RecordSet, profile: Profile | None) -> bool:
    watched = _LookingRecordSet(records.stack, records.records, records.outputs, records.source)
    ctx = Context(records=watched, profile=profile)
    for record in [r for r in records.records if rule.applies_to(r)]:
        watched.watching = True
        try:
            list(rule.check(record, ctx))
        except Exception:  # unknown or malformed input: rule.evaluate already answered NOT-VERIFIED
            pass
        finally:
            watched.watching = False
        if watched.looked:
            return True
    return False


@functools.cache
def needs_whole_stack(rule_id: str) -> bool:
    rule = _rule(rule_id)
    if rule.scope == "stack":
        return True
    for example in (*rule.passing, *rule.failing):
        records, profile = example_input(example)
        if _looks_beyond(rule, records, profile):
            return True
    return False


@functools.cache
def _rule(rule_id: str) -> Rule:
    return {r.id: r for r in all_rules()}[rule_id]


# -- profile ----------------------------------------------------------------------------------------------


def resolve_profile(config: Mapping[str, Any]) -> Profile | None:
    """The compliance profile: policy config, then the stack's config, then the stack file (see module doc)."""
    raw = config.get("profile") if config else None
    if isinstance(raw, Mapping):
        return parse_profile(unwrap(raw))
    if isinstance(raw, str) and raw:
        return _profile_from_file(Path(raw))
    from_config = _profile_from_stack_config()
    if from_config is not None:
        return from_config
    stack = os.environ.get("PULUMI_STACK") or _pulumi_stack()
    if not stack:
        return None
    root = Path(os.environ.get("AVG_VOIP_PROJECT_DIR") or REPO_ROOT)
    path = root / f"Pulumi.{stack}.yaml"
    return _profile_from_file(path) if path.is_file() else None


@functools.cache
def _profile_from_file(path: Path) -> Profile:
    from avg_voip.stackconfig import load_stack

    name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    return load_stack(name, path=path).profile


def _profile_from_stack_config() -> Profile | None:
    try:
        import pulumi.runtime

        value = pulumi.runtime.get_config_env().get(PROFILE_CONFIG_KEY)
    except Exception:  # no Pulumi runtime around (tests, plain import)
        return None
    if value is None:
        return None
    return _parse_profile_text(value if isinstance(value, str) else json.dumps(value, sort_keys=True))


@functools.cache
def _parse_profile_text(text: str) -> Profile:
    return parse_profile(json.loads(text))  # once per distinct profile, not once per resource and policy


def _pulumi_stack() -> str | None:
    try:
        import pulumi

        return pulumi.get_stack() or None
    except Exception:
        return None


def is_preview() -> bool:
    return os.environ.get("PULUMI_DRY_RUN", "").lower() == "true"


# -- reporting --------------------------------------------------------------------------------------------


def _report(
    results: Iterable[Result], report: ReportViolation, config: Mapping[str, Any], per_resource: bool
) -> None:
    """FAIL: a violation. NOT-VERIFIED: a violation, except unknowns at preview (advisory, see module doc)."""
    unknown: list[str] = []
    enforce_unknowns = (config or {}).get("unknowns") == "enforce"
    for res in results:
        urn = None if per_resource or not res.target.startswith("urn:") else res.target
        where = "" if per_resource or urn else f" [{res.target}]"
        if res.status is Status.FAIL:
            report(f"{res.message}{where}", urn)
        elif res.status is Status.NOT_VERIFIED:
            if is_preview() and not enforce_unknowns:
                unknown.append(f"{res.message} [{res.target.rsplit('::', 1)[-1]}]")
            else:
                report(f"NOT-VERIFIED (never a pass): {res.message}{where}", urn)
    if unknown:
        raise CannotVerifyAtPreview(unknown)


def _policy_kwargs(rule: Rule) -> dict[str, Any]:
    meta = rule.meta
    mandatory = meta.severity in (Severity.CRITICAL, Severity.HIGH)
    return {
        "name": meta.id,
        "description": f"{meta.title} (AVG art. {', '.join(meta.articles)})",
        "enforcement_level": EnforcementLevel.MANDATORY if mandatory else EnforcementLevel.ADVISORY,
        "config_schema": CONFIG_SCHEMA,
        "severity": _SEVERITY[meta.severity],
        "remediation_steps": meta.remediation,
        "tags": ["avg", "gdpr", *[f"art-{a}" for a in meta.articles]],
    }


def resource_validation(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        record = record_from_args(args)
        if rule.applies_to(record):
            records = RecordSet(stack_of(record.urn), [record], source="crossguard")
            _judge(rule, records, args.get_config(), report, per_resource=True)

    return validate


def stack_validation(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        _judge(rule, records_from_stack_args(args), args.get_config(), report, per_resource=False)

    return validate


def _judge(
    rule: Rule, records: RecordSet, config: Mapping[str, Any], report: ReportViolation, per_resource: bool
) -> None:
    try:
        profile = resolve_profile(config) if rule.needs_profile else _optional_profile(config)
    except ProfileError as exc:
        report(f"NOT-VERIFIED: compliance profile unusable: {exc}", None)
        return
    results = rule.evaluate(Context(records=records, profile=profile))
    judged = not (rule.needs_profile and profile is None)  # without a profile the rule did not run
    if per_resource and judged and _looks_beyond(rule, records, profile):
        # the rule wanted other records after all: its answer from one record is not reliable
        report("NOT-VERIFIED: this rule needs the whole stack to judge this resource", None)
        return
    _report(results, report, config, per_resource)


def _optional_profile(config: Mapping[str, Any]) -> Profile | None:
    """Rules that use the profile when present (e.g. residency exceptions) still run without one."""
    try:
        return resolve_profile(config)
    except ProfileError:
        return None


def policy_for(rule: Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    if needs_whole_stack(rule.id):
        return StackValidationPolicy(validate=stack_validation(rule), **_policy_kwargs(rule))
    return ResourceValidationPolicy(validate=resource_validation(rule), **_policy_kwargs(rule))


def build_policies(
    rules: Iterable[Rule] | None = None,
) -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [policy_for(r) for r in (rules if rules is not None else all_rules())]
