"""The ecosystem's own clients against a real server: tritonclient, kserve and MLflow's.

tritonclient (in the dev extra) runs in this process. kserve 0.21 needs
pandas < 3 and MLflow is heavy, so their sides run in peer virtualenvs
(``benchmarks/_peers.py``: ``kserve`` and ``mlflow``, created on first use) as
small scripts that print what they saw as JSON; the tests judge it here. A
peer that cannot be installed skips its tests (fails them under ``CI``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.core import Settings
from loopml.models import log_model
from loopml.registry import ModelRegistry
from loopml.workspace import Workspace

FEATURES = ["mean radius", "mean texture", "mean smoothness", "mean symmetry"]
MODEL = "cancer"
PEERS_FILE = Path(__file__).parents[2] / "benchmarks" / "_peers.py"


def _frame() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame[[*FEATURES, "target"]]


class Served:
    """The running server and the model behind it (to compare answers with)."""

    def __init__(self, url: str, model: Any, rows: pd.DataFrame) -> None:
        self.url = url
        self.model = model
        self.rows = rows
        self.host_port = url.split("://", 1)[1].rstrip("/")

    def expected(self, rows: pd.DataFrame | None = None) -> tuple[list[int], np.ndarray]:
        frame = self.rows if rows is None else rows
        return self.model.predict(frame).tolist(), self.model.predict_proba(frame)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the module: ``cancer@staging``, a logistic regression on four columns."""
    from sklearn.linear_model import LogisticRegression

    from loopml.serving import create_app, run_server_in_thread

    root = tmp_path_factory.mktemp("clients")
    settings = Settings.load(
        root, metadata_uri=f"sqlite:///{root / 'meta.db'}", artifact_uri=str(root / "artifacts")
    )
    workspace = Workspace(settings)
    frame = _frame()
    model = LogisticRegression(max_iter=500).fit(frame[FEATURES], frame["target"])
    registry = ModelRegistry(workspace)
    package = log_model(model, example=frame[FEATURES].head(20), workspace=workspace)
    registry.register_model(MODEL, package)
    registry.set_alias(MODEL, "staging", 1)
    app = create_app(f"{MODEL}@staging", workspace=workspace)
    url, stop = run_server_in_thread(app)
    try:
        yield Served(url, model, frame[FEATURES].iloc[[0, 1, 7, 100, 300]].reset_index(drop=True))
    finally:
        stop()
        workspace.close()


# --- tritonclient (this process) ----------------------------------------------------------


@pytest.fixture
def triton(served: Served) -> Iterator[Any]:
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(url=served.host_port, network_timeout=10.0)
    try:
        yield client
    finally:
        client.close()


def _triton_inputs(rows: pd.DataFrame, *, binary: bool) -> list[Any]:
    import tritonclient.http as httpclient

    inputs = []
    for name in rows.columns:
        values = rows[name].to_numpy(dtype=np.float64)
        tensor = httpclient.InferInput(name, list(values.shape), "FP64")
        tensor.set_data_from_numpy(values, binary_data=binary)
        inputs.append(tensor)
    return inputs


def _triton_outputs(*, binary: bool) -> list[Any]:
    import tritonclient.http as httpclient

    return [
        httpclient.InferRequestedOutput("prediction", binary_data=binary),
        httpclient.InferRequestedOutput("probabilities", binary_data=binary),
    ]


def test_triton_health_and_metadata(served: Served, triton: Any) -> None:
    assert triton.is_server_live()
    assert triton.is_server_ready()
    assert triton.is_model_ready(MODEL)
    metadata = triton.get_model_metadata(MODEL)
    assert metadata["name"] == MODEL
    assert [tensor["name"] for tensor in metadata["inputs"]] == FEATURES
    assert triton.get_server_metadata()["name"]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_triton_infers_with_binary_and_json_tensors(
    served: Served, triton: Any, binary: bool
) -> None:
    """tritonclient's default is binary tensors (no Content-Type); JSON when asked."""
    result = triton.infer(
        MODEL,
        _triton_inputs(served.rows, binary=binary),
        outputs=_triton_outputs(binary=binary),
    )
    predictions, probabilities = served.expected()
    assert result.as_numpy("prediction").tolist() == predictions
    np.testing.assert_allclose(result.as_numpy("probabilities"), probabilities)
    response = result.get_response()
    assert response["model_name"] == MODEL and response["model_version"] == "1"


def test_triton_one_2d_tensor_of_all_columns(served: Served, triton: Any) -> None:
    import tritonclient.http as httpclient

    values = served.rows.to_numpy(dtype=np.float64)
    tensor = httpclient.InferInput("input", list(values.shape), "FP64")
    tensor.set_data_from_numpy(values)
    result = triton.infer(MODEL, [tensor])
    assert result.as_numpy("prediction").tolist() == served.expected()[0]


def test_triton_gets_a_4xx_naming_the_column(served: Served, triton: Any) -> None:
    from tritonclient.utils import InferenceServerException

    inputs = _triton_inputs(served.rows.rename(columns={"mean radius": "radius"}), binary=True)
    with pytest.raises(InferenceServerException) as caught:
        triton.infer(MODEL, inputs)
    assert str(caught.value.status()).startswith("4")
    assert "radius" in caught.value.message()


# --- kserve and MLflow (peer virtualenvs) ---------------------------------------------------


def _peer_python(name: str) -> Path:
    spec = importlib.util.spec_from_file_location("_loopml_bench_peers", PEERS_FILE)
    assert spec is not None and spec.loader is not None
    peers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peers)
    try:
        return Path(peers.ensure_peer(name, log=lambda text: None))
    except peers.PeerError as error:
        if os.environ.get("CI"):
            pytest.fail(f"the {name} peer could not be installed: {error}")
        pytest.skip(f"the {name} peer could not be installed: {error}")


def _run_peer(name: str, script: str, config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    python = _peer_python(name)
    path = tmp_path / f"{name}_client.py"
    path.write_text(script)
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
        MLFLOW_HTTP_REQUEST_TIMEOUT="10",
    )
    done = subprocess.run(
        [str(python), str(path)],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


KSERVE_CLIENT = """
import asyncio, json, sys
import httpx
import numpy as np
from kserve import InferInput, InferRequest, InferenceRESTClient, RESTConfig

config = json.load(sys.stdin)
url, model, rows = config["url"], config["model"], config["rows"]


def request(binary):
    inputs = []
    for name, values in rows.items():
        tensor = InferInput(name, [len(values)], "FP64")
        tensor.set_data_from_numpy(np.asarray(values, dtype=np.float64), binary_data=binary)
        inputs.append(tensor)
    return InferRequest(model_name=model, infer_inputs=inputs, request_id="kserve-1")


async def main():
    out = {}
    client = InferenceRESTClient(RESTConfig(protocol="v2", retries=0, timeout=10))
    try:
        out["live"] = await client.is_server_live(url)
        out["ready"] = await client.is_server_ready(url)
        out["model_ready"] = await client.is_model_ready(url, model)
        out["missing_ready"] = await client.is_model_ready(url, "no-such-model")
        for binary in (False, True):
            headers = {}
            response = await client.infer(
                url, request(binary), model_name=model, response_headers=headers
            )
            out[f"binary={binary}"] = {
                "model_name": response.model_name,
                "id": response.id,
                # kserve's InferResponse drops model_version: the header names it.
                "model_version": headers.get("loopml-model-version"),
                "outputs": {o.name: o.as_numpy().tolist() for o in response.outputs},
            }
        bad = {"inputs": [{"name": "radius", "shape": [1], "datatype": "FP64", "data": [1.0]}]}
        try:
            await client.infer(url, bad, model_name=model)
            out["error"] = None
        except httpx.HTTPStatusError as error:
            out["error"] = {"status": error.response.status_code, "message": str(error)}
    finally:
        await client.close()
    print(json.dumps(out))


asyncio.run(main())
"""


@pytest.mark.slow
def test_the_kserve_client_checks_health_and_infers(served: Served, tmp_path: Path) -> None:
    rows = {name: served.rows[name].tolist() for name in FEATURES}
    seen = _run_peer(
        "kserve", KSERVE_CLIENT, {"url": served.url, "model": MODEL, "rows": rows}, tmp_path
    )
    assert seen["live"] is True and seen["ready"] is True
    assert seen["model_ready"] is True and seen["missing_ready"] is False
    predictions = served.expected()[0]
    for binary in ("binary=False", "binary=True"):
        answer = seen[binary]
        assert answer["model_name"] == MODEL and answer["model_version"] == "1"
        assert answer["id"] == "kserve-1"
        assert answer["outputs"]["prediction"] == predictions
    error = seen["error"]
    assert error is not None and 400 <= error["status"] < 500
    assert "radius" in error["message"]  # the client read the JSON error body


MLFLOW_CLIENT = """
import json, sys
import numpy as np
import pandas as pd
import requests
from mlflow.pyfunc.scoring_server.client import ScoringServerClient
from mlflow.utils.proto_json_utils import dump_input_data

config = json.load(sys.stdin)
host, port = config["host"], int(config["port"])
frame = pd.DataFrame(config["rows"])
client = ScoringServerClient(host, port)
client.wait_server_ready(timeout=10)
out = {"version": client.get_version()}
out["split"] = client.invoke(frame).get_predictions().to_dict(orient="list")
out["records"] = client.invoke(frame.to_dict(orient="records")).get_predictions(
    predictions_format="ndarray"
).tolist()
base = f"http://{host}:{port}"
for key, value in (
    ("inputs", frame.to_dict(orient="list")),
    ("instances", frame.to_dict(orient="records")),
):
    answer = requests.post(
        f"{base}/invocations", json={key: value}, headers={"Content-Type": "application/json"}
    )
    out[key] = answer.json()
csv = requests.post(
    f"{base}/invocations", data=frame.to_csv(index=False), headers={"Content-Type": "text/csv"}
)
out["csv"] = csv.json()
bad = requests.post(
    f"{base}/invocations",
    data=dump_input_data(frame.rename(columns={"mean radius": "radius"})),
    headers={"Content-Type": "application/json"},
)
out["error"] = {"status": bad.status_code, "body": bad.json()}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_mlflows_scoring_client_and_payloads(served: Served, tmp_path: Path) -> None:
    rows = {name: served.rows[name].tolist() for name in FEATURES}
    host, port = served.host_port.rsplit(":", 1)
    seen = _run_peer("mlflow", MLFLOW_CLIENT, {"host": host, "port": port, "rows": rows}, tmp_path)
    predictions = served.expected()[0]
    assert seen["version"]
    assert next(iter(seen["split"].values())) == predictions
    assert seen["records"] == predictions
    for key in ("inputs", "instances", "csv"):
        assert seen[key]["predictions"] == predictions
    error = seen["error"]
    assert 400 <= error["status"] < 500
    assert "radius" in error["body"]["message"] and error["body"]["error_code"]
