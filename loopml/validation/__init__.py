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
from loopml.validation.drift import DriftDetector, detect_drift
from loopml.validation.drift_report import DriftReport, FeatureDrift
from loopml.validation.errors import DataValidationError
from loopml.validation.materializers import register as _register_materializers
from loopml.validation.schema import (
    FeatureSchema,
    InferenceOptions,
    Schema,
    SchemaChange,
    SchemaError,
    diff_schemas,
    infer_schema,
)
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
    "CategorySummary",
    "DataValidationError",
    "DatasetStatistics",
    "DriftDetector",
    "DriftReport",
    "FeatureDrift",
    "FeatureSchema",
    "FeatureStatistics",
    "Histogram",
    "InferenceOptions",
    "NumericSummary",
    "Schema",
    "SchemaChange",
    "SchemaError",
    "TimeSummary",
    "ValidationReport",
    "compute_statistics",
    "detect_drift",
    "diff_schemas",
    "infer_schema",
    "open_source",
    "validate",
]
