"""``loopml runs show`` for pipeline runs and for their steps.

A pipeline run shows the steps of its plan in order, every try of each
(status, try number, duration, the worker it ran on, the earlier execution a
cached step reused), what the steps produced, and the traceback of the step
that failed the run. A step shows its parameters, its input and output
artifacts, and the logs it printed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from loopml.cli import console
from loopml.cli.launch import print_commands, step_traceback

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from loopml.metadata import Execution
    from loopml.workspace import Workspace

STEP_TYPE = "step"
NOT_RUN = "not run"


def step_executions(workspace: Workspace, run: Execution) -> dict[str, list[Execution]]:
    """The tries of each step of a pipeline run, by node, in the plan's order."""
    tries: dict[str, list[Execution]] = defaultdict(list)
    for execution in workspace.metadata.list_executions(
        type=STEP_TYPE, parent_id=run.id, limit=None
    ):
        tries[str(execution.properties.get("node") or execution.name)].append(execution)
    for found in tries.values():
        found.sort(key=lambda e: (int(e.properties.get("attempt") or 0), e.started_at))
    order = [str(node["name"]) for node in run.properties.get("plan", {}).get("nodes", [])]
    order += sorted(set(tries) - set(order))
    return {node: tries.get(node, []) for node in order}


def show_pipeline_run(output: Console, workspace: Workspace, run: Execution, prefix: str) -> None:
    """Print a pipeline run: summary, params, steps, outputs, and the failed step's traceback."""
    from loopml.cli.runs import print_mapping

    steps = step_executions(workspace, run)
    _print_grid(output, _run_rows(run))
    print_mapping(output, "Params", run.params)
    output.print(steps_table(steps, finished=run.status != "running"))
    outputs = [
        (f"{node}.{event.name}", event.artifact_id)
        for node, tries in steps.items()
        for execution in tries
        if execution.status in ("completed", "cached")
        for event in workspace.metadata.list_events(execution_id=execution.id)
        if event.kind == "output"
    ]
    _print_outputs(output, workspace, outputs)
    failed = _failed_step(steps)
    if failed is not None:
        _print_error(
            output,
            step_traceback(failed.error or ""),
            f"step {failed.name} failed (loopml's own frames left out)",
        )
    elif run.error and run.status != "completed":
        _print_error(output, run.error, "error")
    commands = []
    if run.status in ("failed", "killed"):
        commands.append(
            (f"{prefix} runs resume {run.id[:8]}", "continue; the finished steps are reused")
        )
    shown = failed or next((t[-1] for t in reversed(steps.values()) if t), None)
    if shown is not None:
        commands.append((f"{prefix} runs show {shown.id[:8]}", f"step {shown.name}: its logs"))
    if commands:
        output.print()
        print_commands(output, commands)


def show_step(output: Console, workspace: Workspace, step: Execution, prefix: str) -> None:
    """Print one try of a step: summary, params, inputs and outputs, logs and error."""
    from rich.panel import Panel
    from rich.text import Text

    from loopml.cli.runs import print_artifacts, print_mapping

    parent = None
    if step.parent_id:
        parent = workspace.metadata.get_execution(step.parent_id)
    _print_grid(output, _step_rows(step, parent))
    print_mapping(output, "Params", step.params)
    events = workspace.metadata.list_events(execution_id=step.id)
    for kind, title in (("input", "Inputs"), ("output", "Outputs")):
        rows = []
        for event in events:
            if event.kind == kind:
                artifact = workspace.metadata.get_artifact(event.artifact_id)
                rows.append(
                    (
                        event.name,
                        artifact.id[:12],
                        console.short_type(artifact.type),
                        artifact.size,
                    )
                )
        print_artifacts(output, title, rows)
    logs = str(step.properties.get("logs") or "").rstrip()
    source = step.properties.get("cached_from")
    if logs:
        output.print(Panel(Text(logs), title="Logs", title_align="left", border_style="dim"))
    elif source:
        output.print(
            f"\n[bold]Logs[/bold]: this step was reused from {str(source)[:8]}; "
            f"[cyan]{prefix} runs show {str(source)[:8]}[/cyan] shows the logs of the try that ran"
        )
    else:
        output.print("\n[bold]Logs[/bold]: none")
    if step.error:
        _print_error(output, step.error, "Error")


def steps_table(steps: dict[str, list[Execution]], *, finished: bool) -> Table:
    """One row per try of each step, in the plan's order; steps that never ran say so."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title="Steps",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for header in ("step", "status", "try", "duration", "cached from", "worker", "id"):
        table.add_column(
            header,
            justify="right" if header in ("try", "duration") else "left",
            no_wrap=header not in ("step", "worker"),
            overflow="fold",
        )
    for node, tries in steps.items():
        if not tries:
            label = NOT_RUN if finished else "pending"
            table.add_row(node, Text(label, style="dim"), "", "", "", "", "")
            continue
        for execution in tries:
            properties = execution.properties
            seconds = properties.get("seconds")
            source = str(properties.get("cached_from") or "")
            table.add_row(
                node,
                console.status(execution.status),
                str(properties.get("attempt") or ""),
                console.duration(float(seconds) if seconds is not None else execution.duration),
                source[:8],
                str(properties.get("worker") or ""),
                Text(execution.id[:8], style="dim"),
            )
    return table


def _failed_step(steps: dict[str, list[Execution]]) -> Execution | None:
    """The last failed try of a step that never succeeded (the one that failed the run)."""
    for tries in steps.values():
        if tries and tries[-1].status == "failed":
            return tries[-1]
    return None


def _run_rows(run: Execution) -> list[tuple[str, str]]:
    properties = run.properties
    commit = run.git_commit or console.MISSING
    if run.git_commit and run.git_dirty:
        commit += " (uncommitted changes)"
    return [
        ("pipeline", f"{run.name}  [dim]{run.id}[/dim]"),
        ("status", console.status(run.status)),
        ("reference", str(properties.get("reference") or console.MISSING)),
        ("started by", str(properties.get("started_by") or console.MISSING)),
        ("executor", str(properties.get("executor") or console.MISSING)),
        ("user", run.user or console.MISSING),
        ("started", console.when(run.started_at)),
        ("ended", console.when(run.ended_at)),
        ("duration", console.duration(run.duration)),
        ("git commit", commit),
    ]


def _step_rows(step: Execution, parent: Execution | None) -> list[tuple[str, str]]:
    properties = step.properties
    seconds = properties.get("seconds")
    run = (
        f"{parent.name}  [dim]{parent.id[:8]}[/dim]  {console.status(parent.status)}"
        if parent is not None
        else console.MISSING
    )
    rows = [
        ("step", f"{step.name}  [dim]{step.id}[/dim]"),
        ("pipeline run", run),
        ("status", console.status(step.status)),
        ("try", str(properties.get("attempt") or console.MISSING)),
        ("function", str(properties.get("function") or console.MISSING)),
        ("worker", str(properties.get("worker") or console.MISSING)),
        ("started", console.when(step.started_at)),
        ("ended", console.when(step.ended_at)),
        ("duration", console.duration(float(seconds) if seconds is not None else step.duration)),
        ("cache key", str(properties.get("cache_key") or console.MISSING)[:16]),
    ]
    if properties.get("cached_from"):
        rows.append(("cached from", str(properties["cached_from"])))
    if properties.get("dataset"):
        rows.append(("dataset", str(properties["dataset"])))
    return rows


def _print_grid(output: Console, rows: Sequence[tuple[str, str]]) -> None:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    output.print(grid)


def _print_outputs(output: Console, workspace: Workspace, outputs: list[tuple[str, str]]) -> None:
    from loopml.cli.runs import print_artifacts

    rows: list[tuple[str, str, str, int]] = []
    for name, artifact_id in outputs:
        artifact: Any = workspace.metadata.get_artifact(artifact_id)
        rows.append((name, artifact.id[:12], console.short_type(artifact.type), artifact.size))
    print_artifacts(output, "Outputs", rows)


def _print_error(output: Console, error: str, title: str) -> None:
    from rich.panel import Panel
    from rich.text import Text

    output.print(Panel(Text(error.rstrip()), title=title, title_align="left", border_style="red"))
