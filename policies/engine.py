"""The rule framework: rules are small pure functions over neutral resource records, with auditor metadata.

Every adapter — the offline engine below, the CrossGuard pack, the checkov custom checks — runs these same
functions. A rule yields one Result per target it judges: PASS, FAIL or NOT-VERIFIED (with the reason).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from avg_voip.profile import Profile
from avg_voip.records import RecordSet, ResourceRecord, UnknownValueError
from avg_voip.residency import Catalogue, load_catalogue


@dataclass(frozen=True)
class Result:
    status: Status
    target: str
    message: str
    observed: Any = None
    expected: Any = None


def ok(target: ResourceRecord | str, message: str, observed: Any = None, expected: Any = None) -> Result:
    return Result(Status.PASS, _urn(target), message, observed, expected)


def fail(target: ResourceRecord | str, message: str, observed: Any = None, expected: Any = None) -> Result:
    return Result(Status.FAIL, _urn(target), message, observed, expected)


def unverified(target: ResourceRecord | str, reason: str, expected: Any = None) -> Result:
    return Result(Status.NOT_VERIFIED, _urn(target), reason, None, expected)


def _urn(target: ResourceRecord | str) -> str:
    return target if isinstance(target, str) else target.urn


@dataclass
class Context:
    records: RecordSet
    profile: Profile | None = None
    catalogue: Catalogue = field(default_factory=load_catalogue)

    @property
    def stack_target(self) -> str:
        return f"stack:{self.records.stack}"


ResourceCheck = Callable[[ResourceRecord, Context], Iterable[Result]]
StackCheck = Callable[[Context], Iterable[Result]]


@dataclass(frozen=True)
class Example:
    """A record set (as dicts) the rule must pass (in `passing`) or fail (in `failing`); the tests run both."""

    records: list[dict[str, Any]]
    profile: str | None = "mortgage-aws"  # example stack whose profile the rule sees (None: no profile)
    note: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    scope: Literal["resource", "stack"]
    types: tuple[str, ...]  # resource rules: the type tokens they judge (empty: every custom resource)
    check: Callable[..., Iterable[Result]]
    passing: tuple[Example, ...]
    failing: tuple[Example, ...]
    needs_profile: bool = False

    @property
    def id(self) -> str:
        return self.meta.id

    def applies_to(self, record: ResourceRecord) -> bool:
        if not record.custom:
            return False
        return not self.types or record.type in self.types

    def evaluate(self, ctx: Context) -> list[Result]:
        if self.needs_profile and ctx.profile is None:
            return [unverified(ctx.stack_target, "no compliance profile available to compare against")]
        if self.scope == "stack":
            return _guard(self.id, lambda: self.check(ctx), ctx.stack_target)
        out: list[Result] = []
        for record in _candidates(self, ctx.records):
            out.extend(_guard(self.id, lambda r=record: self.check(r, ctx), record.urn))
        return out


def _candidates(rule: Rule, records: RecordSet) -> list[ResourceRecord]:
    if rule.types:
        return [r for r in records.of_type(*rule.types) if r.custom]
    return [r for r in records.records if r.custom]


def _guard(rule_id: str, run: Callable[[], Iterable[Result]], target: str) -> list[Result]:
    """Run one check, failing closed: a rule that cannot read its inputs never passes and never crashes.

    Results the rule yielded before it broke are dropped (a PASS for part of the inputs would mislead).
    """
    try:
        return list(run())
    except UnknownValueError:
        return [unverified(target, "a value this rule needs is unknown until the resource exists (preview)")]
    except Exception as exc:  # malformed input (a port "abc", a string where a list belongs): fail closed
        return [unverified(target, f"cannot read {rule_id} inputs: {_short(exc)}")]


def _short(exc: Exception, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or "no detail"
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


_REGISTRY: dict[str, Rule] = {}


def rule(
    *,
    id: str,
    title: str,
    articles: tuple[str, ...],
    severity: Severity,
    rationale: str,
    remediation: str,
    types: tuple[str, ...] = (),
    scope: Literal["resource", "stack"] = "resource",
    passing: Iterable[Example],
    failing: Iterable[Example],
    needs_profile: bool = False,
) -> Callable[[Callable[..., Iterable[Result]]], Callable[..., Iterable[Result]]]:
    """Register a rule. One rule per file in policies/rules/."""

    def wrap(fn: Callable[..., Iterable[Result]]) -> Callable[..., Iterable[Result]]:
        if id in _REGISTRY:
            raise RuntimeError(f"duplicate rule id {id}")
        meta = RuleMeta(id, title, articles, severity, rationale, remediation)
        _REGISTRY[id] = Rule(meta, scope, types, fn, tuple(passing), tuple(failing), needs_profile)
        return fn

    return wrap


def all_rules() -> list[Rule]:
    from policies import rules as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{mod.name}")
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_rule(rule_id: str) -> Rule:
    all_rules()
    return _REGISTRY[rule_id]


def evaluate(
    records: RecordSet, profile: Profile | None, rules: Iterable[Rule] | None = None
) -> list[Finding]:
    ctx = Context(records=records, profile=profile)
    findings: list[Finding] = []
    for r in rules if rules is not None else all_rules():
        for res in r.evaluate(ctx):
            findings.append(
                Finding(r.id, res.status, res.target, res.message, res.observed, res.expected, source="plan")
            )
    return sorted(findings, key=Finding.sort_key)


def iter_results(findings: Iterable[Finding], status: Status) -> Iterator[Finding]:
    return (f for f in findings if f.status is status)


def example_input(example: Example) -> tuple[RecordSet, Profile | None]:
    """The record set and profile a rule example runs against."""
    from avg_voip.stackconfig import load_stack

    records = RecordSet(
        "example", [ResourceRecord.from_dict(r) for r in example.records], dict(example.outputs)
    )
    profile = load_stack(example.profile).profile if example.profile else None
    return records, profile
