"""Running a pipeline from the command line: the live view around the run, then its outcome.

``loopml run``, ``loopml runs resume`` and ``loopml quickstart`` all run
through :func:`watch`, which draws the steps while they run. A step that
failed after its retries ends the command with exit code 1, after the step's
name, the last lines of its traceback and the ``loopml runs resume`` command
that continues the run; Ctrl-C ends it with 130 (the run is recorded as
killed, and can be resumed too). Mistakes found before anything runs (an
unknown pipeline, a bad parameter, a malformed plan) never reach the view:
they are one red line and exit code 2, like every other bad input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import typer

from loopml.cli import console
from loopml.cli.progress import StepProgress
from loopml.cli.state import ERROR_EXIT

if TYPE_CHECKING:
    from rich.console import Console

    from loopml.core.config import Settings
    from loopml.metadata import Execution
    from loopml.pipelines import PipelineRun, StepFailedError
    from loopml.pipelines.executors import Executor

TRACEBACK_LINES = 12
INTERRUPTED_EXIT = 130


def build_executor(uri: str | None, settings: Settings) -> Executor:
    """The executor ``uri`` names (the ``executor`` setting if omitted), not started yet.

    Raises:
        ConfigError: for an unknown or malformed URI, or a missing engine package.
    """
    from loopml.pipelines.executors import executor_from_uri

    return executor_from_uri(uri or settings.executor)


def make_importable(settings: Settings) -> None:
    """Put the project folder on ``sys.path``, where ``module:function`` references start."""
    folder = str(settings.project_dir)
    if folder not in sys.path:
        sys.path.insert(0, folder)


def watch(
    output: Console,
    title: str,
    start: Callable[[StepProgress], PipelineRun],
    *,
    prefix: str,
    again: tuple[str, str] | None = None,
) -> tuple[PipelineRun, StepProgress]:
    """Run ``start(observer)`` inside the live view of its steps.

    Args:
        output: the console to draw on.
        title: the view's title, e.g. ``pipeline training``.
        start: starts the run with the observer it is given, and returns the finished run.
        prefix: ``loopml`` and its global options, for the commands suggested on failure.
        again: (command, comment) that continues after a failure, instead of
            ``loopml runs resume``.

    Returns:
        The finished run and the view (which knows how each step ended).

    Raises:
        typer.Exit: 1 if a step failed, 130 if interrupted (after saying what to do).
    """
    from loopml.pipelines import StepFailedError

    view = StepProgress(output, title)
    try:
        with view:
            result = start(view)
    except StepFailedError as failure:
        print_failure(output, failure, view, prefix, again)
        raise typer.Exit(ERROR_EXIT) from failure
    except KeyboardInterrupt:
        output.print(
            f"\n[magenta]interrupted[/magenta]: the run is recorded as killed; "
            f"[cyan]{prefix} runs list --kind pipeline[/cyan] shows it and "
            f"[cyan]{prefix} runs resume <id>[/cyan] continues it",
            soft_wrap=True,
        )
        raise typer.Exit(INTERRUPTED_EXIT) from None
    return result, view


def step_counts(view: StepProgress) -> str:
    """``6 steps: 4 ran, 2 cached`` (and failed or skipped ones, if any)."""
    counts = view.counts()
    total = sum(counts.values())
    parts = [f"{counts['done']} ran", f"{counts['cached']} cached"]
    parts += [f"{counts[s]} {s}" for s in ("failed", "skipped", "pending") if counts[s]]
    return f"{console.plural(total, 'step')}: {', '.join(parts)}"


def step_traceback(text: str) -> str:
    """A step's traceback without the frames of the machinery that ran it.

    Frames in loopml's pipelines package (runner, executor, worker) and in
    ``concurrent.futures`` say nothing about the step's own failure.
    """
    import concurrent.futures
    import os

    import loopml.pipelines

    machinery = tuple(
        f'"{os.path.dirname(module.__file__ or "")}{os.sep}'
        for module in (loopml.pipelines, concurrent.futures)
    )
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.startswith('  File "'):
            skipping = any(folder in line for folder in machinery)
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def print_failure(
    output: Console,
    failure: StepFailedError,
    view: StepProgress,
    prefix: str,
    again: tuple[str, str] | None = None,
) -> None:
    """Say which step failed, show the end of its traceback, and how to continue."""
    from rich.markup import escape
    from rich.panel import Panel
    from rich.text import Text

    lines = step_traceback(failure.traceback).rstrip().splitlines()[-TRACEBACK_LINES:]
    output.print(
        f"\n[red]✗[/red] [bold]{escape(view.title)}[/bold] failed: step "
        f"[bold]{escape(failure.step)}[/bold] failed ({step_counts(view)})",
        soft_wrap=True,
    )
    if lines:
        output.print(
            Panel(
                Text("\n".join(lines)),
                title=f"{failure.step}: the last lines of its traceback",
                title_align="left",
                border_style="red",
            )
        )
    short = failure.run_id[:8]
    output.print("Fix the step, then continue the run (the steps that finished are reused):")
    print_commands(
        output,
        [
            again or (f"{prefix} runs resume {short}", "run what did not finish"),
            (f"{prefix} runs show {short}", "every step, its logs and the whole traceback"),
        ],
    )


def print_outcome(output: Console, result: PipelineRun, view: StepProgress, prefix: str) -> None:
    """The summary of a finished run and the commands to look at it."""
    from rich.markup import escape

    output.print(
        f"\n[green]✓[/green] [bold]{escape(view.title)}[/bold] {result.status} in "
        f"{console.duration(result.seconds)} ({step_counts(view)})\n"
        f"[dim]run {result.id}[/dim]",
        soft_wrap=True,
    )
    commands = [(f"{prefix} runs show {result.id[:8]}", "the steps: status, timings, logs")]
    target = final_output(result, [row.name for row in view.rows()])
    if target is not None:
        node, artifact = target
        commands.append((f"{prefix} lineage {artifact[:12]}", f"where {node}'s output came from"))
    output.print("\n[bold]Next[/bold]")
    print_commands(output, commands)


def final_output(result: PipelineRun, order: Sequence[str]) -> tuple[str, str] | None:
    """(node, artifact id) of the last step in ``order`` that produced something."""
    for node in reversed([*order, *(n for n in result.outputs if n not in order)]):
        outputs = result.outputs.get(node)
        if outputs:
            return node, next(iter(outputs.values()))
    return None


def print_commands(output: Console, lines: Sequence[tuple[str, str]]) -> None:
    """Print commands in a column, each with what it shows as a comment."""
    from rich.markup import escape

    width = max(len(command) for command, _ in lines)
    for command, what in lines:
        output.print(
            f"  [cyan]{escape(command.ljust(width))}[/cyan]  [dim]# {escape(what)}[/dim]",
            soft_wrap=True,
        )


def pipeline_title(name: str, extra: str = "") -> str:
    """The title of a pipeline's view."""
    return f"pipeline {name}{f' ({extra})' if extra else ''}"


def resumable(execution: Execution) -> None:
    """Check a pipeline run can be resumed, before the view starts.

    Raises:
        ConflictError: if it is running or completed, or was run from a bare plan.
    """
    from loopml.core.errors import ConflictError
    from loopml.metadata import ExecutionStatus

    if execution.status is ExecutionStatus.COMPLETED:
        raise ConflictError(
            f"pipeline run {execution.id[:8]} completed: nothing to resume "
            f"(`loopml run {execution.name}` runs it again, from cache where it can)"
        )
    if execution.status is ExecutionStatus.RUNNING:
        raise ConflictError(
            f"pipeline run {execution.id[:8]} is still running (its process beats; "
            "a dead one is marked failed within 45 s)"
        )
    if not execution.properties.get("reference"):
        raise ConflictError(
            f"pipeline run {execution.id[:8]} was run from a compiled plan and cannot be resumed"
        )
