"""Batch scoring: predictions equal to in-process ones, chunked, checked, written atomically."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopml.core.errors import InvalidInputError, NotFoundError
from loopml.models import SignatureError, log_model
from loopml.pipelines import pipeline, run
from loopml.registry import ModelRegistry
from loopml.serving.batch import (
    MODEL_NAME,
    MODEL_VERSION,
    PREDICTION,
    predict_batch,
    predict_batch_distributed,
    score_batch,
)
from loopml.workspace import get_workspace

# The hand-written (pickled) model of the registry tests.
REGISTRY_TESTS = str(Path(__file__).parents[1] / "registry")
if REGISTRY_TESTS not in sys.path:
    sys.path.insert(0, REGISTRY_TESTS)

FEATURES = ["mean radius", "mean texture", "mean smoothness", "mean symmetry"]


def _data() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame[[*FEATURES, "target"]]
    return frame.reset_index(names="id")


def register(kind: str = "classifier", alias: str = "staging") -> Any:
    """Register a small scikit-learn model as version 1 of ``cancer``; return it fitted."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    frame = _data()
    if kind == "classifier":
        model: Any = LogisticRegression(max_iter=500).fit(frame[FEATURES], frame["target"])
    else:
        model = LinearRegression().fit(frame[FEATURES], frame["mean radius"] * 2)
    package = log_model(model, example=frame[FEATURES].head(20))
    registry = ModelRegistry()
    version = registry.register_model("cancer", package)
    registry.set_alias("cancer", alias, version.version)
    return model


@pytest.fixture
def classifier() -> Any:
    return register()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder for inputs and outputs (beside the test's project folder)."""
    path = tmp_path / "io"
    path.mkdir()
    return path


@pytest.fixture
def data_file(folder: Path) -> Path:
    path = folder / "data.parquet"
    pq.write_table(pa.Table.from_pandas(_data(), preserve_index=False), path, row_group_size=100)
    return path


def test_predictions_and_probabilities_equal_the_in_process_ones(
    classifier: Any, data_file: Path, folder: Path
) -> None:
    out = folder / "out.parquet"
    summary = predict_batch("cancer@staging", data_file, out, chunk_rows=128, columns=["id"])
    frame = _data()
    scored = pq.read_table(out).to_pandas()
    assert summary.rows == len(frame) == len(scored)
    assert summary.chunks == -(-len(frame) // 128)
    assert (summary.model, summary.version) == ("cancer", 1)
    assert list(scored.columns) == [
        "id",
        PREDICTION,
        "probability_0",
        "probability_1",
        MODEL_NAME,
        MODEL_VERSION,
    ]
    assert scored["id"].tolist() == frame["id"].tolist()
    assert scored[PREDICTION].tolist() == classifier.predict(frame[FEATURES]).tolist()
    expected = classifier.predict_proba(frame[FEATURES])
    np.testing.assert_allclose(scored[["probability_0", "probability_1"]], expected)
    assert set(scored[MODEL_NAME]) == {"cancer"} and set(scored[MODEL_VERSION]) == {1}


@pytest.mark.parametrize("chunk_rows", [1, 99, 100, 101, 569, 570, 10_000])
def test_chunk_boundaries_change_nothing(
    classifier: Any, data_file: Path, folder: Path, chunk_rows: int
) -> None:
    """569 rows in row groups of 100: chunks across, on and inside row-group edges."""
    out = folder / "out.parquet"
    summary = predict_batch("cancer:1", data_file, out, chunk_rows=chunk_rows, columns=["id"])
    scored = pq.read_table(out).to_pandas()
    assert summary.chunks == -(-569 // chunk_rows)
    assert scored["id"].tolist() == list(range(569))
    assert scored[PREDICTION].tolist() == classifier.predict(_data()[FEATURES]).tolist()


def test_a_regressor_gets_predictions_only_and_csv_reads_too(folder: Path) -> None:
    model = register("regressor")
    frame = _data()
    source = folder / "data.csv"
    frame.to_csv(source, index=False)
    out = folder / "out.parquet"
    summary = predict_batch("cancer@staging", source, out, chunk_rows=50)
    scored = pq.read_table(out).to_pandas()
    assert list(scored.columns) == [PREDICTION, MODEL_NAME, MODEL_VERSION]
    np.testing.assert_allclose(scored[PREDICTION], model.predict(frame[FEATURES]))
    assert summary.rows == 569 and summary.columns == (PREDICTION, MODEL_NAME, MODEL_VERSION)


def test_a_missing_column_is_named_before_anything_is_written(
    classifier: Any, folder: Path
) -> None:
    source = folder / "data.parquet"
    _data().drop(columns=["mean texture"]).to_parquet(source)
    out = folder / "out.parquet"
    with pytest.raises(SignatureError, match="'mean texture' is missing") as caught:
        predict_batch("cancer@staging", source, out)
    assert caught.value.field == "mean texture"
    assert list(folder.iterdir()) == [source]


def test_a_bad_chunk_names_its_column_and_rows_and_leaves_no_output(folder: Path) -> None:
    """The error comes from the third chunk: the first two were written to a temp file."""
    from sklearn.linear_model import LogisticRegression

    frame = _data()
    frame["bucket"] = (frame["mean radius"] // 5).astype("int64")
    model = LogisticRegression().fit(frame[["bucket"]], frame["target"])
    ModelRegistry().register_model("binned", log_model(model, example=frame[["bucket"]]))
    table = pa.Table.from_pandas(frame[["bucket"]], preserve_index=False)
    values = table.column("bucket").to_pylist()
    values[250] = None  # an int column with a null: no longer int in that chunk
    source = folder / "data.parquet"
    pq.write_table(pa.table({"bucket": pa.array(values, pa.int64())}), source)
    out = folder / "out.parquet"
    out.write_bytes(b"the previous output")
    with pytest.raises(SignatureError, match=r"rows 200-299: input column 'bucket'") as e:
        predict_batch("binned:1", source, out, chunk_rows=100)
    assert e.value.field == "bucket"
    assert out.read_bytes() == b"the previous output"
    assert sorted(p.name for p in folder.iterdir()) == ["data.parquet", "out.parquet"]


def test_a_csv_cell_past_type_inference_is_bad_input(classifier: Any, folder: Path) -> None:
    """pyarrow infers CSV types from the first block: a bad cell later fails while reading."""
    frame = pd.concat([_data()] * 60, ignore_index=True)  # ~2 MB of CSV: several blocks
    text = frame.to_csv(index=False).splitlines()
    text[-1] = text[-1].replace(text[-1].split(",")[2], "oops", 1)
    source = folder / "data.csv"
    source.write_text("\n".join(text) + "\n")
    out = folder / "out.parquet"
    with pytest.raises(InvalidInputError, match="cannot read the input"):
        predict_batch("cancer@staging", source, out, chunk_rows=5000)
    assert not out.exists()


def test_an_empty_input_gives_an_empty_output_with_the_columns(
    classifier: Any, folder: Path
) -> None:
    source = folder / "empty.parquet"
    _data().head(0).to_parquet(source)
    out = folder / "out.parquet"
    summary = predict_batch("cancer@staging", source, out)
    table = pq.read_table(out)
    assert summary.rows == 0 and table.num_rows == 0
    assert PREDICTION in table.column_names and "probability_1" in table.column_names


def test_bad_arguments_are_refused(classifier: Any, data_file: Path, folder: Path) -> None:
    out = folder / "out.parquet"
    with pytest.raises(InvalidInputError, match="chunk_rows"):
        predict_batch("cancer@staging", data_file, out, chunk_rows=0)
    with pytest.raises(InvalidInputError, match="no input"):
        predict_batch("cancer@staging", folder / "nope.parquet", out)
    (folder / "data.json").write_text("{}")
    with pytest.raises(InvalidInputError, match="neither Parquet"):
        predict_batch("cancer@staging", folder / "data.json", out)
    with pytest.raises(InvalidInputError, match="'nope' to carry through"):
        predict_batch("cancer@staging", data_file, out, columns=["nope"])
    with pytest.raises(InvalidInputError, match="clash"):
        predict_batch("cancer@staging", data_file, out, columns=["prediction"])
    with pytest.raises(InvalidInputError, match="overwrite the input"):
        predict_batch("cancer@staging", data_file, data_file)
    with pytest.raises(NotFoundError):
        predict_batch("cancer@production", data_file, out)
    assert not out.exists()


def test_a_pickled_version_scores_only_after_the_opt_in(folder: Path) -> None:
    from lifecycle_flows import Threshold

    from loopml.core.errors import UnsafeLoadError

    example = pd.DataFrame({"x": [0.2, 0.8]})
    package = log_model(Threshold("x", 0.5), example=example, allow_pickle=True, task="regression")
    registry = ModelRegistry()
    registry.register_model("handmade", package)
    source = folder / "x.parquet"
    pd.DataFrame({"x": [0.1, 0.9, 0.7]}).to_parquet(source)
    out = folder / "out.parquet"
    with pytest.raises(UnsafeLoadError):
        predict_batch("handmade:1", source, out)
    registry.trust_pickle("handmade", 1, "our own class")
    predict_batch("handmade:1", source, out)
    assert pq.read_table(out).column(PREDICTION).to_pylist() == [0, 1, 1]


def test_the_distributed_variant_writes_one_part_per_chunk_with_the_same_predictions(
    classifier: Any, data_file: Path, folder: Path
) -> None:
    out = folder / "scored"
    done: list[int] = []
    summary = predict_batch_distributed(
        "cancer@staging",
        data_file,
        out,
        executor="process://?workers=2",
        chunk_rows=200,
        columns=["id"],
        progress=done.append,
    )
    assert summary.chunks == 3  # row groups of 100 grouped by two: 200, 200, 169
    assert sorted(p.name for p in out.iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    assert sorted(done) == [169, 200, 200] and summary.rows == 569
    scored = pq.read_table(out).to_pandas()  # parts are numbered in input order
    assert scored["id"].tolist() == list(range(569))
    assert scored[PREDICTION].tolist() == classifier.predict(_data()[FEATURES]).tolist()
    assert sorted(p.name for p in folder.iterdir()) == ["data.parquet", "scored"]


def test_a_failing_part_leaves_no_output_folder(classifier: Any, folder: Path) -> None:
    frame = _data()
    frame["mean radius"] = frame["mean radius"].astype(object)
    frame.loc[450, "mean radius"] = None
    frame["mean radius"] = frame["mean radius"].astype("string")
    source = folder / "data.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), source, row_group_size=100)
    with pytest.raises(SignatureError, match="'mean radius'"):
        predict_batch_distributed("cancer@staging", source, folder / "out", executor="local")
    assert sorted(p.name for p in folder.iterdir()) == ["data.parquet"]


@pipeline
def scoring(source: str, target: str):
    score_batch("cancer@staging", source, target, chunk_rows=300)


def test_the_pipeline_step_scores_in_the_runs_workspace(
    classifier: Any, data_file: Path, folder: Path
) -> None:
    out = folder / "out.parquet"
    outcome = run(scoring, {"source": str(data_file), "target": str(out)}, executor="local")
    summary = get_workspace().load(outcome.artifact("score_batch"))
    assert summary["rows"] == 569 and summary["chunks"] == 2 and summary["version"] == 1
    assert pq.read_table(out).num_rows == 569


@pytest.fixture(scope="module")
def ray_engine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A Ray executor for the module (reusing the Ray the executor tests started, if any)."""
    pytest.importorskip("ray")
    from loopml.pipelines.executors import RayExecutor

    executor = RayExecutor(num_cpus=2)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_USAGE_STATS_ENABLED", "0")
        env.setenv("HOME", str(tmp_path_factory.mktemp("ray-home")))  # its token goes here
        executor.start()
    yield executor
    executor.shutdown()


@pytest.fixture(scope="module")
def dask_engine() -> Any:
    pytest.importorskip("distributed")
    from loopml.pipelines.executors import DaskExecutor

    with DaskExecutor(n_workers=2) as executor:
        yield executor


@pytest.mark.slow
@pytest.mark.parametrize(
    "engine",
    [
        pytest.param("ray_engine", marks=pytest.mark.ray),
        pytest.param("dask_engine", marks=pytest.mark.dask),
    ],
)
def test_the_distributed_variant_on_ray_and_dask(
    classifier: Any, data_file: Path, folder: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    executor = request.getfixturevalue(engine)
    out = folder / "scored"
    summary = predict_batch_distributed(
        "cancer@staging", data_file, out, executor=executor, chunk_rows=300, columns=["id"]
    )
    assert summary.chunks == 2 and summary.rows == 569
    scored = pq.read_table(out).to_pandas()
    assert scored["id"].tolist() == list(range(569))
    assert scored[PREDICTION].tolist() == classifier.predict(_data()[FEATURES]).tolist()
