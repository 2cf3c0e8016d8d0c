"""``loopml predict``: batch scoring from the command line, with a summary and clean errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from loopml.models import log_model
from loopml.registry import ModelRegistry

FEATURES = ["mean radius", "mean texture"]


@pytest.fixture
def data(tmp_path: Path) -> pd.DataFrame:
    """A classifier registered as ``cancer@staging``, and the frame it was trained on."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    frame = load_breast_cancer(as_frame=True).frame[[*FEATURES, "target"]]
    model = LogisticRegression().fit(frame[FEATURES], frame["target"])
    registry = ModelRegistry()
    registry.register_model("cancer", log_model(model, example=frame[FEATURES].head(10)))
    registry.set_alias("cancer", "staging", 1)
    frame.to_parquet(tmp_path / "data.parquet")
    return frame


def test_predict_writes_the_output_and_prints_the_summary(
    invoke, data: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "out.parquet"
    result = invoke(
        "predict",
        "cancer@staging",
        "--input",
        str(tmp_path / "data.parquet"),
        "--output",
        str(out),
        "--chunk-rows",
        "100",
        "--column",
        "target",
    )
    assert result.exit_code == 0, result.output
    assert "cancer version 1" in result.stdout and "569" in result.stdout
    assert "scoring" in result.stderr
    scored = pq.read_table(out).to_pandas()
    assert len(scored) == 569 and scored["target"].tolist() == data["target"].tolist()


def test_predict_on_an_executor_writes_a_folder(invoke, data: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "scored"
    result = invoke(
        "predict",
        "cancer:1",
        "-i",
        str(tmp_path / "data.parquet"),
        "-o",
        str(out),
        "--executor",
        "local",
    )
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows == 569


def test_bad_input_is_one_red_line_and_exit_2(invoke, data: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "bad.parquet"
    data.drop(columns=["mean texture"]).to_parquet(source)
    out = tmp_path / "out.parquet"
    result = invoke("predict", "cancer@staging", "--input", str(source), "--output", str(out))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: input column 'mean texture' is missing"
    )
    assert not out.exists()


def test_an_unknown_alias_exits_2(invoke, data: pd.DataFrame, tmp_path: Path) -> None:
    result = invoke(
        "predict",
        "cancer@production",
        "-i",
        str(tmp_path / "data.parquet"),
        "-o",
        str(tmp_path / "out.parquet"),
    )
    assert result.exit_code == 2 and "production" in result.stderr
