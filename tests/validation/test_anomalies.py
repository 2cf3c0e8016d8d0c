"""Validation: every anomaly kind with its severity, on frames and on files, and odd data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from samples import flights, frames

from loopml.core.errors import InvalidInputError
from loopml.validation import (
    DataValidationError,
    FeatureSchema,
    InferenceOptions,
    Schema,
    ValidationReport,
    infer_schema,
    validate,
)


@pytest.fixture
def schema(train: pd.DataFrame) -> Schema:
    # Ranges judged by their tolerance, not the inferred "warning" (tested on its own below).
    return infer_schema(train, InferenceOptions(range_severity=None))


def test_inferred_ranges_only_warn_by_default(train: pd.DataFrame, batch: pd.DataFrame) -> None:
    warmer = batch.assign(temp=batch["temp"] + 60)
    report = validate(warmer, infer_schema(train))
    assert kinds(report) == {("temp", "out_of_range"): "warning"}
    assert report.ok


def kinds(report: ValidationReport) -> dict[tuple[str | None, str], str]:
    return {(a.feature, a.kind): a.severity for a in report.anomalies}


def test_a_batch_of_the_same_data_passes(schema: Schema, batch: pd.DataFrame) -> None:
    report = validate(batch, schema)
    assert (report.status, report.anomalies, report.ok) == ("passed", (), True)
    assert report.feature_status() == dict.fromkeys(batch.columns, "ok")


def test_schema_skew_is_reported_with_severities(schema: Schema, batch: pd.DataFrame) -> None:
    skewed = batch.drop(columns=["origin"]).assign(
        distance=batch["distance"].astype("str"),  # wrong type
        extra=1,
        temp=batch["temp"].where(np.arange(len(batch)) % 3 != 0),  # a third missing
    )
    report = validate(skewed, schema)
    assert kinds(report) == {
        ("origin", "missing_column"): "error",
        ("extra", "unexpected_column"): "warning",
        ("distance", "type_mismatch"): "error",
        ("temp", "missing_values"): "error",
    }
    assert report.status == "failed"
    assert report.feature_status()["carrier"] == "ok", "the other features are still judged"


def test_new_categories_are_listed_with_their_share(schema: Schema, batch: pd.DataFrame) -> None:
    carriers = batch["carrier"].to_numpy(dtype=object).copy()
    carriers[:5] = "9E"  # 0.25%: tolerated as a warning
    carriers[5:6] = "WN"
    few = validate(batch.assign(carrier=carriers), schema)
    [anomaly] = few.anomalies
    assert (anomaly.kind, anomaly.severity, anomaly.count) == ("out_of_domain", "warning", 6)
    assert anomaly.details["values"] == {"9E": 5, "WN": 1}
    assert "'9E' (0.25%)" in anomaly.message
    carriers[:100] = "9E"  # 5%: above max_out_of_domain
    many = validate(batch.assign(carrier=carriers), schema)
    assert kinds(many) == {("carrier", "out_of_domain"): "error"}


def test_values_out_of_range_warn_a_little_and_fail_a_lot(
    schema: Schema, batch: pd.DataFrame
) -> None:
    temp = batch["temp"].to_numpy().copy()
    temp[0] = 1e6
    report = validate(batch.assign(temp=temp), schema)
    [anomaly] = report.anomalies
    assert (anomaly.kind, anomaly.severity, anomaly.details["above"]) == (
        "out_of_range",
        "warning",
        1,
    )
    temp[:50] = -1e6
    assert kinds(validate(batch.assign(temp=temp), schema)) == {("temp", "out_of_range"): "error"}


def test_severity_overrides_from_the_schema_and_the_call(
    schema: Schema, batch: pd.DataFrame
) -> None:
    skewed = batch.assign(extra=1, carrier="XX")
    relaxed = Schema(schema.features, severity={"out_of_domain": "warning"})
    assert kinds(validate(skewed, relaxed))[("carrier", "out_of_domain")] == "warning"
    ignored = validate(skewed, relaxed, severity={"unexpected_column": "ignore"})
    assert ("extra", "unexpected_column") not in kinds(ignored)
    with pytest.raises(InvalidInputError, match="severity"):
        validate(batch, schema, severity={"out_of_range": "fatal"})


def test_whole_floats_pass_as_integers_but_fractions_do_not() -> None:
    schema = Schema(features=(FeatureSchema("n", type="int", max_missing=0.5),))
    assert validate(pd.DataFrame({"n": [1.0, 2.0, np.nan]}), schema).ok
    report = validate(pd.DataFrame({"n": [1.0, 2.5, 3.0]}), schema)
    assert kinds(report) == {("n", "type_mismatch"): "error"}


def test_too_few_rows_and_an_empty_batch(schema: Schema, batch: pd.DataFrame) -> None:
    report = validate(batch.iloc[:0], schema)
    assert kinds(report) == {(None, "too_few_rows"): "error"}


def test_files_and_tables_are_validated_like_frames(
    schema: Schema, batch: pd.DataFrame, tmp_path: Path
) -> None:
    skewed = batch.assign(carrier="XX", extra=1)
    skewed.loc[::2, "distance"] = 99_999
    parquet = tmp_path / "batch.parquet"
    skewed.to_parquet(parquet)
    expected = kinds(validate(skewed, schema))
    assert expected == {
        ("extra", "unexpected_column"): "warning",
        ("distance", "out_of_range"): "error",
        ("carrier", "out_of_domain"): "error",
    }
    assert kinds(validate(parquet, schema)) == expected
    table = pa.Table.from_pandas(skewed, preserve_index=False)
    assert kinds(validate(table, schema)) == expected


def test_raise_for_errors_carries_the_report(schema: Schema, batch: pd.DataFrame) -> None:
    report = validate(batch.drop(columns=["origin"]), schema)
    with pytest.raises(DataValidationError, match="origin: missing_column") as caught:
        report.raise_for_errors()
    assert caught.value.report is report
    assert caught.value.evidence == {"report": report}
    assert caught.value.error_code == "data_validation_failed"


def test_reports_round_trip_through_json(schema: Schema, batch: pd.DataFrame) -> None:
    report = validate(batch.assign(carrier="XX", extra=1), schema)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["status"] == "failed"
    assert ValidationReport.from_dict(data) == report


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reference=frames(), current=frames())
def test_odd_batches_against_odd_schemas_never_raise(
    reference: pd.DataFrame, current: pd.DataFrame
) -> None:
    report = validate(current, infer_schema(reference))
    statuses = report.feature_status()
    assert set(statuses) == set(reference.columns) | set(current.columns)
    for anomaly in report.anomalies:
        assert anomaly.severity in ("error", "warning")
        assert 0 <= anomaly.share <= 1 or anomaly.feature is None
    json.dumps(report.to_dict(), allow_nan=False)


def test_flights_of_another_month_keep_their_schema() -> None:
    assert validate(flights(5000, seed=7), infer_schema(flights(5000))).ok


def test_the_report_names_the_batch(schema: Schema, batch: pd.DataFrame) -> None:
    """Regression: a frame's column name leaked into the report as the dataset's name."""
    assert validate(batch, schema).dataset == "<DataFrame>"
    assert validate(batch, schema, name="march").dataset == "march"
