"""``loopml predict MODEL@ALIAS --input data.parquet --output out.parquet``: batch scoring.

The input is streamed in chunks (see :mod:`loopml.serving.batch`); a progress
bar counts rows on stderr and the summary goes to stdout. Bad input (a
missing column, a wrong type, an unreadable file) is one red line and exit 2,
and the output is then left as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loopml.cli import console
from loopml.cli.state import open_workspace

if TYPE_CHECKING:
    from loopml.serving.batch import BatchSummary

DEFAULT_CHUNK_ROWS = 50_000  # loopml.serving.batch.DEFAULT_CHUNK_ROWS, without importing it


def predict(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Argument(help="The model: NAME@ALIAS, NAME:VERSION or NAME (latest).")
    ],
    input: Annotated[
        Path, typer.Option("--input", "-i", help="A Parquet or CSV file, or a Parquet folder.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The Parquet file (or folder) to write.")
    ],
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1, help="Rows scored per predict call.")
    ] = DEFAULT_CHUNK_ROWS,
    columns: Annotated[
        list[str] | None,
        typer.Option("--column", "-c", help="An input column to copy to the output (repeatable)."),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            help="Score parts in parallel on this executor (process, ray, dask...); "
            "the output is then a folder of Parquet parts.",
        ),
    ] = None,
) -> None:
    """Score a dataset with a registered model and write the predictions as Parquet."""
    from loopml.serving import batch

    with open_workspace(ctx) as workspace, _progress(input) as advance:
        if executor is None:
            summary = batch.predict_batch(
                model,
                input,
                output,
                chunk_rows=chunk_rows,
                columns=columns,
                workspace=workspace,
                progress=advance,
            )
        else:
            summary = batch.predict_batch_distributed(
                model,
                input,
                output,
                executor=executor,
                chunk_rows=chunk_rows,
                columns=columns,
                workspace=workspace,
                progress=advance,
            )
    _print_summary(summary)


@contextlib.contextmanager
def _progress(source: Path) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr counting rows (with the total when Parquet tells it)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=console.err(),
    )
    task = bar.add_task("scoring", total=_rows(source))
    with bar:
        yield lambda rows: bar.advance(task, rows)


def _rows(source: Path) -> int | None:
    """The input's row count from Parquet footers (no data read), or None."""
    import pyarrow.dataset as pads

    if not source.exists() or source.suffix.lower() == ".csv":
        return None
    try:
        return int(pads.dataset(str(source), format="parquet").count_rows())
    except Exception:  # the scoring itself reports what is wrong with the input
        return None


def _print_summary(summary: BatchSummary) -> None:
    from rich.table import Table

    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_row("model", f"{summary.model} version {summary.version}")
    table.add_row("rows", f"{summary.rows:,}")
    table.add_row("chunks", str(summary.chunks))
    table.add_row("output", summary.output)
    table.add_row("columns", ", ".join(summary.columns))
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    table.add_row("time", f"{console.duration(summary.seconds)} ({rate:,.0f} rows/s)")
    console.out().print(table)
