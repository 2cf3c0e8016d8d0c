"""The gate: loading a package never runs code from it, for every registered flavor.

Each payload, if it ever ran, would create a marker folder; the tests assert
it never appears. The same payload does create it when pickle is allowed,
which proves the payloads are live and the tests not vacuous.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from model_payloads import Trap

from loopml.core.errors import InvalidInputError, UnsafeLoadError
from loopml.models import (
    MANIFEST_FILE,
    ColumnSpec,
    ModelManifest,
    ModelPackageError,
    Signature,
    flavors,
    get_flavor,
    load_model,
    save_model,
)

SIGNATURE = Signature((ColumnSpec("x", "float"),), (ColumnSpec("prediction", "float"),))


def _package(folder: Path, flavor: str, model_bytes: bytes, **manifest: Any) -> Path:
    """A hand-made package whose manifest claims ``flavor`` and whose model file holds
    ``model_bytes``."""
    chosen = get_flavor(flavor)
    folder.mkdir()
    fields: dict[str, Any] = {
        "flavor": flavor,
        "model_file": chosen.file_name,
        "signature": SIGNATURE,
        "task": "regression",
        "safe": chosen.safe,
        **manifest,
    }
    (folder / MANIFEST_FILE).write_text(ModelManifest(**fields).to_yaml())
    (folder / chosen.file_name).write_bytes(model_bytes)
    pd.DataFrame({"x": [1.0]}).to_parquet(folder / "example.parquet")
    return folder


def _refused(folder: Path) -> BaseException:
    with pytest.raises((UnsafeLoadError, InvalidInputError)) as error:
        load_model(folder)
    return error.value


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
@pytest.mark.parametrize("flavor", flavors())
def test_a_pickle_in_place_of_the_model_file_never_runs(
    flavor: str, protocol: int, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    payload = pickle.dumps(Trap(str(marker)), protocol=protocol)
    folder = _package(tmp_path / "pkg", flavor, payload)

    error = _refused(folder)

    assert not marker.exists()
    if not get_flavor(flavor).safe:
        assert isinstance(error, UnsafeLoadError)
        assert "allow_pickle=True" in str(error)
    elif protocol >= 2:
        assert isinstance(error, UnsafeLoadError), "a safe flavor names the disguised pickle"


@pytest.mark.parametrize("flavor", flavors())
def test_a_manifest_cannot_declare_an_unsafe_flavor_safe(flavor: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    safe = get_flavor(flavor).safe
    folder = _package(tmp_path / "pkg", flavor, pickle.dumps(Trap(str(marker))), safe=not safe)
    with pytest.raises(ModelPackageError, match="safe="):
        load_model(folder, allow_pickle=True)
    assert not marker.exists()


@pytest.mark.parametrize("flavor", flavors())
def test_a_manifest_cannot_point_outside_the_package(flavor: str, tmp_path: Path) -> None:
    folder = _package(tmp_path / "pkg", flavor, b"")
    text = (folder / MANIFEST_FILE).read_text()
    (folder / MANIFEST_FILE).write_text(
        text.replace(f"model_file: {get_flavor(flavor).file_name}", "model_file: ../model.bin")
    )
    with pytest.raises(ModelPackageError, match="bare file name"):
        load_model(folder, allow_pickle=True)


def test_pickle_loads_only_with_the_opt_in(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    folder = _package(tmp_path / "pkg", "pickle", pickle.dumps(Trap(str(marker))))
    with pytest.raises(UnsafeLoadError):
        load_model(folder)
    assert not marker.exists()
    with pytest.raises(ModelPackageError, match="not a model"):
        load_model(folder, allow_pickle=True)
    assert marker.exists()  # the payload is live: with the opt-in, it ran


def test_skops_with_an_untrusted_type_never_builds_it(tmp_path: Path) -> None:
    import skops.io

    marker = tmp_path / "ran"
    data = skops.io.dumps(Trap(str(marker)))
    folder = _package(tmp_path / "pkg", "sklearn", data)

    with pytest.raises(UnsafeLoadError, match=r"model_payloads\.Trap"):
        load_model(folder)

    assert not marker.exists()
    skops.io.loads(data, trusted=["model_payloads.Trap"])  # the payload is live
    assert marker.exists()


def test_skops_trust_cannot_be_widened_by_the_package(iris: Any, tmp_path: Path) -> None:
    import skops.io

    marker = tmp_path / "ran"
    folder = _package(
        tmp_path / "pkg",
        "sklearn",
        skops.io.dumps(Trap(str(marker))),
        flavor_options={"trusted": "model_payloads.Trap"},
    )
    with pytest.raises(UnsafeLoadError):
        load_model(folder)
    assert not marker.exists()


def test_onnx_external_data_is_refused(
    classifiers: dict[str, Any], iris: Any, tmp_path: Path
) -> None:
    import onnx

    external = onnx.ModelProto()
    external.CopyFrom(classifiers["onnx"])
    weights = external.graph.initializer.add()
    weights.name = "weights"
    weights.data_type = onnx.TensorProto.FLOAT
    weights.dims.append(4)
    weights.data_location = onnx.TensorProto.EXTERNAL
    entry = weights.external_data.add()
    entry.key, entry.value = "location", "../../../etc/passwd"
    with pytest.raises(UnsafeLoadError, match="external data"):
        save_model(external, tmp_path / "a", example=iris[0])
    folder = _package(tmp_path / "pkg", "onnx", external.SerializeToString())
    with pytest.raises(UnsafeLoadError, match="external data"):
        load_model(folder)


def test_every_safe_flavor_checks_its_format(tmp_path: Path) -> None:
    for flavor in flavors():
        if get_flavor(flavor).safe:
            folder = _package(tmp_path / flavor, flavor, b"not a model at all")
            with pytest.raises(ModelPackageError):
                load_model(folder)
