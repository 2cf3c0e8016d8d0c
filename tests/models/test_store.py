"""log_model / load_model through the workspace: content-addressed, cached, verified."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loopml.core.errors import NotFoundError
from loopml.models import ARTIFACT_TYPE, ModelPackageError, export_model, load_model, log_model
from loopml.workspace import get_workspace


def test_log_then_load_by_id_and_prefix(classifiers: dict[str, Any], iris: Any) -> None:
    X, _ = iris
    artifact_id = log_model(classifiers["sklearn"], example=X.head(10), metrics={"acc": 0.9})

    artifact = get_workspace().metadata.get_artifact(artifact_id)
    assert artifact.type == ARTIFACT_TYPE
    assert artifact.properties["flavor"] == "sklearn"
    assert artifact.properties["safe"] is True
    loaded = load_model(artifact_id[:12])
    assert loaded.artifact_id == artifact_id
    assert loaded.manifest.metrics == {"acc": 0.9}
    np.testing.assert_array_equal(loaded.predict(X), classifiers["sklearn"].predict(X))


def test_equal_models_log_to_one_artifact(classifiers: dict[str, Any], iris: Any) -> None:
    X, _ = iris
    first = log_model(classifiers["lightgbm"], example=X.head(10))
    assert log_model(classifiers["lightgbm"], example=X.head(10)) == first
    assert log_model(classifiers["lightgbm"], example=X.head(11)) != first


def test_a_damaged_cache_is_rebuilt(classifiers: dict[str, Any], iris: Any) -> None:
    X, _ = iris
    artifact_id = log_model(classifiers["xgboost"], example=X.head(10))
    folder, _ = export_model(artifact_id)
    (folder / "model.ubj").write_bytes(b"{ tampered")
    (folder / "stray.txt").write_text("x")
    assert load_model(artifact_id).predict(X.head(2)).shape == (2,)
    assert sorted(p.name for p in folder.iterdir()) == [
        "example.parquet",
        "loopml-model.yaml",
        "model.ubj",
        "requirements.txt",
    ]
    shutil.rmtree(folder)
    assert load_model(artifact_id).predict(X.head(2)).shape == (2,)


def test_an_artifact_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    workspace = get_workspace()
    text = workspace.save({"a": 1})
    with pytest.raises(ModelPackageError, match="not a model"):
        load_model(text.id)
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "x.txt").write_text("x")
    folder = workspace.save_path(tmp_path / "folder")
    with pytest.raises(ModelPackageError, match="not a model package"):
        load_model(folder.id)


def test_unknown_sources_are_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_model("abcdef123456")
    with pytest.raises(NotFoundError):
        load_model(tmp_path / "missing")
    with pytest.raises(NotFoundError):
        load_model(str(tmp_path / "missing"))
