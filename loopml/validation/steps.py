"""Data validation as pipeline steps: statistics, schema, validation gate, drift.

.. code-block:: python

    from loopml.pipelines import dataset, pipeline
    from loopml.validation import steps as dv

    @pipeline
    def training():
        train = load_train()
        batch = load_batch()
        schema = dv.infer_schema(dv.compute_statistics(train))  # or dataset("flights_schema")
        dv.validate_data(batch, schema)          # stops the run on errors, keeps the report
        dv.detect_drift(train, batch)            # a drift report artifact, with lineage

Every output is an artifact with lineage. :func:`validate_data` raises
:class:`~loopml.validation.DataValidationError` when the batch has errors: the
run stops, and the anomaly report is recorded as an output of the failed step.
"""

from __future__ import annotations

from typing import Any

from loopml.pipelines import step, step_workspace
from loopml.validation.anomalies import ValidationReport, validate
from loopml.validation.blessing import Blessing
from loopml.validation.drift import DriftDetector
from loopml.validation.drift_report import DriftReport
from loopml.validation.evaluation import Evaluation
from loopml.validation.schema import InferenceOptions, Schema
from loopml.validation.schema import infer_schema as _infer_schema
from loopml.validation.statistics import DatasetStatistics
from loopml.validation.statistics import compute_statistics as _compute_statistics


@step
def compute_statistics(data: Any, name: str | None = None) -> DatasetStatistics:
    """The statistics of ``data`` (see :func:`loopml.validation.compute_statistics`)."""
    return _compute_statistics(data, name=name)


@step
def infer_schema(
    statistics: DatasetStatistics,
    range_slack: float = 0.1,
    out_of_domain: float = 0.01,
    out_of_range: float = 0.001,
) -> Schema:
    """A schema inferred from statistics, with the given slack (see :class:`InferenceOptions`)."""
    options = InferenceOptions(
        range_slack=range_slack, out_of_domain=out_of_domain, out_of_range=out_of_range
    )
    return _infer_schema(statistics, options)


@step
def validate_data(
    data: Any,
    schema: Schema,
    name: str | None = None,
    severity: dict[str, str] | None = None,
    fail_on_error: bool = True,
) -> ValidationReport:
    """Validate ``data`` against ``schema``; stop the run on errors unless ``fail_on_error`` is off.

    Raises:
        DataValidationError: if the batch has errors and ``fail_on_error`` is on; the
            report is stored as the failed step's ``report`` output.
    """
    report = validate(data, schema, name=name, severity=severity)
    return report.raise_for_errors() if fail_on_error else report


@step
def fit_drift_detector(
    reference: Any,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    alpha: float = 0.05,
    numeric_threshold: float = 0.1,
    categorical_threshold: float = 0.1,
) -> DriftDetector:
    """A drift detector fitted on ``reference``: an artifact monitoring can reuse."""
    detector = _detector(columns, categorical, alpha, numeric_threshold, categorical_threshold)
    return detector.fit(reference)


@step
def score_drift(detector: DriftDetector, current: Any) -> DriftReport:
    """The drift of ``current`` from the reference ``detector`` was fitted on."""
    return detector.score(current)


@step
def detect_drift(
    reference: Any,
    current: Any,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    alpha: float = 0.05,
    numeric_threshold: float = 0.1,
    categorical_threshold: float = 0.1,
) -> DriftReport:
    """The drift of ``current`` from ``reference``, feature by feature (fit and score at once)."""
    detector = _detector(columns, categorical, alpha, numeric_threshold, categorical_threshold)
    return detector.fit(reference).score(current)


def _detector(
    columns: list[str] | None,
    categorical: list[str] | None,
    alpha: float,
    numeric_threshold: float,
    categorical_threshold: float,
) -> DriftDetector:
    return DriftDetector(
        columns=columns,
        categorical=tuple(categorical or ()),
        alpha=alpha,
        numeric_threshold=numeric_threshold,
        categorical_threshold=categorical_threshold,
    )


# --- model evaluation and blessing ------------------------------------------------------


@step
def evaluate_model(
    model: Any,
    data: Any,
    target: str,
    task: str | None = None,
    slices: list[dict[str, Any]] | None = None,
    name: str | None = None,
    features: list[str] | None = None,
    min_rows: int = 30,
) -> Evaluation:
    """Evaluate ``model`` on ``data``, overall and per slice (:func:`~loopml.validation.evaluate`).

    Args:
        model: a fitted estimator (another step's output), or a model package's
            artifact id or folder, loaded with :func:`loopml.models.load_model`.
        data: the test frame: features and target.
        target: the target column.
        task: ``binary``, ``multiclass``, ``classification`` or ``regression`` (None: inferred).
        slices: :meth:`Slice.to_dict` dicts, e.g. ``Slice.by_values("origin").to_dict()``.
        name: what is evaluated, for reports.
        features: the columns given to the model (default: all but the target).
        min_rows: slice groups with fewer rows are ``insufficient_data``.
    """
    from loopml.validation.evaluation import evaluate

    if isinstance(model, str):
        from loopml.models import load_model

        model = load_model(model, workspace=step_workspace())
    return evaluate(
        model,
        data,
        target=target,
        task=task,
        slices=slices,
        name=name,
        features=features,
        min_rows=min_rows,
    )


@step
def evaluate_baseline(
    model: str | None,
    data: Any,
    target: str,
    task: str | None = None,
    slices: list[dict[str, Any]] | None = None,
    name: str | None = None,
    features: list[str] | None = None,
    min_rows: int = 30,
) -> Evaluation | None:
    """The production model's evaluation on the same data, or None when nothing is in production.

    ``model`` is a model package's artifact id (as a registry step finds it) or None;
    see :func:`evaluate_model` for the rest.
    """
    if model is None:
        return None
    return evaluate_model.fn(model, data, target, task, slices, name, features, min_rows)


@step
def bless_model(
    candidate: Evaluation,
    policy: dict[str, Any],
    baseline: Evaluation | None = None,
    model_artifact: str | None = None,
    fail: bool = True,
) -> Blessing:
    """Bless ``candidate`` against ``policy`` and the production ``baseline``; stop the run if not.

    Args:
        candidate: the new model's evaluation.
        policy: a :class:`~loopml.validation.BlessingPolicy` in its dict form.
        baseline: the production model's evaluation (None: nothing in production yet).
        model_artifact: the candidate's model package (artifact id or folder): when the
            policy requires it, :func:`loopml.models.infra_check` loads it in a fresh
            process and exercises its signature.
        fail: raise when not blessed (the default); off, the blessing is returned either way.

    Raises:
        ModelNotBlessedError: if not blessed and ``fail`` is on; the blessing is stored as
            the failed step's ``blessing`` output.
    """
    from loopml.validation.blessing import bless
    from loopml.validation.policy import BlessingPolicy

    rules = BlessingPolicy.from_dict(policy)
    infra = None
    if rules.require_infra_check and model_artifact is not None:
        from loopml.models import infra_check

        infra = infra_check(model_artifact, workspace=step_workspace())
    blessing = bless(candidate, rules, baseline=baseline, infra=infra)
    return blessing.raise_if_not_blessed() if fail else blessing
