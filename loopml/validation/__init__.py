"""Data validation: statistics, schemas, anomalies, skew and drift, with reports.

:func:`compute_statistics` profiles a dataset with DuckDB (a pandas frame, an
Arrow table, Parquet or CSV files read in place); :func:`infer_schema` turns
statistics into a :class:`Schema` that people curate as YAML;
:func:`validate` checks a batch against it and reports :class:`Anomaly`
objects with a severity, and :class:`DriftDetector` (``fit`` on a reference,
``score`` a batch) measures per feature the drift that is both significant
and material. Every result is JSON for machines and HTML for people, and an
artifact with lineage when produced by the steps of
:mod:`loopml.validation.steps`, where errors stop the pipeline
(:class:`DataValidationError`).
"""

from __future__ import annotations

from loopml.validation.anomalies import Anomaly, ValidationReport, validate
from loopml.validation.blessing import Blessing, Check, bless
from loopml.validation.drift import DriftDetector, detect_drift
from loopml.validation.drift_report import DriftReport, FeatureDrift
from loopml.validation.errors import DataValidationError, ModelNotBlessedError
from loopml.validation.evaluation import Evaluation, SliceMetrics, evaluate
from loopml.validation.materializers import register as _register_materializers
from loopml.validation.policy import BlessingPolicy
from loopml.validation.schema import (
    FeatureSchema,
    InferenceOptions,
    Schema,
    SchemaChange,
    SchemaError,
    diff_schemas,
    infer_schema,
)
from loopml.validation.slices import Slice
from loopml.validation.sources import open_source
from loopml.validation.statistics import (
    CategorySummary,
    DatasetStatistics,
    FeatureStatistics,
    Histogram,
    NumericSummary,
    TimeSummary,
    compute_statistics,
)

_register_materializers()

__all__ = [
    "Anomaly",
    "Blessing",
    "BlessingPolicy",
    "CategorySummary",
    "Check",
    "DataValidationError",
    "DatasetStatistics",
    "DriftDetector",
    "DriftReport",
    "Evaluation",
    "FeatureDrift",
    "FeatureSchema",
    "FeatureStatistics",
    "Histogram",
    "InferenceOptions",
    "ModelNotBlessedError",
    "NumericSummary",
    "Schema",
    "SchemaChange",
    "SchemaError",
    "Slice",
    "SliceMetrics",
    "TimeSummary",
    "ValidationReport",
    "bless",
    "compute_statistics",
    "detect_drift",
    "diff_schemas",
    "evaluate",
    "infer_schema",
    "open_source",
    "validate",
]
