"""The three protocols on one server: native JSON, Open Inference Protocol v2, MLflow scoring."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from serving_flows import IRIS, ROW


@pytest.fixture
def client(iris: int, make_app: Any) -> Any:
    with TestClient(make_app(["iris@live"])) as client:
        yield client


def test_native_records_and_columns_name_the_version(client: TestClient) -> None:
    r = client.post("/v1/models/iris/predict", json={"records": [ROW, ROW]})
    assert r.status_code == 200
    assert r.headers["loopml-model-version"] == "1"
    body = r.json()
    assert body["predictions"] == [0, 0] and body["version"] == 1 and body["model"] == "iris"
    columns = {k: [v] for k, v in ROW.items()}
    r = client.post("/v1/models/iris/predict?probabilities=true", json={"columns": columns})
    body = r.json()
    assert body["classes"] == [0, 1, 2] and len(body["probabilities"][0]) == 3
    assert body["predictions"] == [0]
    assert client.post("/v1/models/iris/predict", json=[ROW]).json()["predictions"] == [0]
    plain = client.post("/v1/models/iris/predict?xprobabilities=1", json=[ROW]).json()
    assert "probabilities" not in plain


def test_a_caller_request_id_is_kept(client: TestClient) -> None:
    r = client.post("/v1/models/iris/predict", json=[ROW], headers={"X-Request-Id": "abc-1"})
    assert r.json()["request_id"] == "abc-1" and r.headers["loopml-request-id"] == "abc-1"


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": list(ROW), "data": [list(ROW.values())]}},
        {"dataframe_records": [ROW]},
        {"instances": [ROW]},
        {"inputs": {k: [v] for k, v in ROW.items()}},
        {"inputs": [ROW]},
    ],
)
def test_mlflow_json_layouts(client: TestClient, body: dict[str, Any]) -> None:
    r = client.post("/invocations", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": [0]}
    assert r.headers["loopml-model-version"] == "1"


def test_mlflow_csv_and_health(client: TestClient) -> None:
    csv = ",".join(ROW) + "\n" + ",".join(map(str, ROW.values())) + "\n"
    r = client.post("/invocations", content=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": [0]}
    assert client.get("/ping").status_code == 200
    assert client.get("/health").status_code == 200
    assert client.get("/version").text


def test_v2_health_and_metadata(client: TestClient) -> None:
    live = client.get("/v2/health/live")
    assert live.json() == {"live": True}
    assert live.headers["content-type"] == "application/json"
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2/models/iris/ready").json()["ready"] is True
    meta = client.get("/v2/models/iris").json()
    assert [i["name"] for i in meta["inputs"]] == IRIS
    assert {o["name"] for o in meta["outputs"]} == {"prediction", "probabilities"}
    assert meta["versions"] == ["1"]


def _tensors() -> list[dict[str, Any]]:
    return [{"name": k, "shape": [2], "datatype": "FP64", "data": [v, v]} for k, v in ROW.items()]


def test_v2_json_tensors(client: TestClient) -> None:
    r = client.post("/v2/models/iris/infer", json={"id": "r1", "inputs": _tensors()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "r1" and body["model_version"] == "1"
    assert body["outputs"][0]["name"] == "prediction" and body["outputs"][0]["data"] == [0, 0]
    asked = {"inputs": _tensors(), "outputs": [{"name": "probabilities"}]}
    body = client.post("/v2/models/iris/versions/1/infer", json=asked).json()
    assert body["outputs"][0]["shape"] == [2, 3]


def test_v2_one_2d_tensor_spreads_over_the_columns(client: TestClient) -> None:
    tensor = {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [list(ROW.values())]}
    r = client.post("/v2/models/iris/infer", json={"inputs": [tensor]})
    assert r.status_code == 200, r.text
    assert r.json()["outputs"][0]["data"] == [0]


def _binary_request(outputs_binary: bool) -> tuple[bytes, dict[str, str]]:
    """A request as tritonclient builds it: JSON header, raw tensors, no Content-Type."""
    inputs, raw = [], b""
    for name, value in ROW.items():
        data = np.array([value, value], dtype=np.float32).tobytes()
        inputs.append(
            {"name": name, "shape": [2, 1], "datatype": "FP32",
             "parameters": {"binary_data_size": len(data)}}
        )  # fmt: skip
        raw += data
    outputs = [
        {"name": "prediction", "parameters": {"binary_data": outputs_binary}},
        {"name": "probabilities", "parameters": {"binary_data": outputs_binary}},
    ]
    header = json.dumps({"inputs": inputs, "outputs": outputs}).encode()
    return header + raw, {"Inference-Header-Content-Length": str(len(header))}


def test_v2_binary_tensors_in_and_out(client: TestClient) -> None:
    body, headers = _binary_request(outputs_binary=True)
    r = client.post("/v2/models/iris/infer", content=body, headers=headers)
    assert r.status_code == 200, r.text
    size = int(r.headers["inference-header-content-length"])
    header = json.loads(r.content[:size])
    rest = r.content[size:]
    prediction, probabilities = header["outputs"]
    n = prediction["parameters"]["binary_data_size"]
    assert np.frombuffer(rest[:n], dtype="<i8").tolist() == [0, 0]
    proba = np.frombuffer(rest[n:], dtype="<f8").reshape(probabilities["shape"])
    assert proba.shape == (2, 3) and np.allclose(proba.sum(axis=1), 1)


def test_v2_binary_in_json_out(client: TestClient) -> None:
    body, headers = _binary_request(outputs_binary=False)
    r = client.post("/v2/models/iris/infer", content=body, headers=headers)
    assert r.headers["content-type"] == "application/json"
    assert r.json()["outputs"][0]["data"] == [0, 0]


def test_v2_bytes_tensors_decode_to_strings() -> None:
    from loopml.models import ColumnSpec, Signature
    from loopml.serving import oip

    raw = b"".join(struct.pack("<I", len(s)) + s for s in (b"red", b"blue"))
    header = {
        "inputs": [
            {"name": "color", "shape": [2], "datatype": "BYTES",
             "parameters": {"binary_data_size": len(raw)}},
            {"name": "size", "shape": [2], "datatype": "INT64", "data": [1, 2]},
        ]
    }  # fmt: skip
    signature = Signature((ColumnSpec("color", "string"), ColumnSpec("size", "int")))
    columns, rows = oip.decode_inputs(header, raw, signature)
    assert rows == 2 and list(columns["color"]) == ["red", "blue"]
    _, length = oip.encode_response({}, [("prediction", np.array(["a", "bc"]))], {"*"})
    assert length is not None


def test_openapi_carries_the_signature(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/models/iris/predict" in spec["paths"]
    request = spec["components"]["schemas"]["IrisRequest"]
    row = request["properties"]["records"]["items"]
    assert row["required"] == IRIS
    assert row["properties"]["sepal_length"] == {"anyOf": [{"type": "number"}, {"type": "null"}]}
    assert client.get("/docs").status_code == 200


def test_unknown_model_and_route_are_json_404(client: TestClient) -> None:
    r = client.post("/v1/models/nope/predict", json=[ROW])
    assert r.status_code == 404 and r.json()["error_code"] == "not_found"
    assert client.get("/nowhere").json()["error_code"] == "not_found"
