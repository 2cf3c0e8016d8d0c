"""What ``loopml quickstart`` shows when its pipeline is done: data, checks, registry, models.

It also writes the HTML pages of the run's data reports to ``.loopml/reports/``.
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.cli import console

if TYPE_CHECKING:
    from rich.console import Console

    from loopml.cli.quickstart import Trained
    from loopml.pipelines import PipelineRun
    from loopml.workspace import Workspace


def period(months: Sequence[int], *, short: bool = False) -> str:
    """``January-February`` (``Jan-Feb`` when ``short``)."""
    names = calendar.month_abbr if short else calendar.month_name
    return "-".join(names[m] for m in months)


def print_data(output: Console, summary: dict[str, Any]) -> None:
    """One line on the prepared data."""
    train, test = summary["train_months"], summary["test_months"]
    output.print(
        f"\nprepared {summary['rows_train']:,} training flights ({period(train, short=True)}) "
        f"and {summary['rows_test']:,} test flights ({period(test, short=True)}); "
        f"{summary['delayed_rate_test']:.1%} of test flights arrived late"
    )


@dataclasses.dataclass(frozen=True)
class DataChecks:
    """The validation and drift reports of the run, and where their HTML pages are."""

    validation: Any
    drift: Any
    pages: dict[str, Path]


def write_reports(workspace: Workspace, result: PipelineRun) -> DataChecks:
    """Write the HTML pages of the run's data and model reports.

    They go to ``reports/`` in the loopml home folder (``.loopml`` by default):
    statistics, schema, validation, drift, the candidate's evaluation and its blessing.
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
            ("evaluation", "evaluate_model"),
            ("blessing", "bless_model"),
        )
    }
    pages = {}
    for name, report in loaded.items():
        pages[name] = folder / f"{name}.html"
        pages[name].write_text(report.to_html(), encoding="utf-8")
    return DataChecks(loaded["validation"], loaded["drift"], pages)


def print_checks(output: Console, checks: DataChecks, summary: dict[str, Any]) -> None:
    """Two lines: the test month against the schema, and its drift from the training months."""
    train, test = period(summary["train_months"]), period(summary["test_months"])
    validation, drift = checks.validation, checks.drift
    style = {"passed": "green", "warnings": "yellow", "failed": "red"}[validation.status]
    verdict = {"passed": "pass", "warnings": "pass with warnings", "failed": "fail"}
    findings = "; ".join(f"{a.feature}: {a.message}" for a in validation.anomalies[:2])
    output.print(
        f"data validation: the {test} flights against the schema inferred from {train}: "
        f"[{style}]{verdict[validation.status]}[/{style}]" + (f" ({findings})" if findings else ""),
        soft_wrap=True,
    )
    drifted = ", ".join(drift.drifted[:5]) + (", ..." if len(drift.drifted) > 5 else "")
    output.print(
        f"drift {train} -> {test}: {len(drift.drifted)} of {len(drift.features)} "
        f"features drifted" + (f" ({drifted})" if drifted else ""),
        soft_wrap=True,
    )


@dataclasses.dataclass(frozen=True)
class Registered:
    """The registry's side of the run: the version, its blessing, where the aliases are."""

    model: str
    version: int
    aliases: tuple[str, ...]
    blessing: Any
    production: int | None


def registry_outcome(workspace: Workspace, result: PipelineRun) -> Registered:
    """What the run's ``register_version`` step did, and where ``production`` is now."""
    from loopml.registry.actions import ModelRegistry

    outcome = workspace.load(result.artifact("register_version"))
    blessing = workspace.load(result.artifact("bless_model"))
    model = ModelRegistry(workspace).get_model(outcome["model"])
    return Registered(
        outcome["model"],
        int(outcome["version"]),
        tuple(outcome["aliases"]),
        blessing,
        model.aliases.get("production"),
    )


def print_registry(output: Console, registered: Registered) -> None:
    """Two lines: the candidate's blessing against production, and the version it became."""
    blessing = registered.blessing
    passed = [c for c in blessing.checks if c.passed]
    style = "green" if blessing.blessed else "red"
    output.print(
        f"validation against production: [{style}]"
        f"{'blessed' if blessing.blessed else 'not blessed'}[/{style}] "
        f"({len(passed)} of {len(blessing.checks)} checks passed"
        + ("; no production version yet" if blessing.baseline is None else "")
        + ")",
        soft_wrap=True,
    )
    where = (
        "production points at it"
        if "production" in registered.aliases
        else f"production stays at version {registered.production}"
        if registered.production is not None
        else "not in production"
    )
    output.print(
        f"registry: {registered.model} version {registered.version}, {where} "
        "(policy: policies/" + f"{registered.model}.yaml)",
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
    registered: Registered,
    month: int,
) -> None:
    """Print the results table and the commands to run next."""
    from rich.table import Table

    from loopml.cli.quickstart_pipeline import ALWAYS_RUN
    from loopml.metadata import ExecutionStatus

    all_cached = all(
        status is ExecutionStatus.CACHED or name in ALWAYS_RUN
        for name, status in result.steps.items()
    )
    note = "every step from cache" if all_cached else f"pipeline run {result.id[:8]}"
    table = Table(
        title=f"Test on {calendar.month_name[month]} 2013 "
        f"(done in {console.duration(seconds)}, {note})",
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
            "[cyan]↺[/cyan] Served from cache (feature_snapshot and production_model checked "
            "that the features and production are unchanged): code, parameters and data are "
            "those of an earlier run, so nothing was computed again and no run was logged twice.",
            soft_wrap=True,
        )
    output.print("\n[bold]Where to look next[/bold]")
    _print_next(output, trained, result, prefix, experiment, reports, registered, month)


def _print_next(
    output: Console,
    trained: Sequence[Trained],
    result: PipelineRun,
    prefix: str,
    experiment: str,
    reports: DataChecks,
    registered: Registered,
    month: int,
) -> None:
    from loopml.cli.launch import print_commands

    best = trained[0]
    lines = [
        (f"{prefix} runs list --experiment {experiment}", "the tracked models, newest first"),
        (f"{prefix} runs show {best.run_id[:8]}", "params, metrics and the model it tracks"),
    ]
    if len(trained) > 1:
        lines.append(
            (f"{prefix} runs compare {best.run_id[:8]} {trained[1].run_id[:8]}", "side by side")
        )
    model, version = registered.model, registered.version
    lines += [
        (f"{prefix} runs show {result.id[:8]}", "the pipeline run: each step, cached or not"),
        (
            f"{prefix} lineage {best.model_artifact[:12]}",
            "model <- train step <- training set <- flights, feature definitions, weather",
        ),
        (f"{prefix} features list", "the feature views and services the training set used"),
        (f"{prefix} models show {model}", "the registered model: versions, aliases, policy"),
        (f"{prefix} models card {model} {version}", "its model card: lineage, metrics, checks"),
        (f"{prefix} audit verify", "the registry's audit log, checked link by link"),
        (f"open {_shown(reports.pages['drift'])}", "the drift report, a plot per feature"),
        (f"open {_shown(reports.pages['evaluation'])}", "the candidate's evaluation, per slice"),
    ]
    if month == 3:
        lines.append(
            (
                f"{prefix} quickstart --month 6",
                "retrain on April-May: validated against production on June, then promoted",
            )
        )
    print_commands(output, lines)


def _shown(path: Path) -> str:
    """A path relative to the current folder when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
