"""``loopml stats``, ``schema infer/diff``, ``validate`` and ``drift`` on files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "validation"))
from samples import flights

from loopml.validation import Schema


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "train": tmp_path / "train.parquet",
        "batch": tmp_path / "batch.parquet",
        "skewed": tmp_path / "skewed.csv",
        "drifted": tmp_path / "drifted.parquet",
    }
    flights().to_parquet(paths["train"])
    flights(seed=1).to_parquet(paths["batch"])
    skewed = flights(seed=2).drop(columns=["origin", "time_hour"]).assign(carrier="XX")
    skewed.to_csv(paths["skewed"], index=False)
    drifted = flights(seed=3)
    drifted["temp"] += 8
    drifted.to_parquet(paths["drifted"])
    return paths


def test_stats_prints_a_table_json_and_an_html_report(
    invoke, files: dict[str, Path], tmp_path: Path
) -> None:
    result = invoke("stats", str(files["train"]), "--html", str(tmp_path / "stats.html"))
    assert result.exit_code == 0, result.output
    assert "2,000 rows" in result.output and "carrier" in result.output
    assert (tmp_path / "stats.html").read_text().count("<svg") >= 5
    as_json = invoke("stats", str(files["train"]), "--json")
    data = json.loads(as_json.stdout)
    assert data["rows"] == 2000 and data["features"][0]["name"] == "distance"


def test_schema_infer_writes_yaml_that_validate_reads(
    invoke, files: dict[str, Path], tmp_path: Path
) -> None:
    printed = invoke("schema", "infer", str(files["train"]))
    assert printed.exit_code == 0, printed.output
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text(printed.stdout)
    assert Schema.load(schema_path)["carrier"].domain == ("AA", "B6", "DL", "UA")
    passed = invoke("validate", str(files["batch"]), "--schema", str(schema_path))
    assert passed.exit_code == 0, passed.output
    assert "PASSED" in passed.output


def test_validate_prints_the_anomalies_and_exits_1_on_errors(
    invoke, files: dict[str, Path], tmp_path: Path
) -> None:
    schema_path = tmp_path / "schema.yaml"
    assert invoke("schema", "infer", str(files["train"]), "-o", str(schema_path)).exit_code == 0
    html = tmp_path / "report.html"
    result = invoke(
        "validate", str(files["skewed"]), "--schema", str(schema_path), "--html", str(html)
    )
    assert result.exit_code == 1, result.output
    for text in ("FAILED", "missing_column", "origin", "out_of_domain", "'XX'"):
        assert text in result.output
    assert "XX" in html.read_text()
    as_json = invoke("validate", str(files["skewed"]), "-s", str(schema_path), "--json")
    assert json.loads(as_json.stdout)["status"] == "failed"


def test_schema_diff_shows_curated_changes(invoke, files: dict[str, Path], tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    assert invoke("schema", "infer", str(files["train"]), "-o", str(old)).exit_code == 0
    Schema.load(old).with_feature("temp", max=120.0, description="°F").save(new)
    result = invoke("schema", "diff", str(old), str(new), "--exit-code")
    assert result.exit_code == 1
    assert "temp" in result.output and "120" in result.output
    same = invoke("schema", "diff", str(old), str(files["batch"]))
    assert same.exit_code == 0


def test_drift_finds_the_shifted_feature(invoke, files: dict[str, Path], tmp_path: Path) -> None:
    result = invoke("drift", str(files["train"]), str(files["drifted"]), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["drifted"] == ["temp"]
    table = invoke("drift", str(files["train"]), str(files["batch"]), "--fail-on-drift")
    assert table.exit_code == 0, table.output
    assert "no dataset drift" in table.output


@pytest.mark.parametrize(
    "args",
    [
        ("stats", "missing.parquet"),
        ("validate", "data.parquet", "--schema", "missing.yaml"),
        ("schema", "infer", "data.xlsx"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(invoke, args: tuple[str, ...]) -> None:
    pd.DataFrame({"a": [1]}).to_parquet("data.parquet")
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().startswith("error:")
    assert len(result.output.strip().splitlines()) == 1
