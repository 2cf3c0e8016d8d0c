"""``loopml run``, ``loopml runs resume`` and ``loopml pipelines list|show``.

A pipeline is named three ways: by its name in the ``pipelines:`` section of
``loopml.yaml``, by ``module:function`` (modules found from the project
folder), or by ``path/file.py:function``. Parameters are ``--param
key=value`` options, values read as JSON when they are JSON; the pipeline's
own defaults fill the rest.
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopml.cli import console
from loopml.cli.params import format_value, parse_params
from loopml.cli.state import USER_ERROR_EXIT, command_prefix, get_state, open_workspace

if TYPE_CHECKING:
    from rich.table import Table

    from loopml.pipelines import Pipeline, Plan
    from loopml.pipelines.plan import Node

app = typer.Typer(
    help="List the pipelines of loopml.yaml and show their plans.", no_args_is_help=True
)

PipelineArgument = Annotated[
    str,
    typer.Argument(
        help="A pipeline named in loopml.yaml, or module:function, or path/file.py:function."
    ),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        help="A parameter as key=value; the value is read as JSON if it is JSON (repeatable).",
    ),
]
ExecutorOption = Annotated[
    str | None,
    typer.Option(
        "--executor",
        "-x",
        help="Where steps run: local, process, ray, dask or an executor URI such as "
        "ray://head:10001 or tcp://scheduler:8786 (default: the executor setting).",
    ),
]


def run_pipeline(
    ctx: typer.Context,
    pipeline: PipelineArgument,
    param: ParamOption = None,
    executor: ExecutorOption = None,
    cache: Annotated[
        bool,
        typer.Option(
            "--cache/--no-cache",
            help="Reuse unchanged steps from cache; --no-cache runs every step (and refreshes it).",
        ),
    ] = True,
) -> None:
    """Run a pipeline and watch its steps; unchanged steps come from cache."""
    from loopml.cli.launch import build_executor, pipeline_title, print_outcome, watch
    from loopml.pipelines import find_pipeline, run

    params = parse_params(param)
    output = console.out()
    prefix = command_prefix(ctx)
    with open_workspace(ctx) as workspace:
        target = find_pipeline(pipeline, workspace.settings)
        target.compile(**params)  # refuse bad parameters and malformed plans before the view
        engine = build_executor(executor, workspace.settings)
        try:
            result, view = watch(
                output,
                pipeline_title(target.name),
                lambda observer: run(
                    target,
                    params,
                    executor=engine,
                    workspace=workspace,
                    started_by="cli",
                    observer=observer,
                    use_cache=cache,
                ),
                prefix=prefix,
            )
        finally:
            engine.shutdown()
    print_outcome(output, result, view, prefix)


def resume_pipeline_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A pipeline run id or a unique prefix of it.")],
    executor: ExecutorOption = None,
) -> None:
    """Continue a failed or killed pipeline run: the steps that finished are reused."""
    from loopml.cli.ids import resolve_execution
    from loopml.cli.launch import (
        build_executor,
        make_importable,
        pipeline_title,
        print_outcome,
        resumable,
        watch,
    )
    from loopml.pipelines import fail_stale_runs, load_pipeline, resume

    output = console.out()
    prefix = command_prefix(ctx)
    with open_workspace(ctx) as workspace:
        fail_stale_runs(workspace)
        record = resolve_execution(workspace, run_id, kinds=("pipeline",))
        resumable(record)
        make_importable(workspace.settings)
        load_pipeline(str(record.properties["reference"]))  # an import error is bad input
        engine = build_executor(executor, workspace.settings)
        try:
            result, view = watch(
                output,
                pipeline_title(record.name, f"resuming {record.id[:8]}"),
                lambda observer: resume(
                    record.id, workspace=workspace, executor=engine, observer=observer
                ),
                prefix=prefix,
            )
        finally:
            engine.shutdown()
    print_outcome(output, result, view, prefix)


@app.command("list")
def list_pipelines(ctx: typer.Context) -> None:
    """List the pipelines declared in loopml.yaml, with their parameters and defaults."""
    from rich.table import Table
    from rich.text import Text

    from loopml.pipelines import declared_pipelines, find_pipeline

    settings = get_state(ctx).settings()
    declared = declared_pipelines(settings)
    output = console.out()
    if not declared:
        output.print(
            "No pipelines declared in loopml.yaml. Name them there, e.g.\n\n"
            "  pipelines:\n    training: my_project.flows:training\n\n"
            "or run one directly: [cyan]loopml run my_project.flows:training[/cyan]",
            soft_wrap=True,
        )
        return
    table = Table(
        title=console.plural(len(declared), "pipeline"),
        title_justify="left",
        box=None,
        pad_edge=False,
        header_style="bold underline",
    )
    for header in ("name", "reference", "parameters", "description"):
        table.add_column(header, overflow="fold")
    broken = 0
    for name, reference in sorted(declared.items()):
        try:
            found = find_pipeline(name, settings)
        except Exception as error:  # a user's module may raise anything at import
            broken += 1
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            table.add_row(name, reference, Text(str(message), style="red"), "")
            continue
        table.add_row(name, reference, describe_parameters(found), _summary(found))
    output.print(table)
    if broken:
        raise typer.Exit(USER_ERROR_EXIT)


@app.command("show")
def show_pipeline(
    ctx: typer.Context,
    pipeline: PipelineArgument,
    param: ParamOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the compiled plan as JSON (for tools and the UI).")
    ] = False,
) -> None:
    """Show the plan a pipeline compiles to: its steps in order, what each reads and makes."""
    from loopml.pipelines import find_pipeline

    target = find_pipeline(pipeline, get_state(ctx).settings())
    plan = target.compile(**parse_params(param))
    if as_json:
        typer.echo(json.dumps(plan.to_dict(), indent=2))
        return
    output = console.out()
    output.print(f"[bold]pipeline {plan.name}[/bold]  [dim]{target.reference}[/dim]")
    if _summary(target):
        output.print(_summary(target))
    output.print(
        "params: " + (", ".join(f"{k}={format_value(v)}" for k, v in plan.params.items()) or "none")
    )
    output.print(plan_table(plan))


def describe_parameters(target: Pipeline) -> str:
    """``rows=200, c=1.0, data (required)``: a pipeline's parameters and defaults."""
    parts = []
    for name, default in target.parameters().items():
        if default is inspect.Parameter.empty:
            parts.append(f"{name} (required)")
        else:
            parts.append(f"{name}={format_value(default)}")
    return ", ".join(parts) or "none"


def _summary(target: Pipeline) -> str:
    doc = inspect.getdoc(target.fn) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def plan_table(plan: Plan) -> Table:
    """The steps of a plan in the order they run, with their inputs, parameters and outputs."""
    from rich import box
    from rich.table import Table

    rows = []
    for index, node in enumerate(plan, start=1):
        reads, params = _node_io(node)
        outputs = ", ".join(node.outputs) or console.MISSING
        rows.append([str(index), node.name, reads, params, outputs, _settings(node)])
    headers = ["#", "step", "reads", "params", "outputs", "settings"]
    if not any(row[-1] for row in rows):
        headers.pop()
        rows = [row[:-1] for row in rows]
    table = Table(
        title=f"{console.plural(len(plan), 'step')}, in order",
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for header in headers:
        table.add_column(
            header,
            justify="right" if header == "#" else "left",
            no_wrap=header in ("#", "step", "outputs"),
            overflow="fold",
        )
    for row in rows:
        table.add_row(*row)
    return table


def _node_io(node: Node) -> tuple[str, str]:
    from rich.markup import escape

    from loopml.pipelines.pipeline import LOAD_DATASET, SAVE_DATASET

    reads = [f"{arg} ← {_source(ref)}" for arg, ref in node.inputs.items()]
    if node.step is LOAD_DATASET:
        return f"catalog: {node.params['name']}", ""
    if node.step is SAVE_DATASET:
        return escape("\n".join(reads)), f"→ catalog: {node.params['name']}"
    params = [f"{k}={format_value(v)}" for k, v in node.params.items()]
    return escape("\n".join(reads)) or console.MISSING, escape("\n".join(params))


def _source(ref: Any) -> str:
    """``train`` for the only output of step ``train``, ``split.test`` for one of several."""
    return ref.node if ref.output == "output" else f"{ref.node}.{ref.output}"


def _settings(node: Node) -> str:
    from loopml.pipelines.pipeline import LOAD_DATASET, SAVE_DATASET

    if node.step is LOAD_DATASET or node.step is SAVE_DATASET:
        return ""
    settings: Any = node.step.settings
    parts = []
    if settings.retries:
        parts.append(f"retries={settings.retries}")
    if settings.timeout:
        parts.append(f"timeout={settings.timeout:g}s")
    if not settings.cache:
        parts.append("no cache")
    parts += [f"{k}={v:g}" for k, v in dict(settings.resources).items()]
    return ", ".join(parts)
