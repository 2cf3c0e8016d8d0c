"""The infrastructure check runs the package in a fresh process and never raises on failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from model_payloads import CrashModel, ShortModel, SlowModel

from loopml.models import infra_check, log_model, save_model
from loopml.models.infra import run


def test_a_good_package_passes_in_a_fresh_process(classifiers: dict[str, Any], iris: Any) -> None:
    X, _ = iris
    artifact_id = log_model(classifiers["sklearn"], example=X.head(12))
    result = infra_check(artifact_id)
    assert result.passed, result.error
    assert result.rows == 12
    assert result.error is None
    assert result.python.startswith("3.")
    assert result.seconds > 0


def test_a_crash_fails_the_check(iris: Any, tmp_path: Path) -> None:
    X, _ = iris
    folder = save_model(
        ShortModel(), tmp_path / "p", example=X.head(3), task="regression", allow_pickle=True
    )
    _swap_model(folder, CrashModel())
    result = infra_check(folder, allow_pickle=True)
    assert not result.passed
    assert "exited with code 3" in (result.error or "")


def test_a_timeout_fails_the_check(iris: Any, tmp_path: Path) -> None:
    X, _ = iris
    folder = save_model(
        ShortModel(), tmp_path / "p", example=X.head(3), task="regression", allow_pickle=True
    )
    _swap_model(folder, SlowModel())
    result = infra_check(folder, allow_pickle=True, timeout=0.5)
    assert not result.passed
    assert "within 0.5 s" in (result.error or "")


def test_pickle_without_opt_in_fails_the_check(iris: Any, tmp_path: Path) -> None:
    X, _ = iris
    folder = save_model(
        ShortModel(), tmp_path / "p", example=X.head(3), task="regression", allow_pickle=True
    )
    result = run(str(folder), allow_pickle=False)
    assert not result["passed"]
    assert "UnsafeLoadError" in result["error"]


def test_wrong_row_count_fails_the_check(iris: Any, tmp_path: Path) -> None:
    X, _ = iris
    folder = save_model(
        ShortModel(), tmp_path / "p", example=X.head(3), task="regression", allow_pickle=True
    )
    short = ShortModel()
    short.short = True
    _swap_model(folder, short)
    result = run(str(folder), allow_pickle=True)
    assert not result["passed"]
    assert "2 predictions for 3 rows" in result["error"]


def _swap_model(folder: Path, model: Any) -> None:
    """Replace a pickle package's model after saving (save_model would refuse these)."""
    import pickle

    (folder / "model.pkl").write_bytes(pickle.dumps(model))


@pytest.mark.parametrize("kind", ["xgboost", "lightgbm-booster", "onnx"])
def test_other_flavors_pass_in_process(
    kind: str, classifiers: dict[str, Any], iris: Any, tmp_path: Path
) -> None:
    X, _ = iris
    folder = save_model(classifiers[kind], tmp_path / "p", example=X.head(5), task="classification")
    result = run(str(folder), allow_pickle=False)
    assert result["passed"], result["error"]
