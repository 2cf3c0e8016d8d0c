"""``loopml runs``: list, show and compare tracked runs."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from loopml.cli import console
from loopml.cli.state import open_workspace
from loopml.core.errors import InvalidInputError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from loopml.metadata import Execution, Metric
    from loopml.workspace import Workspace

app = typer.Typer(
    help="List, show, compare and resume runs (tracked runs and pipeline runs).",
    no_args_is_help=True,
)


class RunKind(enum.StrEnum):
    """What ``runs list --kind`` lists."""

    RUN = "run"
    PIPELINE = "pipeline"
    ALL = "all"


KIND_TYPES = {
    RunKind.RUN: ("run",),
    RunKind.PIPELINE: ("pipeline",),
    RunKind.ALL: ("run", "pipeline"),
}

MAX_METRIC_COLUMNS = 4
DIFF_STYLE = "bold yellow"


def experiment_names(workspace: Workspace) -> dict[str, str]:
    """Map experiment context ids to experiment names."""
    from loopml.tracking import list_experiments

    return {context.id: context.name for context in list_experiments(workspace=workspace)}


def _experiment_of(run: Execution, names: Mapping[str, str]) -> str:
    found = [names[c] for c in run.context_ids if c in names]
    return ", ".join(found) if found else console.MISSING


def pick_metric_columns(runs: Sequence[Execution], wanted: Sequence[str]) -> list[str]:
    """The metric keys to show: those asked for, else the most common ones.

    Metrics measured on held-out data come before ``training_*`` ones.
    """
    if wanted:
        return list(wanted)
    counts = Counter(key for run in runs for key in run.metrics)
    ranked = sorted(counts, key=lambda k: (k.startswith("training_"), -counts[k], k))
    return ranked[:MAX_METRIC_COLUMNS]


@app.command("list")
def list_runs(
    ctx: typer.Context,
    *,
    experiment: Annotated[
        list[str] | None,
        typer.Option("--experiment", "-e", help="Only runs of this experiment (repeatable)."),
    ] = None,
    filter: Annotated[
        str,
        typer.Option(
            "--filter",
            "-f",
            help="A filter such as \"metrics.test_auc > 0.7 and params.model = 'hgb'\".",
        ),
    ] = "",
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", "-o", help="e.g. 'metrics.test_auc DESC' (repeatable)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="The most runs to show.")] = 20,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="A metric column to show (repeatable)."),
    ] = None,
    kind: Annotated[
        RunKind,
        typer.Option(
            "--kind",
            "-k",
            help="run: tracked runs; pipeline: pipeline runs; all: both.",
            case_sensitive=False,
        ),
    ] = RunKind.ALL,
    pipeline: Annotated[
        list[str] | None,
        typer.Option("--pipeline", "-p", help="Only runs of this pipeline (repeatable)."),
    ] = None,
) -> None:
    """List runs and pipeline runs, newest first: id, name, status, timing and a few metrics."""
    from loopml.cli.run_search import find_runs

    with open_workspace(ctx) as workspace:
        runs = find_runs(
            workspace,
            kinds=KIND_TYPES[kind],
            experiments=experiment or (),
            pipelines=pipeline or (),
            filter=filter,
            order_by=order_by or (),
            limit=limit,
        )
        names = experiment_names(workspace)
    output = console.out()
    if not runs:
        narrowed = filter or experiment or pipeline or kind is not RunKind.ALL
        output.print("No runs match." if narrowed else "No runs yet: try `loopml quickstart`.")
        return
    output.print(runs_table(runs, names, metric or (), output.width))


def runs_table(
    runs: Sequence[Execution], names: Mapping[str, str], metrics: Sequence[str], width: int
) -> Table:
    """The table of ``runs list``; metric columns that do not fit in ``width`` are left out."""
    from rich.table import Table

    kinds = {run.type for run in runs}
    mixed = len(kinds) > 1
    # Pipeline runs are in no experiment: the column is for telling tracked runs apart.
    experiments = {_experiment_of(run, names) for run in runs if run.type != "pipeline"}
    several = len(experiments) > 1
    title = console.plural(len(runs), "pipeline run" if kinds == {"pipeline"} else "run")
    if len(experiments) == 1:
        title += f"{'; tracked runs' if mixed else ''} in {next(iter(experiments))}"
    rows = []
    for run in runs:
        cells = [
            run.id[:8],
            run.name,
            console.status(run.status),
            console.when_short(run.started_at),
            console.duration(run.duration),
        ]
        if several:
            cells.insert(2, _experiment_of(run, names))
        if mixed:
            cells.insert(1, run.type)
        rows.append(cells)
    headers = ["id", "kind", "name", "experiment", "status", "started", "duration"]
    if not several:
        headers.remove("experiment")
    if not mixed:
        headers.remove("kind")
    # Each column takes its widest cell plus 2 characters of padding.
    used = sum(_width(h, [_visible(row[i]) for row in rows]) + 2 for i, h in enumerate(headers))
    columns = pick_metric_columns(runs, metrics)
    values = {k: [console.number(run.metrics.get(k), 4) for run in runs] for k in columns}
    if not metrics:  # leave out the metric columns that would not fit
        shown = []
        for key in columns:
            used += _width(key, values[key]) + 2
            if used > width:
                break
            shown.append(key)
        columns = shown
    table = Table(
        title=title, title_justify="left", box=None, pad_edge=False, header_style="bold underline"
    )
    for header in headers:
        table.add_column(header, no_wrap=header != "experiment")
    for key in columns:
        table.add_column(key, justify="right", no_wrap=True)
    for index, cells in enumerate(rows):
        table.add_row(*cells, *(values[key][index] for key in columns))
    return table


def _visible(markup: str) -> str:
    from rich.text import Text

    return Text.from_markup(markup).plain


def _width(header: str, cells: Sequence[str]) -> int:
    return max([len(header), *(len(cell) for cell in cells)])


@app.command("show")
def show_run(
    ctx: typer.Context,
    run_id: Annotated[
        str, typer.Argument(help="A run, pipeline run or step id, or a unique prefix of one.")
    ],
) -> None:
    """Show a run (params, metrics, artifacts), a pipeline run (its steps) or a step (its logs)."""
    from loopml.cli.ids import resolve_execution
    from loopml.cli.state import command_prefix

    with open_workspace(ctx) as workspace:
        from loopml.pipelines import fail_stale_runs

        fail_stale_runs(workspace)
        found = resolve_execution(workspace, run_id, ("run", "pipeline", "step"), "run")
        if found.type != "run":
            from loopml.cli import pipeline_runs

            show = (
                pipeline_runs.show_pipeline_run
                if found.type == "pipeline"
                else pipeline_runs.show_step
            )
            show(console.out(), workspace, found, command_prefix(ctx))
            return
        run = found
        names = experiment_names(workspace)
        events = workspace.metadata.list_events(execution_id=run.id)
        artifacts = {e.artifact_id: workspace.metadata.get_artifact(e.artifact_id) for e in events}
        history = {key: workspace.metadata.get_metric_history(run.id, key) for key in run.metrics}
    output = console.out()
    _print_summary(output, run, _experiment_of(run, names))
    print_mapping(output, "Params", run.params)
    print_mapping(
        output, "Metrics", {k: _metric_cell(v, history[k]) for k, v in run.metrics.items()}
    )
    print_mapping(output, "Tags", run.tags)
    for kind, title in (("input", "Inputs"), ("output", "Outputs")):
        rows = [
            (
                e.name,
                e.artifact_id[:12],
                console.short_type(artifacts[e.artifact_id].type),
                artifacts[e.artifact_id].size,
            )
            for e in events
            if e.kind == kind
        ]
        print_artifacts(output, title, rows)
    if run.error:
        from rich.panel import Panel
        from rich.text import Text

        output.print(Panel(Text(run.error.rstrip()), title="Error", border_style="red"))


def _print_summary(output: Console, run: Execution, experiment: str) -> None:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    commit = run.git_commit or console.MISSING
    if run.git_commit and run.git_dirty:
        commit += " (uncommitted changes)"
    env = run.environment
    packages = env.get("packages") or {}
    rows = [
        ("run", f"{run.name}  [dim]{run.id}[/dim]"),
        ("experiment", experiment),
        ("status", console.status(run.status)),
        ("user", run.user or console.MISSING),
        ("started", console.when(run.started_at)),
        ("ended", console.when(run.ended_at)),
        ("duration", console.duration(run.duration)),
        ("parent", run.parent_id or console.MISSING),
        ("git commit", commit),
        ("python", f"{env.get('python', console.MISSING)} {env.get('platform', '')}".strip()),
        ("packages", ", ".join(f"{k} {v}" for k, v in sorted(packages.items())) or console.MISSING),
    ]
    for label, value in rows:
        grid.add_row(label, value)
    output.print(grid)


def _metric_cell(latest: float, points: Sequence[Metric]) -> str:
    """The latest value, and for a series its length and range."""
    if len(points) <= 1:
        return console.number(latest)
    values = [point.value for point in points]
    return (
        f"{console.number(latest)}  (step {points[-1].step}; {len(points)} points, "
        f"min {console.number(min(values), 4)}, max {console.number(max(values), 4)})"
    )


def print_mapping(output: Console, title: str, values: Mapping[str, str]) -> None:
    from rich.table import Table
    from rich.text import Text

    if not values:
        output.print(f"\n[bold]{title}[/bold]: none")
        return
    table = Table(title=title, title_justify="left", show_header=False, title_style="bold")
    table.add_column("key", style="cyan")
    table.add_column("value", overflow="fold")
    for key in sorted(values):
        table.add_row(key, Text(str(values[key])))
    output.print(table)


def print_artifacts(output: Console, title: str, rows: list[tuple[str, str, str, int]]) -> None:
    from rich.table import Table

    if not rows:
        output.print(f"\n[bold]{title}[/bold]: none")
        return
    table = Table(title=title, title_justify="left", title_style="bold")
    for header in ("name", "artifact", "type", "size"):
        table.add_column(
            header,
            justify="right" if header == "size" else "left",
            no_wrap=header in ("artifact", "size"),
            overflow="fold",
        )
    for name, artifact_id, kind, count in rows:
        table.add_row(name, artifact_id, kind, console.size(count))
    output.print(table)


@app.command("compare")
def compare_runs(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids or prefixes.")],
    diff_only: Annotated[
        bool, typer.Option("--diff-only", help="Show only the params and metrics that differ.")
    ] = False,
) -> None:
    """Compare runs side by side; params and metrics that differ are highlighted."""
    from rich.table import Table

    from loopml.cli.ids import resolve_run

    if len(run_ids) < 2:
        raise InvalidInputError("compare needs two or more run ids")
    with open_workspace(ctx) as workspace:
        runs = [resolve_run(workspace, text) for text in run_ids]
        names = experiment_names(workspace)
    table = Table(title=f"Comparing {len(runs)} runs", title_justify="left")
    table.add_column("", style="bold")
    for run in runs:
        table.add_column(f"{run.name}\n[dim]{run.id[:8]}[/dim]", overflow="fold")
    header = {
        "experiment": [_experiment_of(run, names) for run in runs],
        "status": [str(run.status) for run in runs],
        "duration": [console.duration(run.duration) for run in runs],
    }
    _add_section(table, "", header, diff_only=False)
    params = {key: [run.params.get(key) for run in runs] for key in _keys(r.params for r in runs)}
    _add_section(table, "params", params, diff_only=diff_only)
    metrics = {
        key: [console.number(run.metrics[key]) if key in run.metrics else None for run in runs]
        for key in _keys(r.metrics for r in runs)
    }
    _add_section(table, "metrics", metrics, diff_only=diff_only)
    console.out().print(table)


def _keys(mappings: Iterable[Mapping[str, object]]) -> list[str]:
    return sorted({key for mapping in mappings for key in mapping})


def _add_section(
    table: Table, title: str, rows: Mapping[str, Sequence[str | None]], *, diff_only: bool
) -> None:
    from rich.text import Text

    shown = [(k, v) for k, v in rows.items() if not diff_only or len(set(v)) > 1]
    if title:
        table.add_section()
        table.add_row(Text(f"{title} ({len(shown)})", style="bold underline"))
    for key, values in shown:
        differs = len(set(values)) > 1
        style = DIFF_STYLE if differs else ""
        cells = [Text(console.MISSING if v is None else str(v), style=style) for v in values]
        table.add_row(Text(key, style=style or "cyan"), *cells)
