"""Bad input gets a 4xx naming the field, never a 500; the signature decides the types."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from serving_flows import ROW

from loopml.core.errors import InvalidInputError
from loopml.models import ColumnSpec, Signature, SignatureError
from loopml.serving.codec import columns_from_records, to_frame
from loopml.serving.errors import PayloadTooLargeError

SIGNATURE = Signature(
    (
        ColumnSpec("f", "float", nullable=True),
        ColumnSpec("g", "float"),
        ColumnSpec("i", "int"),
        ColumnSpec("b", "bool"),
        ColumnSpec("s", "string"),
        ColumnSpec("c", "category"),
        ColumnSpec("t", "timestamp"),
    )
)
GOOD = {"f": None, "g": 1, "i": 3, "b": True, "s": "x", "c": "red", "t": "2024-01-02T03:04:05Z"}


def frame(rows: list[dict[str, Any]], max_rows: int = 100) -> Any:
    columns, n = columns_from_records(rows)
    return to_frame(columns, n, SIGNATURE, max_rows)


def test_a_good_request_gets_the_signature_types() -> None:
    result = frame([GOOD, {**GOOD, "f": 2.5, "c": "blue"}])
    SIGNATURE.check(result)
    assert math.isnan(result["f"][0]) and result["g"].dtype == np.float64
    assert result["i"].dtype == np.int64 and result["c"].dtype.name == "category"
    assert str(result["t"].dtype).startswith("datetime64")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"g": None}, "g"),
        ({"g": float("nan")}, "g"),
        ({"g": "1.5"}, "g"),
        ({"g": True}, "g"),
        ({"i": 1.5}, "i"),
        ({"i": "3"}, "i"),
        ({"i": 10**30}, "i"),
        ({"i": float("inf")}, "i"),
        ({"b": 1}, "b"),
        ({"s": 5}, "s"),
        ({"s": None}, "s"),
        ({"c": ["a"]}, "c"),
        ({"t": "yesterday"}, "t"),
        ({"t": 5}, "t"),
        ({"extra": 1}, "extra"),
        ({"g": {"nested": 1}}, "g"),
    ],
)
def test_each_wrong_value_names_its_column(change: dict[str, Any], field: str) -> None:
    with pytest.raises(SignatureError) as info:
        frame([GOOD, {**GOOD, **change}])
    assert info.value.field == field


def test_missing_columns_and_sizes() -> None:
    with pytest.raises(SignatureError, match="'s' is missing") as info:
        frame([{k: v for k, v in GOOD.items() if k != "s"}])
    assert info.value.field == "s"
    with pytest.raises(PayloadTooLargeError):
        frame([GOOD] * 3, max_rows=2)
    with pytest.raises(InvalidInputError, match="no rows"):
        frame([])


def test_integral_floats_are_ints_and_ints_are_floats() -> None:
    result = frame([{**GOOD, "i": 4.0, "g": 7}])
    assert result["i"].tolist() == [4] and result["g"].tolist() == [7.0]


GARBAGE: list[tuple[str, Any, dict[str, str]]] = [
    ("/v1/models/iris/predict", b"", {}),
    ("/v1/models/iris/predict", b"{not json", {}),
    ("/v1/models/iris/predict", b"\xff\xfe\x00", {}),
    ("/v1/models/iris/predict", b"null", {}),
    ("/v1/models/iris/predict", b"42", {}),
    ("/v1/models/iris/predict", b'"text"', {}),
    ("/v1/models/iris/predict", b"[1, 2, 3]", {}),
    ("/v1/models/iris/predict", b'{"records": 5}', {}),
    ("/v1/models/iris/predict", b'{"records": []}', {}),
    ("/v1/models/iris/predict", b'{"records": [[1,2,3,4]]}', {}),
    ("/v1/models/iris/predict", b'{"columns": {"sepal_length": [1], "x": [1, 2]}}', {}),
    ("/v1/models/iris/predict", b'{"columns": []}', {}),
    ("/v1/models/iris/predict", b'{"records": [{"sepal_length": NaN}]}', {}),
    ("/v1/models/iris/predict", b'{"records": [{"sepal_length": 1e999}]}', {}),
    ("/v1/models/iris/predict", b'[{"sepal_length": 1, "sepal_width": 1, "petal_length": 1}]', {}),
    ("/invocations", b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}', {}),
    ("/invocations", b'{"dataframe_split": 3}', {}),
    ("/invocations", b'{"instances": [1, 2], "inputs": [1]}', {}),
    ("/invocations", b'{"instances": [[1, 2, 3, 4]]}', {}),
    ("/invocations", b"{}", {}),
    ("/invocations", b"a,b\n1", {"Content-Type": "text/csv"}),
    ("/invocations", b"\x00\x01", {"Content-Type": "text/csv"}),
    ("/invocations", b"", {"Content-Type": "text/csv"}),
    ("/invocations", b"<xml/>", {"Content-Type": "application/xml"}),
    ("/v2/models/iris/infer", b"{}", {}),
    ("/v2/models/iris/infer", b'{"inputs": [{"name": "x"}]}', {}),
    (
        "/v2/models/iris/infer",
        b'{"inputs": [{"name": "sepal_length", "shape": [2], "datatype": "FP64", "data": [1]}]}',
        {},
    ),
    (
        "/v2/models/iris/infer",
        b'{"inputs": [{"name": "sepal_length", "shape": [1], "datatype": "WAT", "data": [1]}]}',
        {},
    ),
    (
        "/v2/models/iris/infer",
        b'{"inputs": [{"name": "sepal_length", "shape": [1], "datatype": "FP64", "data": ["a"]}]}',
        {},
    ),
    (
        "/v2/models/iris/infer",
        b'{"inputs": [{"name": "sepal_length", "shape": [-1], "datatype": "FP64", "data": [1]}]}',
        {},
    ),
    (
        "/v2/models/iris/infer",
        b'{"inputs": [{"name": "sepal_length", "shape": [1],'
        b' "datatype": "FP64", "parameters": {"binary_data_size": 99}}]}',
        {},
    ),
    ("/v2/models/iris/infer", b'{"inputs": []}', {"Inference-Header-Content-Length": "x"}),
    ("/v2/models/iris/infer", b'{"inputs": []}', {"Inference-Header-Content-Length": "999"}),
    (
        "/v2/models/iris/infer",
        b'{"inputs": [{"name": "i", "shape": [1, 4], "datatype": "INT8",'
        b' "data": [1000, 1, 1, 1]}]}',
        {},
    ),
    (
        "/v2/models/iris/infer",
        b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64",'
        b' "data": [1]}], "outputs": [{"name": "nope"}]}',
        {},
    ),
    ("/v2/models/iris/versions/9/infer", b"{}", {}),
    ("/v1/feedback", b'{"request_id": 5}', {}),
    ("/v1/feedback", b"[]", {}),
    ("/v1/feedback", b'{"request_id": "a"}', {}),
]


@pytest.mark.parametrize(("path", "body", "headers"), GARBAGE)
def test_garbage_is_never_a_500(
    iris: int, make_app: Any, path: str, body: bytes, headers: dict[str, str]
) -> None:
    with TestClient(make_app(["iris@live"]), raise_server_exceptions=False) as client:
        r = client.post(path, content=body, headers=headers)
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        error = r.json()
        assert error["error_code"] and error["message"]
        assert r.headers["content-type"] == "application/json"


def test_a_wrong_type_names_the_field_over_http(iris: int, make_app: Any) -> None:
    with TestClient(make_app(["iris@live"])) as client:
        r = client.post("/v1/models/iris/predict", json=[{**ROW, "petal_width": "wide"}])
        assert r.status_code == 422
        assert r.json()["field"] == "petal_width"
        assert r.json()["error_code"] == "signature_mismatch"
        r = client.post("/v1/models/iris/predict", json=[{**ROW, "colour": 1}])
        assert r.json()["field"] == "colour"


def test_nan_the_model_cannot_take_is_a_422_not_a_500(iris: int, make_app: Any) -> None:
    """Float columns may be NaN; LogisticRegression refuses NaN: the caller's data, a 4xx."""
    with TestClient(make_app(["iris@live"]), raise_server_exceptions=False) as client:
        r = client.post("/v1/models/iris/predict", json=[{**ROW, "sepal_length": None}])
        assert r.status_code == 422, r.text
        assert r.json()["error_code"] == "model_refused_input"
        assert "NaN" in r.json()["message"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(JSON_VALUES, min_size=1, max_size=5), st.sampled_from(SIGNATURE.inputs))
def test_any_json_value_converts_or_names_its_column(values: list[Any], spec: ColumnSpec) -> None:
    """Law: a column of arbitrary JSON values either converts or raises SignatureError(field)."""
    from loopml.serving.codec import coerce_column

    try:
        out = coerce_column(values, spec)
    except SignatureError as exc:
        assert exc.field == spec.name
        return
    assert len(out) == len(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False) | st.integers(-(2**53), 2**53), min_size=1))
def test_numbers_keep_their_values_in_a_float_column(values: list[float]) -> None:
    from loopml.serving.codec import coerce_column

    out = coerce_column(values, ColumnSpec("g", "float"))
    assert out.dtype == np.float64 and out.tolist() == [float(v) for v in values]
