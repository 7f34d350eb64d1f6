"""avg-voip: render stacks offline and judge them against the AVG rule catalogue.

Exit codes: 0 compliant, 1 violations, 2 bad input, 3 nothing failed but something could not be verified.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from avg_voip.audit import (
    EXIT_BAD_INPUT,
    HOST_CHECKS_NOT_RUN,
    Verdict,
    judge,
    rule_catalogue,
    write_reports,
    write_together,
)
from avg_voip.profile import ProfileError
from avg_voip.records import RecordSet
from avg_voip.stackconfig import StackConfig, list_stacks, load_stack, project_root

console = Console(stderr=False, highlight=False)

STATUS_STYLE = {"PASS": "green", "FAIL": "bold red", "NOT-VERIFIED": "yellow", "MANUAL": "cyan"}


class UsageError(Exception):
    """Bad input named by key; printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(message)


def _project(args: argparse.Namespace) -> Path:
    root = Path(args.project) if getattr(args, "project", None) else project_root()
    if not root.is_dir():
        raise UsageError(f"--project: {root} is not a directory")
    return root


def add_project_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--project", help="directory holding the Pulumi.<stack>.yaml files (default: this checkout)"
    )


def project_dir(args: argparse.Namespace) -> Path:
    """The project directory named by --project (checked), or this checkout."""
    return _project(args)


def load_stacks(args: argparse.Namespace) -> list[StackConfig]:
    """Validate every selected stack before rendering any, so bad input writes nothing at all."""
    root = _project(args)
    chosen = getattr(args, "stack", None)
    names = [chosen] if chosen is not None else list_stacks(root)
    if not names:
        raise UsageError(f"--stack: no Pulumi.<stack>.yaml files in {root}")
    if len(names) == 1:
        return [load_stack(names[0], root)]
    stacks = []
    for name in names:
        try:
            stacks.append(load_stack(name, root))
        except ProfileError as exc:  # several stacks: say which file
            raise ProfileError(f"Pulumi.{name}.yaml: {exc.key}", exc.message) from None
    return stacks


def _render(stack: StackConfig) -> RecordSet:
    from avg_voip.render import RenderError, render

    try:
        return render(stack)
    except RenderError as exc:
        raise UsageError(f"{stack.name}: {exc}") from None


def cmd_render(args: argparse.Namespace) -> int:
    import json

    from avg_voip.audit import ansible_files, write_together

    for stack in load_stacks(args):
        name = stack.name
        with console.status(f"rendering {escape(name)} under Pulumi mocks"):
            records = _render(stack)
        out = Path(args.out) / name
        files = {out / "records.json": json.dumps(records.to_dict(), indent=2, sort_keys=True) + "\n"}
        files.update(ansible_files(records, out / "ansible"))
        write_together(files)
        console.print(Text(f"{name}: {len(records.records)} resources -> {out}/records.json"))
    return 0


def print_verdict(verdict: Verdict, show_pass: bool = False) -> None:
    catalogue = rule_catalogue()
    table = Table(title=Text(f"AVG verdict: {verdict.stack}"), show_lines=False)
    for col in ("status", "rule", "AVG art.", "target", "finding"):
        table.add_column(col, overflow="fold")
    order = {"FAIL": 0, "NOT-VERIFIED": 1, "MANUAL": 2, "PASS": 3}
    for f in sorted(verdict.findings, key=lambda f: (order[f.status.value], f.sort_key())):
        if f.status.value == "PASS" and not show_pass:
            continue
        meta = catalogue.get(f.rule_id)
        target = f.target.split("::")[-1] if f.target.startswith("urn:") else f.target
        table.add_row(  # data as Text, never as markup: profile text and values may hold brackets
            Text(f.status.value, style=STATUS_STYLE[f.status.value]),
            Text(f.rule_id),
            Text(", ".join(meta.articles) if meta else ""),
            Text(target),
            Text(f.message),
        )
    console.print(table)
    c = verdict.counts
    console.print(
        f"[green]{c['PASS']} PASS[/]  [red]{c['FAIL']} FAIL[/]  [yellow]{c['NOT-VERIFIED']} NOT-VERIFIED[/]  "
        f"[cyan]{c['MANUAL']} MANUAL[/]  ({len(verdict.records.records)} resources)"
    )


def cmd_audit(args: argparse.Namespace) -> int:
    worst = 0
    for stack in load_stacks(args):
        name = stack.name
        with console.status(f"rendering {escape(name)} and evaluating the rules"):
            records = _render(stack)
            verdict = judge(records, stack.profile)
        out = Path(args.out) / name
        write_reports(verdict, out)
        waiting = _write_auditor_reports(verdict, out, stack.path)
        print_verdict(verdict, show_pass=args.show_pass)
        console.print(Text(_host_checks_note(waiting), style="yellow"))
        console.print(Text(f"reports: {out}/\n"))
        worst = max(worst, verdict.exit_code, key=_severity_of_exit)
    return worst


def _host_checks_note(waiting: int) -> str:
    """The line after the table: a plan audit judges no host, whatever its exit code."""
    if not waiting:
        return f"{HOST_CHECKS_NOT_RUN}."
    return (
        "Host checks not run: this plan audit does not judge LUKS, auditd, nftables, TLS and SRTP on the servers; "
        f"{waiting} {'obligations show' if waiting != 1 else 'obligation shows'} NOT-VERIFIED in report.html and matrix.md until "
        "host findings are supplied (avg-voip report --host-findings FILE)."
    )


def _write_auditor_reports(verdict: Verdict, out: Path, stack_path: Path) -> int:
    """Control matrix, processing register and report.html beside the findings (avg_voip.report_cli).

    Returns how many obligations wait for host checks (NOT-VERIFIED in the matrix because none were run).
    """
    try:
        from avg_voip.report_cli import auditor_files, waiting_for_host_checks
    except ModuleNotFoundError as exc:
        if exc.name != "avg_voip.report_cli":
            raise
        return 0
    d, files = auditor_files(verdict, out, stack_path=stack_path, command="avg-voip audit")
    write_together(files)
    return waiting_for_host_checks(d.matrix)


def _severity_of_exit(code: int) -> int:
    return {0: 0, 3: 1, 1: 2, 2: 3}.get(code, 3)


def rule_kinds() -> dict[str, str]:
    """Every rule id the reports cite, with where it is judged: plan, host, manual or generated."""
    from avg_voip.matrix import REGISTER_META, catalogue
    from policies.engine import all_rules
    from policies.manual import MANUAL_RULES

    plan = {r.meta.id for r in all_rules()}
    manual = {m.id for m in MANUAL_RULES}
    kinds = {}
    for rule_id in catalogue():
        if rule_id in plan:
            kinds[rule_id] = "plan"
        elif rule_id in manual:
            kinds[rule_id] = "manual"
        elif rule_id == REGISTER_META.id:
            kinds[rule_id] = "generated"
        else:
            kinds[rule_id] = "host"
    return kinds


def cmd_rules(args: argparse.Namespace) -> int:
    from avg_voip.matrix import catalogue

    metas, kinds = catalogue(), rule_kinds()
    if args.id is not None:
        meta = metas.get(args.id)
        if meta is None:
            raise ProfileError("--id", f"unknown rule {args.id!r}; `avg-voip rules` lists them")
        metas = {meta.id: meta}
    if args.format == "json":
        doc = [{**m.to_dict(), "judged": kinds[m.id]} for m in sorted(metas.values(), key=lambda m: m.id)]
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    if args.id is not None:
        m = metas[args.id]
        for label, value in (
            ("rule", m.id),
            ("title", m.title),
            ("judged", kinds[m.id]),
            ("severity", m.severity.value),
            ("AVG art.", ", ".join(m.articles)),
            ("rationale", m.rationale),
            ("remediation", m.remediation),
        ):
            console.print(Text(f"{label}: ", style="bold") + Text(value))
        return 0
    table = Table(title="AVG rule catalogue (avg-voip rules --id ID for rationale and remediation)")
    for col in ("rule", "judged", "severity", "AVG art.", "title"):
        table.add_column(col, overflow="fold")
    for meta in sorted(metas.values(), key=lambda m: m.id):
        values = (meta.id, kinds[meta.id], meta.severity.value, ", ".join(meta.articles), meta.title)
        table.add_row(*(Text(v) for v in values))
    console.print(table)
    return 0


Registrar = Callable[[argparse._SubParsersAction], None]  # type: ignore[type-arg]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="avg-voip", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "render", help="render stacks offline under Pulumi mocks and save the resource records"
    )
    p.add_argument("--stack", help="one stack (default: every Pulumi.<stack>.yaml)")
    p.add_argument("--out", default="reports", help="output directory (default: reports)")
    add_project_argument(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("audit", help="render and judge stacks; write reports/<stack>/")
    p.add_argument("--stack", help="one stack (default: every Pulumi.<stack>.yaml)")
    p.add_argument("--out", default="reports", help="output directory (default: reports)")
    p.add_argument("--show-pass", action="store_true", help="list PASS findings in the terminal table too")
    add_project_argument(p)
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("rules", help="list the rule catalogue: plan rules, host checks, MANUAL obligations")
    p.add_argument("--id", help="one rule, with its rationale and remediation")
    p.add_argument("--format", choices=("table", "json"), default="table", help="table (default) or json")
    p.set_defaults(func=cmd_rules)

    for module in ("avg_voip.check_cli", "avg_voip.lab.cli", "avg_voip.report_cli"):
        register = _optional_register(module)
        if register is not None:
            register(sub)
    return parser


def _optional_register(module: str) -> Registrar | None:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    return getattr(mod, "register", None)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except (UsageError, ProfileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # an output path that cannot be written, a file that cannot be read
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
