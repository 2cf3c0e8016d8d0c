"""Manifests: YAML round trips, strict parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.models import (
    ColumnSpec,
    Lineage,
    ModelManifest,
    ModelPackageError,
    Signature,
)


def _manifest(**changes: object) -> ModelManifest:
    fields: dict[str, object] = {
        "flavor": "sklearn",
        "model_file": "model.skops",
        "signature": Signature((ColumnSpec("x", "float"),), (ColumnSpec("prediction", "int"),)),
        "task": "classification",
        "classes": (0, 1),
        "requirements": ("scikit-learn==1.5.0",),
        "metrics": {"f1": 0.9, "auc": 0.8},
        "params": {"depth": 3, "grid": {"a": [1, 2]}},
        "lineage": Lineage("run", ("a" * 64,), "abc", "prun"),
        **changes,
    }
    return ModelManifest(**fields)  # type: ignore[arg-type]


def test_yaml_round_trip_is_exact_and_ordered() -> None:
    manifest = _manifest()
    text = manifest.to_yaml()
    assert ModelManifest.from_yaml(text) == manifest
    assert text.startswith("format_version: 1\nflavor: sklearn\n")
    assert text.index("auc") < text.index("f1")
    assert "created" not in text


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"format_version": 2}, "upgrade loopml"),
        ({"task": "clustering"}, "task"),
        ({"model_file": "../x"}, "bare file name"),
        ({"example_file": "a/b.parquet"}, "bare file name"),
        ({"metrics": {"f1": float("nan")}}, "finite"),
        ({"metrics": {"f1": "good"}}, "number"),
        ({"params": {"f": object()}}, "JSON"),
    ],
)
def test_bad_values_are_refused(changes: dict[str, object], words: str) -> None:
    with pytest.raises(ModelPackageError, match=words):
        _manifest(**changes)


@pytest.mark.parametrize(
    "text",
    [
        "- a list\n",
        "flavor: sklearn\n",
        "!!python/object:os.system {}\n",
        _manifest().to_yaml() + "surprise: 1\n",
        _manifest().to_yaml().replace("safe: true", "safe: 'yes'"),
    ],
)
def test_malformed_yaml_is_refused(text: str) -> None:
    with pytest.raises(ModelPackageError):
        ModelManifest.from_yaml(text)


def test_read_a_folder_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(ModelPackageError, match="not a model package"):
        ModelManifest.read(tmp_path)
