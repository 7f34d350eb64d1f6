"""`avg-voip lab up|converge|verify|reboot|down|demo|status`: the local lab from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from avg_voip.lab import config
from avg_voip.lab.config import LabPaths
from avg_voip.lab.system import LabError, LabUnavailable, unavailable_reason


def register(subparsers: Any) -> None:
    """Add the `lab` subcommand to the avg-voip command line."""
    lab = subparsers.add_parser(
        "lab",
        help="boot real Debian 12 SIP hosts, converge them with the playbook and verify them",
        description="Local lab: Debian 12 hosts under systemd-nspawn, each in its own network namespace.",
    )
    sub = lab.add_subparsers(dest="lab_command", required=True, metavar="COMMAND")

    def stack_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stack", default=config.DEFAULT_STACK, help="example stack the lab is built from")

    p = sub.add_parser("up", help="build or reuse the rootfs, start the apt proxy, boot the hosts")
    stack_arg(p)
    p.add_argument("--rebuild-rootfs", action="store_true", help="rebuild the cached rootfs first")
    p.add_argument("--no-render", action="store_true", help="use the existing render in reports/<stack>/")
    p = sub.add_parser("converge", help="run ansible/site.yml twice; the second run must change nothing")
    p.add_argument("--runs", type=int, default=2, help="number of playbook runs (default 2)")
    sub.add_parser("verify", help="host policies (testinfra) and independent probes; writes the findings")
    sub.add_parser("reboot", help="reboot every lab host and check services and firewall come back")
    sub.add_parser("down", help="stop and remove every host, namespace, link and proxy of the lab")
    sub.add_parser("status", help="what the lab has running")
    p = sub.add_parser(
        "demo", help="the whole flow: render, plan rules, up, converge, verify, reboot, report, down"
    )
    stack_arg(p)
    p.add_argument("--keep", action="store_true", help="leave the hosts running at the end")
    p.add_argument("--rebuild-rootfs", action="store_true", help="rebuild the cached rootfs first")
    lab.set_defaults(func=main)


def lab_log(console: Any) -> Callable[[str], None]:
    """A progress line printer: the message is text (finding messages, targets), never rich markup."""
    from rich.text import Text

    def log(msg: str) -> None:
        console.print(Text.assemble(("lab", "bold cyan"), " ", msg))

    return log


def main(args: argparse.Namespace) -> int:
    from rich.console import Console

    log = lab_log(Console(stderr=True, highlight=False, soft_wrap=True))
    cmd = args.lab_command
    if cmd not in ("down", "status"):
        reason = unavailable_reason()
        if reason:
            print(f"avg-voip lab: {reason}", file=sys.stderr)
            return 2
    paths = LabPaths.default()
    try:
        return _dispatch(cmd, args, paths, log)
    except LabUnavailable as exc:
        print(f"avg-voip lab: {exc}", file=sys.stderr)
        return 2
    except LabError as exc:
        print(f"avg-voip lab {cmd}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"avg-voip lab {cmd}: interrupted", file=sys.stderr)
        return 130


def _dispatch(cmd: str, args: argparse.Namespace, paths: LabPaths, log: Any) -> int:
    from avg_voip.lab import flow, lifecycle

    if cmd == "down":
        if unavailable_reason() and "root" in (unavailable_reason() or ""):
            raise LabUnavailable(unavailable_reason() or "")
        done = lifecycle.down(paths, log)
        log("nothing to remove" if not done else f"removed {len(done)} resources")
        return 0
    if cmd == "status":
        from avg_voip.lab.state import LabState

        print(json.dumps(LabState().data, indent=2))
        return 0
    if cmd == "up":
        flow.up(args.stack, paths, log, rebuild_rootfs=args.rebuild_rootfs, render=not args.no_render)
        return 0
    if cmd == "converge":
        runs = flow.converge(paths, log, runs=args.runs)
        return 0 if flow.converge_ok(runs) else 1
    if cmd == "verify":
        result = flow.verify(paths, log)
        return 0 if result.ok else 1
    if cmd == "reboot":
        return 0 if flow.reboot_and_check(paths, log).ok else 1
    if cmd == "demo":
        return flow.demo(args.stack, paths, log, keep=args.keep, rebuild_rootfs=args.rebuild_rootfs)
    raise LabError(f"unknown lab command {cmd}")
