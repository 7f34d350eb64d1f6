"""Benchmarks, measured as figures and ratios in one run (never as timed assertions in tests)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from avg_voip.audit import judge
from avg_voip.render import render
from avg_voip.stackconfig import StackConfig, load_stack


def resize(stack: StackConfig, hosts: int) -> StackConfig:
    """The same stack with `hosts` SIP servers; everything else from its profile."""
    profile = stack.profile.model_copy(
        update={"hosts": stack.profile.hosts.model_copy(update={"count": hosts})}
    )
    return dataclasses.replace(stack, profile=profile)


def bench_render(
    sizes: tuple[int, ...] = (1, 10, 100, 1000),
    stacks: tuple[str, ...] = ("mortgage-aws", "healthcare-hcloud"),
) -> list[dict[str, Any]]:
    """Render + evaluate each example stack at each host count; whole-verdict wall time per size."""
    console = Console(width=160)
    rows: list[dict[str, Any]] = []
    for name in stacks:
        base = load_stack(name)
        for n in sizes:
            stack = resize(base, n)
            t0 = time.perf_counter()
            records = render(stack)
            t1 = time.perf_counter()
            verdict = judge(records, stack.profile)
            t2 = time.perf_counter()
            rows.append(
                {
                    "stack": name,
                    "hosts": n,
                    "resources": len(records.records),
                    "findings": len(verdict.findings),
                    "render_s": t1 - t0,
                    "evaluate_s": t2 - t1,
                    "total_s": t2 - t0,
                }
            )
    table = Table(title="render + evaluate per stack size (wall time)")
    for col in (
        "stack",
        "hosts",
        "resources",
        "findings",
        "render s",
        "evaluate s",
        "total s",
        "resources/s",
        "eval µs/resource",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            Text(r["stack"]),
            str(r["hosts"]),
            str(r["resources"]),
            str(r["findings"]),
            f"{r['render_s']:.2f}",
            f"{r['evaluate_s']:.3f}",
            f"{r['total_s']:.2f}",
            f"{r['resources'] / r['total_s']:.0f}",
            f"{1e6 * r['evaluate_s'] / r['resources']:.1f}",
        )
    console.print(table)
    return rows
