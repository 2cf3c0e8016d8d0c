"""Schemas: inferred with slack, curated as YAML, compared with diff."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from samples import frames

from loopml.validation import (
    FeatureSchema,
    InferenceOptions,
    Schema,
    SchemaError,
    compute_statistics,
    diff_schemas,
    infer_schema,
    validate,
)


def test_inference_takes_types_missing_ranges_and_domains_with_slack(train: pd.DataFrame) -> None:
    schema = infer_schema(compute_statistics(train))
    assert [f.name for f in schema] == list(train.columns)
    distance, temp, carrier = schema["distance"], schema["temp"], schema["carrier"]
    assert (distance.type, distance.max_missing) == ("int", 0.01)
    low, high = int(train["distance"].min()), int(train["distance"].max())
    margin = (high - low) * 0.1
    assert distance.min == max(0, int(low - margin)) and distance.max >= high + margin
    assert temp.type == "float"
    observed = train["temp"].isna().mean()
    assert observed < temp.max_missing <= observed + max(0.01, 0.2 * observed) + 0.001
    assert carrier.domain == ("AA", "B6", "DL", "UA")
    assert carrier.max_out_of_domain == 0.01
    assert schema["delayed"].domain == ("false", "true")
    assert schema["time_hour"].type == "timestamp" and schema["time_hour"].min is None


def test_identifiers_and_free_text_get_no_domain() -> None:
    frame = pd.DataFrame({"id": [f"row{i}" for i in range(100)], "small": ["a", "b"] * 50})
    schema = infer_schema(frame, InferenceOptions(max_domain_ratio=0.5))
    assert schema["id"].domain is None
    assert schema["small"].domain == ("a", "b")


def test_non_negative_features_stay_non_negative() -> None:
    schema = infer_schema(pd.DataFrame({"count": [0.5, 3.0, 10.0]}))
    assert schema["count"].min == 0.0


def test_yaml_round_trip_and_a_file_people_can_edit(train: pd.DataFrame, tmp_path: Path) -> None:
    schema = infer_schema(train)
    path = schema.save(tmp_path / "schema.yaml")
    text = path.read_text()
    assert text.startswith("# loopml data schema")
    assert Schema.load(path) == schema
    assert schema.severity == {"out_of_range": "warning"}, "inferred ranges warn"
    edited = text.replace("out_of_range: warning", "out_of_range: error")
    path.write_text(edited)
    assert Schema.load(path).severity == {"out_of_range": "error"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("features: {x: {type: decimal}}", "feature 'x': type 'decimal'"),
        ("features: {x: {max_missing: 2}}", "feature 'x': max_missing must be a share"),
        ("features: {x: {min: 3, max: 1}}", "feature 'x': min 3 is above max 1"),
        ("features: {x: {colour: red}}", "feature 'x': unknown fields"),
        ("features: {x: {domain: abc}}", "feature 'x': domain must be a list"),
        ("severity: {weird: error}", "unknown anomaly kind 'weird'"),
        ("severity: {out_of_range: fatal}", "'fatal' is not one of"),
        ("version: 7", "schema version 7"),
        ("[1, 2]", "a schema is a mapping"),
        ("features: [", "not valid YAML"),
    ],
)
def test_malformed_schemas_are_refused_naming_the_feature_and_field(
    text: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    with pytest.raises(SchemaError, match=message) as caught:
        Schema.load(path)
    assert str(path) in str(caught.value)


def test_diff_lists_added_removed_and_changed_fields() -> None:
    old = Schema(
        features=(
            FeatureSchema("a", type="int", min=0, max=10),
            FeatureSchema("b", type="string", domain=("x", "y")),
            FeatureSchema("gone", type="float"),
        )
    )
    new = Schema(
        features=(
            FeatureSchema("a", type="float", min=0, max=12),
            FeatureSchema("b", type="string", domain=("y", "z")),
            FeatureSchema("new", type="bool"),
        ),
        severity={"out_of_domain": "warning"},
    )
    changes = {(c.feature, c.field): (c.kind, c.old, c.new) for c in diff_schemas(old, new)}
    assert changes == {
        ("*", "severity.out_of_domain"): ("changed", None, "warning"),
        ("a", "type"): ("changed", "int", "float"),
        ("a", "max"): ("changed", 10, 12),
        ("b", "domain"): ("changed", ["x"], ["z"]),
        ("new", "feature"): ("added", None, {"type": "bool", "required": True}),
        ("gone", "feature"): ("removed", {"type": "float", "required": True}, None),
    }
    assert diff_schemas(new, new) == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_data_always_passes_the_schema_inferred_from_it(frame: pd.DataFrame) -> None:
    schema = infer_schema(frame)
    assert Schema.from_yaml(schema.to_yaml()) == schema
    report = validate(frame, schema)
    assert report.anomalies == (), report.anomalies
