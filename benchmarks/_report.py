"""Reporting shared by the benchmarks: progress, medians, goals and the comparison table.

Every benchmark prints the same table: one row per operation, with the limit
(what the bare tool does for the same work), loopml, loopml's ratio to the limit,
loopml's goal and whether it is met, then the peer and its ratio to the limit.
Runs in loopml's virtualenv only (``rich``); the peer scripts never import it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
Times = dict[str, list[float]]


def say(text: str) -> None:
    """Progress, to stderr (the table goes to stdout)."""
    print(text, file=sys.stderr, flush=True)


def parse_args(
    doc: str, argv: list[str] | None, *, peer: str, quick_help: str, repeat_help: str
) -> argparse.Namespace:
    """``--quick``, ``--skip-<peer>`` and ``--repeat N`` (at least 1)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument(f"--skip-{peer.lower()}", action="store_true", help=f"leave {peer} out")
    parser.add_argument("--repeat", type=int, help=repeat_help)
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def default_settings() -> None:
    """One thread per BLAS, and no ``LOOPML_*`` variable: loopml runs with its defaults."""
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in [n for n in os.environ if n.startswith("LOOPML_")]:
        del os.environ[name]


def summarise(times: Times) -> dict[str, float]:
    """The median of each measurement that has samples."""
    return {key: statistics.median(values) for key, values in times.items() if values}


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the table: ``key`` of the values, and how to show and judge them."""

    key: str
    label: str
    ratio: bool = True  # a ratio to the limit makes sense
    speedup: bool = False  # the values are speedups (x), not seconds
    goal: Callable[[float, float], bool] | None = None  # (loopml, limit or nan) -> met
    goal_text: str = ""


@dataclasses.dataclass(frozen=True)
class Columns:
    """The table's title and the names of its limit and peer columns."""

    title: str
    limit: str  # "raw sqlite3"
    ratio: str  # "x raw"
    peer: str  # "MLflow 3.17.2"
    width: int  # the console's width when stdout is a file or a pipe


def peer_column(name: str, result: dict[str, Any] | None) -> str:
    """The peer's column title: its name, and its version once it ran."""
    return f"{name} {result['version']}" if result and "version" in result else name


def peer_left_out(name: str, result: dict[str, Any] | None) -> str | None:
    """The note saying why the peer's column is empty, or None if the peer ran."""
    if result is None:
        return f"{name} skipped (--skip-{name.lower()})."
    if "unavailable" in result:
        return f"{name} left out: {result['unavailable']}"
    return None


def evaluate(
    rows: list[Row],
    loopml: dict[str, float],
    limit: dict[str, float] | None = None,
    *,
    limit_key: str = "raw",
) -> dict[str, Any]:
    """loopml's goals: each with its value, met or not (and the limit's value, if given)."""
    goals = {}
    for row in rows:
        if row.goal is None or row.key not in loopml:
            continue
        value = loopml[row.key]
        goal: dict[str, Any] = {"goal": row.goal_text, "value": value}
        bound = float("nan")
        if limit is not None:
            goal[limit_key] = limit.get(row.key)
            bound = limit.get(row.key, bound)
        goal["met"] = bool(row.goal(value, bound))
        goals[row.key] = goal
    return goals


def fmt(value: float | None, row: Row) -> str:
    if value is None:
        return "-"
    if row.speedup:
        return f"{value:.2f}x"
    if value < 1e-3:
        return f"{value * 1e6:.1f} us"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def fmt_ratio(
    value: float | None, limit: float | None, row: Row, *, whole_from: float = math.inf
) -> str:
    """``value / limit`` as ``2.3x``; from ``whole_from`` on without decimals (``1,234x``)."""
    if value is None or limit is None or not row.ratio:
        return "-"
    ratio = value / limit
    return f"{ratio:,.0f}x" if ratio >= whole_from else f"{ratio:.1f}x"


def print_table(
    columns: Columns,
    rows: list[Row],
    limit: dict[str, float],
    loopml: dict[str, float],
    peer: dict[str, float],
    goals: dict[str, Any],
    notes: list[str],
    *,
    peer_marked: Collection[str] = (),
    whole_ratio_from: float = math.inf,
) -> None:
    """The comparison table on stdout, then the notes; rows no system has are left out.

    ``peer_marked``: keys whose peer value gets a `` *`` (explained in a note).
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title=columns.title)
    table.add_column("operation")
    table.add_column(columns.limit, justify="right")
    table.add_column("loopml", justify="right")
    table.add_column(columns.ratio, justify="right")
    table.add_column("loopml goal")
    table.add_column("met", justify="center")
    table.add_column(columns.peer, justify="right")
    table.add_column(columns.ratio, justify="right")
    for row in rows:
        if not any(row.key in system for system in (limit, loopml, peer)):
            continue
        goal = goals.get(row.key)
        met = "-" if goal is None else ("[green]yes[/]" if goal["met"] else "[red]NO[/]")
        peer_text = fmt(peer.get(row.key), row)
        if row.key in peer_marked:
            peer_text += " *"
        base = limit.get(row.key)
        table.add_row(
            row.label,
            fmt(base, row),
            fmt(loopml.get(row.key), row),
            fmt_ratio(loopml.get(row.key), base, row, whole_from=whole_ratio_from),
            row.goal_text or "-",
            met,
            peer_text,
            fmt_ratio(peer.get(row.key), base, row, whole_from=whole_ratio_from),
        )
    # Wide enough for the table when the output is a file or a pipe.
    console = Console(width=None if sys.stdout.isatty() else columns.width)
    console.print(table)
    for note in notes:
        console.print(f"  {note}", highlight=False)


def results_file(benchmark: str, started: float) -> tuple[str, Path, str]:
    """(UTC stamp, ``results/<benchmark>-<stamp>.json``, the note that says it is saved)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{benchmark}-{stamp}.json"
    note = f"saved {path.relative_to(HERE.parent)} ({time.time() - started:.0f} s in all)"
    return stamp, path, note


def machine(**extra: Any) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        **extra,
    }


def write_results(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
