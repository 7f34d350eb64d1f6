"""Auditor deliverables: the AVG control matrix, the Art. 30 register and one self-contained HTML report.

`avg-voip report` writes them per stack (`avg-voip audit` does too); `avg-voip register` writes only the
register. Everything is built in memory first and lands together: bad input writes nothing.
Exit codes: 0 written, 1 written and an obligation FAILs (report only), 2 bad input (nothing written).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from avg_voip.audit import Verdict, judge, write_together
from avg_voip.evidence import (
    Evidence,
    InputFile,
    finding_evidence,
    finding_order,
    git_commit,
    input_file,
    load_host_findings,
    merge_findings,
    profile_sha256,
    records_input,
    run_block,
    stable_json,
    tool_versions,
)
from avg_voip.findings import Finding, Status
from avg_voip.matrix import CONTROLS_PATH, STATUS_ORDER, Matrix, build_matrix, catalogue, matrix_markdown
from avg_voip.profile import ProfileError
from avg_voip.records import RecordSet
from avg_voip.register import build_register, register_finding, require
from avg_voip.residency import CATALOGUE_PATH
from avg_voip.stackconfig import StackConfig, load_stack, stack_file

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Register of processing activities (Art. 30 AVG/GDPR)",
        "stack": "Stack",
        "controller": "Controller",
        "dpo": "Data protection officer",
        "processors": "Processors",
        "agreement": "agreement",
        "activity": "Processing activity",
        "a": "(a) Controller and DPO",
        "b": "(b) Purposes and legal basis",
        "c": "(c) Data subjects and personal data",
        "d": "(d) Recipients",
        "e": "(e) Transfers outside the EU/EEA",
        "f": "(f) Retention",
        "g": "(g) Security measures (as deployed and judged)",
        "subjects": "Data subjects",
        "kind": "kind",
        "special": "special category (Art. 9)",
        "roles": "Internal roles with read access",
        "none_transfers": "None: this activity's data is not transferred outside the EU/EEA",
        "days": "days",
        "rationale": "rationale",
        "generated": "Generated from the compliance profile and the stack's findings; do not edit by hand.",
        "free_text": "Texts quoted from the profile are in the language the profile uses; check results are in English.",
        "not_proven": "Not (yet) proven by a check",
        "profile_hash": "Profile SHA-256",
        "no_host_checks": "Host checks were not part of this audit: measures on the SIP servers themselves "
        "(volume encryption in use, TLS and SRTP answered, patch state) are not judged and not listed here.",
        "sub_processors": "sub-processors",
    },
    "nl": {
        "title": "Register van verwerkingsactiviteiten (art. 30 AVG)",
        "stack": "Stack",
        "controller": "Verwerkingsverantwoordelijke",
        "dpo": "Functionaris gegevensbescherming",
        "processors": "Verwerkers",
        "agreement": "verwerkersovereenkomst",
        "activity": "Verwerkingsactiviteit",
        "a": "(a) Verwerkingsverantwoordelijke en FG",
        "b": "(b) Doeleinden en grondslag",
        "c": "(c) Betrokkenen en persoonsgegevens",
        "d": "(d) Ontvangers",
        "e": "(e) Doorgifte buiten de EU/EER",
        "f": "(f) Bewaartermijnen",
        "g": "(g) Beveiligingsmaatregelen (zoals uitgerold en beoordeeld)",
        "subjects": "Betrokkenen",
        "kind": "soort",
        "special": "bijzondere persoonsgegevens (art. 9)",
        "roles": "Interne rollen met leestoegang",
        "none_transfers": "Geen: de gegevens van deze activiteit gaan niet buiten de EU/EER",
        "days": "dagen",
        "rationale": "onderbouwing",
        "generated": "Gegenereerd uit het complianceprofiel en de bevindingen van de stack; niet met de hand bewerken.",
        "free_text": "Teksten uit het profiel staan in de taal van het profiel; uitkomsten van controles in het Engels.",
        "not_proven": "(Nog) niet aangetoond door een controle",
        "profile_hash": "SHA-256 van het profiel",
        "no_host_checks": "De controles op de servers zelf waren geen deel van deze audit: maatregelen op de "
        "SIP-servers (versleuteling van het volume in gebruik, TLS en SRTP, patchstatus) zijn niet beoordeeld "
        "en staan hier niet.",
        "sub_processors": "subverwerkers",
    },
}


@dataclass
class Deliverables:
    """Everything one stack's auditor documents say, built before anything is written."""

    stack: str
    matrix: Matrix
    register: dict[str, Any]
    evidence: Evidence
    findings: list[Finding]
    run: dict[str, str]
    verdict: Verdict


# Bidirectional-text controls can make a document show other text than it holds; they are shown, not obeyed.
_BIDI = {cp: f"[U+{cp:04X}]" for cp in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_MD_SPECIAL = str.maketrans({"<": "&lt;", ">": "&gt;", "&": "&amp;", "|": "\\|", "\n": " ", "\r": " "})


def _visible(value: Any) -> Any:
    """Every value a template prints: bidi controls made visible."""
    return value.translate(_BIDI) if isinstance(value, str) else value


def _markdown_text(value: Any) -> Any:
    """Profile text printed into Markdown: no raw HTML, no table breaks, one line, bidi controls visible."""
    return value.translate(_BIDI).translate(_MD_SPECIAL) if isinstance(value, str) else value


def _env(markdown: bool = False) -> Environment:
    return Environment(
        loader=PackageLoader("avg_voip", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_markdown_text if markdown else _visible,
    )


def stack_hosts(records: RecordSet) -> tuple[str, ...]:
    """The SIP hosts of the stack, from its inventory output."""
    inv = records.outputs.get("inventory")
    try:
        return tuple(sorted(inv["all"]["children"]["sip_servers"]["hosts"]))  # type: ignore[index]
    except (KeyError, TypeError):
        return ()


def check_host_findings(host_findings: list[Finding], hosts: tuple[str, ...]) -> None:
    """Every host finding names a host check we know and a host of this stack; else one line, exit 2.

    A plan rule or MANUAL obligation marked as a host finding is refused: this audit judges those itself.
    """
    from avg_voip.audit import rule_catalogue
    from avg_voip.matrix import REGISTER_META, catalogue

    known = catalogue()
    judged_here = {*rule_catalogue(), REGISTER_META.id}  # plan rules, MANUAL obligations, the register
    for f in host_findings:
        # Named by rule and target: a combined file's plan findings are skipped, so a list index would mislead.
        where = f"--host-findings: finding {f.rule_id} on {f.target}"
        if f.rule_id in judged_here:
            raise ProfileError(
                f"{where}: rule_id",
                f"{f.rule_id} is a plan rule or MANUAL obligation, not a host check; only host checks "
                "(policies/host/) are read from this file (or mark the finding with source 'plan')",
            )
        if f.rule_id not in known:
            raise ProfileError(
                f"{where}: rule_id",
                f"unknown check {f.rule_id!r}; only host checks (policies/host/) are read from this file",
            )
        if hosts and f.target.startswith("host:") and f.target[5:] not in hosts:
            raise ProfileError(
                f"{where}: target",
                f"{f.target} is not a host of this stack (hosts: {', '.join(hosts)})",
            )


def build_deliverables(
    verdict: Verdict,
    *,
    host_findings: list[Finding] | None = None,
    inputs: list[InputFile] | None = None,
    command: str = "avg-voip report",
) -> Deliverables:
    """Matrix, register and evidence for one verdict. Raises ProfileError when the register cannot be made."""
    profile = require(verdict.profile)
    hosts = stack_hosts(verdict.records)
    if host_findings:
        check_host_findings(host_findings, hosts)
    findings = merge_findings(verdict.findings, host_findings or [])
    register = build_register(profile, verdict.stack, findings, host_checks_run=host_findings is not None)
    generated = {"register": register_finding(register, verdict.stack)}
    matrix = build_matrix(
        verdict.stack,
        findings,
        profile,
        host_checks_run=host_findings is not None,
        generated=generated,
        hosts=hosts,
    )
    files = list(inputs or [])
    files.append(records_input(verdict.records))
    evidence = Evidence(
        stack=verdict.stack,
        profile_sha256=profile_sha256(profile),
        git_commit=git_commit(),
        tools=tool_versions(),
        inputs=tuple(files),
        source=verdict.records.source,
        host_checks_run=host_findings is not None,
    )
    return Deliverables(verdict.stack, matrix, register, evidence, findings, run_block(command), verdict)


def standard_inputs(stack: str, stack_path: Path | None = None) -> list[InputFile]:
    """The files every audit reads: the stack config, the residency catalogue and the control matrix."""
    out = [
        input_file(CATALOGUE_PATH, "residency catalogue"),
        input_file(CONTROLS_PATH, "control matrix"),
    ]
    path = stack_path
    if path is None:
        try:
            path = stack_file(stack)
        except ProfileError:
            path = None
    if path is not None and path.is_file():
        out.append(input_file(path, "stack config"))
    return out


def register_files(d: Deliverables, out_dir: Path) -> dict[Path, str]:
    env = _env(markdown=True)
    doc = {**d.register, "generated_from": _provenance(d)}
    files = {out_dir / "register.json": stable_json(doc)}
    for lang in ("en", "nl"):
        text = env.get_template("register.md.j2").render(r=doc, t=LABELS[lang], lang=lang)
        files[out_dir / f"register.{lang}.md"] = text
    return files


def _provenance(d: Deliverables) -> dict[str, str]:
    return {"profile_sha256": d.evidence.profile_sha256, "git_commit": d.evidence.git_commit}


def evidence_document(d: Deliverables) -> dict[str, Any]:
    counts = {s.value: 0 for s in STATUS_ORDER}
    for f in d.findings:
        counts[f.status.value] += 1
    return {
        "run": d.run,
        "evidence": d.evidence.to_dict(),
        "summary": counts,
        "findings": [finding_evidence(f) for f in sorted(d.findings, key=finding_order)],
    }


def report_files(d: Deliverables, out_dir: Path) -> dict[Path, str]:
    """Every auditor file of one stack, as text, keyed by path."""
    matrix_doc = {**d.matrix.to_dict(), "evidence": d.evidence.to_dict(files_only=True)}
    files = {
        out_dir / "matrix.json": stable_json(matrix_doc),
        out_dir / "matrix.md": matrix_markdown(d.matrix),
        out_dir / "evidence.json": stable_json(evidence_document(d)),
    }
    files.update(register_files(d, out_dir))
    files[out_dir / "report.html"] = render_html(d)
    return files


def waiting_for_host_checks(matrix: Matrix) -> int:
    """Obligations that are NOT-VERIFIED while host checks they depend on were not run (0 once they were)."""
    if matrix.host_checks_run:
        return 0
    return sum(
        1 for r in matrix.rows if r.status is Status.NOT_VERIFIED and any(c.kind == "host" for c in r.checks)
    )


def render_html(d: Deliverables) -> str:
    metas = catalogue()
    by_status = {s.value: [f for f in d.findings if f.status is s] for s in STATUS_ORDER}
    finding_counts = {k: len(v) for k, v in by_status.items()}
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            d=d,
            matrix=d.matrix,
            register=d.register,
            evidence=d.evidence.to_dict(),
            run=d.run,
            by_status=by_status,
            finding_counts=finding_counts,
            waiting_for_hosts=waiting_for_host_checks(d.matrix),
            statuses=[s.value for s in STATUS_ORDER],
            metas=metas,
            profile=d.verdict.profile,
            t=LABELS["en"],
            show=_show,
            short=_short,
        )
    )


def _short(target: str) -> str:
    return target.rsplit("::", 1)[-1] if target.startswith("urn:") else target


def _show(value: Any) -> str:
    """Observed and expected values as compact, stable text."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def auditor_files(
    verdict: Verdict,
    out_dir: Path,
    *,
    host_findings: list[Finding] | None = None,
    inputs: list[InputFile] | None = None,
    stack_path: Path | None = None,
    only_register: bool = False,
    command: str = "avg-voip report",
) -> tuple[Deliverables, dict[Path, str]]:
    """Matrix, register (nl/en, Markdown/JSON), evidence and report.html for one stack, as text by path."""
    files_in = standard_inputs(verdict.stack, stack_path) + list(inputs or [])
    d = build_deliverables(verdict, host_findings=host_findings, inputs=files_in, command=command)
    return d, register_files(d, out_dir) if only_register else report_files(d, out_dir)


def write_auditor_reports(verdict: Verdict, out_dir: Path, **options: Any) -> list[Path]:
    """Build and write one stack's auditor files together (options as for auditor_files)."""
    _, files = auditor_files(verdict, out_dir, **options)
    return write_together(files)


# -- command line ----------------------------------------------------------------------------------------


def _selected_stacks(args: argparse.Namespace) -> list[StackConfig]:
    """Every selected stack, validated for the register before any is rendered: bad input writes nothing."""
    from avg_voip.cli import load_stacks

    if args.stack_file:
        if args.project:
            raise ProfileError("--stack-file", "names one stack file; leave out --project")
        path = Path(args.stack_file)
        if not path.is_file():
            raise ProfileError("--stack-file", f"{path} is not a file (a Pulumi.<stack>.yaml)")
        named = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if args.stack and path.name == f"Pulumi.{named}.yaml" and args.stack != named:
            raise ProfileError(
                "--stack",
                f"{args.stack!r} is not the stack of --stack-file {path.name} ({named!r}); "
                "leave out --stack or name the same stack",
            )
        stacks = [load_stack(args.stack or named, path=path)]
    else:
        stacks = load_stacks(args)
    if args.records and len(stacks) > 1:
        raise ProfileError("--records", "belongs to one stack; name it with --stack")
    for stack in stacks:
        require(stack.profile)
    return stacks


def _records(stack: StackConfig, records_file: str | None) -> tuple[RecordSet, list[InputFile]]:
    if records_file:
        from avg_voip.inputs import load_input, require_stack

        path = Path(records_file)
        records = load_input(path, "--records")  # the same reader, checks and errors as `check --input`
        require_stack(records, stack.name, "--records", path)
        return records, [input_file(path, "resource records file")]
    from avg_voip.render import RenderError, render

    try:
        return render(stack), []
    except RenderError as exc:
        raise ProfileError(stack.name, str(exc)) from None


@dataclass
class HostFindings:
    """A host findings file: its findings, the file as an input, and the stack it names (the lab's files do)."""

    findings: list[Finding]
    inputs: list[InputFile]
    stack: str | None


def _host(args: argparse.Namespace) -> HostFindings | None:
    if not args.host_findings:
        return None
    path = Path(args.host_findings)
    try:
        findings = load_host_findings(path)
    except ValueError as exc:
        raise ProfileError("--host-findings", str(exc)) from None
    doc = json.loads(path.read_text(encoding="utf-8"))  # read above: valid JSON
    stack = doc.get("stack") if isinstance(doc, dict) else None
    if stack is not None and not isinstance(stack, str):
        raise ProfileError("--host-findings: stack", "must be the name of a stack (a string)")
    return HostFindings(findings, [input_file(path, "host findings")], stack)


def _host_for(host: HostFindings | None, stacks: list[StackConfig], path: str) -> str | None:
    """The one stack the host findings belong to; refuses a file that would be applied to several stacks."""
    if host is None:
        return None
    names = [s.name for s in stacks]
    if host.stack is not None:
        if host.stack not in names:
            selected = repr(names[0]) if len(names) == 1 else f"any of {', '.join(names)}"
            raise ProfileError("--host-findings", f"{path} holds stack {host.stack!r}, not {selected}")
        return host.stack
    if len(names) > 1:
        raise ProfileError(
            "--host-findings",
            f"{path} names no stack and {len(names)} stacks are selected; name one with --stack",
        )
    return names[0]


def _run(args: argparse.Namespace, only_register: bool) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)  # paths stay whole, one line each
    host = _host(args)
    stacks = _selected_stacks(args)
    host_stack = _host_for(host, stacks, args.host_findings)
    built: list[tuple[Deliverables, dict[Path, str]]] = []
    for stack in stacks:
        with console.status(f"{escape(stack.name)}: judging the stack and building the documents"):
            records, record_inputs = _records(stack, args.records)
            mine = host if host is not None and stack.name == host_stack else None
            built.append(
                auditor_files(
                    judge(records, stack.profile),
                    Path(args.out) / stack.name,
                    host_findings=mine.findings if mine else None,
                    inputs=(mine.inputs if mine else []) + record_inputs,
                    stack_path=stack.path,
                    only_register=only_register,
                    command="avg-voip register" if only_register else "avg-voip report",
                )
            )
    written = write_together({path: text for _, files in built for path, text in files.items()})
    worst = 0
    for d, files in built:
        c = d.matrix.counts
        if not only_register:
            console.print(
                f"{escape(d.stack)}: obligations [green]{c['PASS']} PASS[/]  [red]{c['FAIL']} FAIL[/]  "
                f"[yellow]{c['NOT-VERIFIED']} NOT-VERIFIED[/]  [cyan]{c['MANUAL']} MANUAL[/]"
            )
            worst = 1 if c["FAIL"] else worst
        console.print(Text(f"{d.stack}: " + ", ".join(str(p) for p in sorted(files) if p in written)))
    return worst


def cmd_report(args: argparse.Namespace) -> int:
    return _run(args, only_register=False)


def cmd_register(args: argparse.Namespace) -> int:
    return _run(args, only_register=True)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stack", help="one stack (default: every Pulumi.<stack>.yaml)")
    p.add_argument("--stack-file", help="a stack config file outside the project (Pulumi.<stack>.yaml)")
    p.add_argument("--records", help="resource records (records.json) to judge instead of rendering")
    p.add_argument(
        "--host-findings", help="host findings (JSON) to merge; without it host checks are NOT-VERIFIED"
    )
    p.add_argument("--out", default="reports", help="output directory (default: reports)")
    from avg_voip.cli import add_project_argument

    add_project_argument(p)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "report", help="control matrix, processing register and HTML report per stack (reports/<stack>/)"
    )
    _common(p)
    p.set_defaults(func=cmd_report)
    p = subparsers.add_parser("register", help="only the Art. 30 processing register (nl/en, Markdown/JSON)")
    _common(p)
    p.set_defaults(func=cmd_register)


__all__ = [
    "Deliverables",
    "auditor_files",
    "build_deliverables",
    "register",
    "render_html",
    "write_auditor_reports",
    "write_together",
]
