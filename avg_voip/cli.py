"""avg-voip: render stacks offline and judge them against the AVG rule catalogue.

Exit codes: 0 compliant, 1 violations, 2 bad input, 3 nothing failed but something could not be verified.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from avg_voip.audit import EXIT_BAD_INPUT, Verdict, judge, rule_catalogue, write_reports
from avg_voip.profile import ProfileError
from avg_voip.stackconfig import list_stacks, load_stack, project_root

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)

STATUS_STYLE = {"PASS": "green", "FAIL": "bold red", "NOT-VERIFIED": "yellow", "MANUAL": "cyan"}


class UsageError(Exception):
    """Bad input named by key; printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(message)


def _stacks(args: argparse.Namespace) -> list[str]:
    names = [args.stack] if getattr(args, "stack", None) else list_stacks()
    if not names:
        raise UsageError(f"--stack: no Pulumi.<stack>.yaml files in {project_root()}")
    return names


def _render_stack(name: str):  # type: ignore[no-untyped-def]
    from avg_voip.render import render

    stack = load_stack(name)
    return stack, render(stack)


def cmd_render(args: argparse.Namespace) -> int:
    import json

    import yaml

    from avg_voip.audit import _atomic_write

    for name in _stacks(args):
        with console.status(f"rendering {name} under Pulumi mocks"):
            _, records = _render_stack(name)
        out = Path(args.out) / name
        _atomic_write(out / "records.json", json.dumps(records.to_dict(), indent=2, sort_keys=True) + "\n")
        if isinstance(records.outputs.get("inventory"), dict):
            _atomic_write(out / "ansible" / "inventory.yml", yaml.safe_dump(records.outputs["inventory"]))
        if isinstance(records.outputs.get("hostvars"), dict):
            _atomic_write(out / "ansible" / "hostvars.yml", yaml.safe_dump(records.outputs["hostvars"]))
        console.print(f"{name}: {len(records.records)} resources -> {out}/records.json")
    return 0


def print_verdict(verdict: Verdict, show_pass: bool = False) -> None:
    catalogue = rule_catalogue()
    table = Table(title=f"AVG verdict: {verdict.stack}", show_lines=False)
    for col in ("status", "rule", "AVG art.", "target", "finding"):
        table.add_column(col, overflow="fold")
    order = {"FAIL": 0, "NOT-VERIFIED": 1, "MANUAL": 2, "PASS": 3}
    for f in sorted(verdict.findings, key=lambda f: (order[f.status.value], f.sort_key())):
        if f.status.value == "PASS" and not show_pass:
            continue
        meta = catalogue.get(f.rule_id)
        target = f.target.split("::")[-1] if f.target.startswith("urn:") else f.target
        table.add_row(
            f"[{STATUS_STYLE[f.status.value]}]{f.status.value}[/]",
            f.rule_id,
            ", ".join(meta.articles) if meta else "",
            target,
            f.message,
        )
    console.print(table)
    c = verdict.counts
    console.print(
        f"[green]{c['PASS']} PASS[/]  [red]{c['FAIL']} FAIL[/]  [yellow]{c['NOT-VERIFIED']} NOT-VERIFIED[/]  "
        f"[cyan]{c['MANUAL']} MANUAL[/]  ({len(verdict.records.records)} resources)"
    )


def cmd_audit(args: argparse.Namespace) -> int:
    worst = 0
    for name in _stacks(args):
        with console.status(f"rendering {name} and evaluating the rules"):
            stack, records = _render_stack(name)
            verdict = judge(records, stack.profile)
        out = Path(args.out) / name
        write_reports(verdict, out)
        print_verdict(verdict, show_pass=args.show_pass)
        console.print(f"reports: {out}/\n")
        worst = max(worst, verdict.exit_code, key=_severity_of_exit)
    return worst


def _severity_of_exit(code: int) -> int:
    return {0: 0, 3: 1, 1: 2, 2: 3}.get(code, 3)


def cmd_rules(args: argparse.Namespace) -> int:
    table = Table(title="AVG rule catalogue")
    for col in ("rule", "severity", "AVG art.", "title"):
        table.add_column(col, overflow="fold")
    for meta in rule_catalogue().values():
        table.add_row(meta.id, meta.severity.value, ", ".join(meta.articles), meta.title)
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
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("audit", help="render and judge stacks; write reports/<stack>/")
    p.add_argument("--stack", help="one stack (default: every Pulumi.<stack>.yaml)")
    p.add_argument("--out", default="reports", help="output directory (default: reports)")
    p.add_argument("--show-pass", action="store_true", help="list PASS findings in the terminal table too")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("rules", help="list the rule catalogue")
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
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err_console.print("interrupted", markup=False)
        return 130


if __name__ == "__main__":
    sys.exit(main())
