"""`avg-voip check`: judge a stack render, a preview (`pulumi preview --json`) or a state (`pulumi stack export`).

The same exit codes for every input: 0 compliant, 1 violations, 2 bad input, 3 nothing failed but something
could not be verified.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from avg_voip.audit import Verdict, judge


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from avg_voip.cli import add_project_argument

    p = sub.add_parser(
        "check",
        help="judge a stack, a `pulumi preview --json` or a `pulumi stack export`; table, JSON, SARIF or JUnit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--stack",
        help="stack whose profile to judge against (without --input: the stack to render; default: every stack)",
    )
    p.add_argument(
        "--input",
        metavar="FILE",
        help="records.json, preview JSON or stack export (v3) to judge; '-' reads stdin",
    )
    p.add_argument("--format", choices=("table", "json", "sarif", "junit"), default="table")
    p.add_argument("--output", metavar="FILE", help="write the result here instead of stdout")
    p.add_argument("--show-pass", action="store_true", help="table: list PASS findings too")
    add_project_argument(p)
    p.set_defaults(func=cmd_check)


def _verdicts(args: argparse.Namespace) -> tuple[list[Verdict], dict[str, str]]:
    from rich.markup import escape

    from avg_voip.cli import UsageError, console, load_stacks, project_dir
    from avg_voip.formats import location_for
    from avg_voip.render import RenderError, render
    from avg_voip.stackconfig import load_stack

    root = project_dir(args)
    if args.input:
        from avg_voip.inputs import load_input, require_stack

        profile = load_stack(args.stack, root).profile if args.stack else None
        records = load_input(args.input)
        if args.stack:  # as `report --records`: never one stack's resources against another's profile
            require_stack(records, args.stack, "--input", "stdin" if args.input == "-" else args.input)
        fallback = None if args.input == "-" else _relative(Path(args.input), root)
        verdict = judge(records, profile)
        where = location_for(args.stack or records.stack, root, fallback)
        return [verdict], {verdict.stack: where} if where else {}
    verdicts = []
    for stack in load_stacks(args):
        with console.status(f"rendering {escape(stack.name)} and evaluating the rules"):
            try:
                records = render(stack)
            except RenderError as exc:
                raise UsageError(f"{stack.name}: {exc}") from None
            verdicts.append(judge(records, stack.profile))
    return verdicts, {v.stack: loc for v in verdicts if (loc := location_for(v.stack, root))}


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def _check_output(output: str | None) -> None:
    """--output names a file in a directory that exists; nothing is judged or written otherwise."""
    from avg_voip.cli import UsageError

    if not output:
        return
    path = Path(output)
    if path.is_dir():
        raise UsageError(f"--output: {path} is a directory; name a file")
    if not path.parent.is_dir():
        raise UsageError(
            f"--output: directory {path.parent} does not exist; --output names a file in one that does"
        )


def cmd_check(args: argparse.Namespace) -> int:
    from avg_voip.cli import _severity_of_exit

    _check_output(args.output)
    verdicts, locations = _verdicts(args)
    text = _render(verdicts, locations, args)
    if text is not None:
        if args.output:
            from avg_voip.audit import _atomic_write

            _atomic_write(Path(args.output), text)
        else:
            sys.stdout.write(text)
    return max((v.exit_code for v in verdicts), key=_severity_of_exit)


def _render(verdicts: list[Verdict], locations: dict[str, str], args: argparse.Namespace) -> str | None:
    from avg_voip import formats

    if args.format == "json":
        return formats.to_json(verdicts)
    if args.format == "sarif":
        return formats.to_sarif(verdicts, locations)
    if args.format == "junit":
        return formats.to_junit(verdicts)
    from avg_voip import cli

    if not args.output:
        for v in verdicts:
            cli.print_verdict(v, show_pass=args.show_pass)
        return None
    from rich.console import Console

    with open(os.devnull, "w") as sink:
        plain = Console(file=sink, record=True, width=160, color_system=None)
        saved, cli.console = cli.console, plain
        try:
            for v in verdicts:
                cli.print_verdict(v, show_pass=args.show_pass)
        finally:
            cli.console = saved
    return plain.export_text()
