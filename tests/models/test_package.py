"""save_model / load_model over every flavor: round trips, determinism, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from model_payloads import ConstantModel

from loopml.core.errors import UnsafeLoadError
from loopml.models import (
    MANIFEST_FILE,
    ColumnSpec,
    Lineage,
    ModelManifest,
    ModelPackageError,
    Signature,
    SignatureError,
    load_model,
    save_model,
)

FLAVOR_OF = {
    "sklearn": "sklearn",
    "xgboost": "xgboost",
    "xgboost-booster": "xgboost",
    "lightgbm": "lightgbm",
    "lightgbm-booster": "lightgbm",
    "onnx": "onnx",
}
BOOSTERS = {"xgboost-booster", "lightgbm-booster"}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("kind", list(FLAVOR_OF))
def test_every_flavor_round_trips_with_the_same_predictions(
    kind: str, classifiers: dict[str, Any], iris: Any, tmp_path: Path
) -> None:
    X, _ = iris
    model = classifiers[kind]
    task = "classification" if kind in BOOSTERS else None
    folder = save_model(model, tmp_path / "pkg", example=X.head(30), task=task)

    loaded = load_model(folder)

    assert loaded.flavor == FLAVOR_OF[kind]
    assert loaded.manifest.safe
    assert loaded.manifest.classes == (0, 1, 2)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [MANIFEST_FILE, loaded.manifest.model_file, "example.parquet", "requirements.txt"]
    )
    predictions = loaded.predict(X)
    probabilities = loaded.predict_proba(X)
    assert predictions.shape == (len(X),)
    assert probabilities.shape == (len(X), 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (predictions == np.asarray(loaded.manifest.classes)[probabilities.argmax(1)]).all()
    if hasattr(model, "predict_proba"):
        np.testing.assert_allclose(probabilities, model.predict_proba(X), rtol=1e-5)
    pd.testing.assert_frame_equal(loaded.example(), X.head(30).reset_index(drop=True))
    assert loaded.signature.outputs == (ColumnSpec("prediction", "int"),)


@pytest.mark.parametrize("kind", list(FLAVOR_OF))
def test_equal_inputs_give_equal_bytes(
    kind: str, classifiers: dict[str, Any], iris: Any, tmp_path: Path
) -> None:
    X, _ = iris
    task = "classification" if kind in BOOSTERS else None
    first = save_model(classifiers[kind], tmp_path / "a", example=X.head(5), task=task)
    second = save_model(classifiers[kind], tmp_path / "b", example=X.head(5), task=task)
    assert _files(first) == _files(second)


def test_a_refitted_sklearn_model_gives_the_same_bytes(iris: Any, tmp_path: Path) -> None:
    from model_kit import fit

    X, y = iris
    first = save_model(fit("sklearn", X, y), tmp_path / "a", example=X.head(5))
    second = save_model(fit("sklearn", X, y), tmp_path / "b", example=X.head(5))
    assert _files(first) == _files(second)


def test_the_manifest_records_what_it_was_given(iris: Any, tmp_path: Path) -> None:
    from model_kit import fit

    X, y = iris
    folder = save_model(
        fit("sklearn", X, y),
        tmp_path / "pkg",
        example=X.head(5),
        metrics={"accuracy": np.float64(0.97)},
        params={"max_depth": np.int64(3), "features": ["a", "b"]},
        lineage={"run_id": "r1", "training_data": ["abc123"], "code_version": "deadbeef"},
    )
    manifest = ModelManifest.read(folder)
    assert manifest.metrics == {"accuracy": 0.97}
    assert manifest.params == {"features": ["a", "b"], "max_depth": 3}
    assert manifest.lineage == Lineage("r1", ("abc123",), "deadbeef", None)
    assert manifest.task == "classification"
    assert any(r.startswith("scikit-learn==") for r in manifest.requirements)
    assert (folder / "requirements.txt").read_text().splitlines() == list(manifest.requirements)
    assert ModelManifest.from_dict(manifest.to_dict()) == manifest


def test_a_regressor_has_no_probabilities(diabetes: Any, tmp_path: Path) -> None:
    from sklearn.linear_model import Ridge

    X, y = diabetes
    folder = save_model(Ridge().fit(X, y), tmp_path / "pkg", example=X.head(10))
    loaded = load_model(folder)
    assert loaded.manifest.task == "regression"
    assert loaded.manifest.classes is None
    assert loaded.signature.outputs == (ColumnSpec("prediction", "float"),)
    np.testing.assert_allclose(loaded.predict(X.head(3)), loaded.native.predict(X.head(3)))
    with pytest.raises(ValueError, match="regression"):
        loaded.predict_proba(X.head(3))


def test_predict_checks_the_signature_and_reorders_columns(
    classifiers: dict[str, Any], iris: Any, tmp_path: Path
) -> None:
    X, _ = iris
    loaded = load_model(save_model(classifiers["sklearn"], tmp_path / "p", example=X.head(5)))
    reordered = X[list(reversed(X.columns))].head(4)
    np.testing.assert_array_equal(loaded.predict(reordered), loaded.predict(X.head(4)))
    with pytest.raises(SignatureError) as missing:
        loaded.predict(X.drop(columns="petal_width"))
    assert missing.value.field == "petal_width"
    with pytest.raises(SignatureError) as text:
        loaded.predict(X.astype({"sepal_width": str}))
    assert text.value.field == "sepal_width"


def test_a_model_whose_signature_does_not_match_its_example_is_refused(
    classifiers: dict[str, Any], iris: Any, tmp_path: Path
) -> None:
    X, _ = iris
    signature = Signature(
        (
            *(ColumnSpec(c, "float") for c in X.columns if c != "petal_width"),
            ColumnSpec("petal_width", "string"),
        )
    )
    with pytest.raises(SignatureError) as error:
        save_model(classifiers["sklearn"], tmp_path / "p", example=X, signature=signature)
    assert error.value.field == "petal_width"
    assert not (tmp_path / "p").exists()
    wrong_output = Signature(
        (*signature.inputs[:-1], ColumnSpec("petal_width", "float")),
        (ColumnSpec("prediction", "string"),),
    )
    with pytest.raises(SignatureError, match="output column 'prediction'"):
        save_model(classifiers["sklearn"], tmp_path / "p", example=X, signature=wrong_output)
    assert [p.name for p in tmp_path.iterdir()] == ["project"]  # no staging folder left


def test_a_model_no_safe_flavor_handles_needs_allow_pickle(iris: Any, tmp_path: Path) -> None:
    X, _ = iris
    with pytest.raises(ModelPackageError, match="allow_pickle=True"):
        save_model(ConstantModel(), tmp_path / "p", example=X.head(3), task="regression")
    folder = save_model(
        ConstantModel(), tmp_path / "p", example=X.head(3), task="regression", allow_pickle=True
    )
    manifest = ModelManifest.read(folder)
    assert (manifest.flavor, manifest.safe) == ("pickle", False)
    with pytest.raises(UnsafeLoadError, match="allow_pickle=True"):
        load_model(folder)
    assert load_model(folder, allow_pickle=True).predict(X.head(2)).tolist() == [1.5, 1.5]


def test_the_pickle_flavor_asked_by_name_needs_allow_pickle(
    classifiers: dict[str, Any], iris: Any, tmp_path: Path
) -> None:
    X, _ = iris
    with pytest.raises(UnsafeLoadError):
        save_model(classifiers["sklearn"], tmp_path / "p", example=X, flavor="pickle")
    with pytest.raises(ModelPackageError, match="does not store"):
        save_model(classifiers["sklearn"], tmp_path / "p", example=X, flavor="xgboost")


def test_a_booster_needs_its_task(classifiers: dict[str, Any], iris: Any, tmp_path: Path) -> None:
    X, _ = iris
    with pytest.raises(ModelPackageError, match="task='classification'"):
        save_model(classifiers["xgboost-booster"], tmp_path / "p", example=X)


def test_a_model_that_cannot_predict_on_its_example_is_refused(
    classifiers: dict[str, Any], iris: Any, tmp_path: Path
) -> None:
    X, _ = iris
    example = X.assign(extra=1.0)
    with pytest.raises(ModelPackageError, match="cannot predict on the example"):
        save_model(classifiers["sklearn"], tmp_path / "p", example=example)
    assert [p.name for p in tmp_path.iterdir()] == ["project"]  # no staging folder left


def test_the_target_folder_must_be_new(
    classifiers: dict[str, Any], iris: Any, tmp_path: Path
) -> None:
    X, _ = iris
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(ModelPackageError, match="not an empty folder"):
        save_model(classifiers["sklearn"], tmp_path / "taken", example=X)
    (tmp_path / "empty").mkdir()
    assert save_model(classifiers["sklearn"], tmp_path / "empty", example=X).is_dir()


def test_only_the_first_example_rows_are_stored(
    classifiers: dict[str, Any], iris: Any, tmp_path: Path
) -> None:
    X, _ = iris
    X = X.copy()
    X.loc[140, "sepal_width"] = np.nan  # beyond the stored rows, still makes it nullable
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, iris[1])
    loaded = load_model(save_model(model, tmp_path / "p", example=X))
    assert len(loaded.example()) == 100
    assert dict((c.name, c.nullable) for c in loaded.signature.inputs)["sepal_width"] is True
    assert loaded.predict(X.tail(15)).shape == (15,)
