"""Writing a model package to a folder and reading it back.

A package is written in a staging folder beside its target and moved into
place once complete. Saving loads the written file back through the same
safe loader that serving uses and predicts on the example, so a package that
saves is a package that loads.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidInputError, UnsafeLoadError
from loopml.models.errors import ModelPackageError, SignatureError
from loopml.models.flavors.base import Flavor, flavor_for, get_flavor
from loopml.models.manifest import (
    EXAMPLE_FILE,
    MANIFEST_FILE,
    REQUIREMENTS_FILE,
    Lineage,
    ModelManifest,
)
from loopml.models.signature import Signature

EXAMPLE_ROWS = 100
"""At most this many example rows are stored (the signature is inferred from all of them)."""


class LoadedModel:
    """A model read from a package, ready to predict.

    Attributes:
        manifest: the package's manifest.
        signature: the input and output columns (``manifest.signature``).
        flavor: the flavor's name.
        native: the model object of its library (an estimator, a Booster, an ONNX session).
        path: the package folder.
        artifact_id: the artifact the package was loaded from, if any.
    """

    def __init__(
        self,
        manifest: ModelManifest,
        native: Any,
        path: Path,
        *,
        artifact_id: str | None = None,
    ) -> None:
        self.manifest = manifest
        self.signature = manifest.signature
        self.flavor = manifest.flavor
        self.native = native
        self.path = path
        self.artifact_id = artifact_id
        self._flavor = get_flavor(manifest.flavor)

    def __repr__(self) -> str:
        return f"<LoadedModel {self.flavor} {self.manifest.task} at {str(self.path)!r}>"

    def predict(self, frame: Any) -> Any:
        """Check ``frame`` against the signature, then predict.

        Returns:
            a NumPy array: one prediction per row (a 2-D array for multi-output models).

        Raises:
            SignatureError: if the frame does not match the signature.
        """
        import numpy as np

        self.signature.check(frame)
        result = np.asarray(self._flavor.predict(self.native, self._inputs(frame), self.manifest))
        return result.ravel() if result.ndim == 2 and result.shape[1] == 1 else result

    def predict_proba(self, frame: Any) -> Any:
        """Check ``frame`` against the signature, then return class probabilities.

        Returns:
            a NumPy array with one row per input row and one column per entry of
            ``manifest.classes``, in that order.

        Raises:
            InvalidInputError: if the model is not a classifier.
            SignatureError: if the frame does not match the signature.
        """
        import numpy as np

        if self.manifest.task != "classification":
            raise InvalidInputError(f"this model does {self.manifest.task}: it has no classes")
        self.signature.check(frame)
        raw = self._flavor.predict_proba(self.native, self._inputs(frame), self.manifest)
        return np.asarray(raw, dtype=float)

    def example(self) -> Any:
        """The example input rows stored in the package, as a DataFrame."""
        import pyarrow.parquet as pq

        return pq.read_table(self.path / self.manifest.example_file).to_pandas()

    def _inputs(self, frame: Any) -> Any:
        return frame[self.signature.input_names]


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    example: Any,
    signature: Signature | None = None,
    flavor: str | None = None,
    metrics: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None,
    lineage: Lineage | Mapping[str, Any] | None = None,
    task: str | None = None,
    allow_pickle: bool = False,
) -> Path:
    """Write ``model`` as a model package in the new folder ``path``.

    Args:
        model: the fitted model.
        path: a folder that does not exist yet (or is empty).
        example: input rows (a DataFrame); the first :data:`EXAMPLE_ROWS` are stored.
        signature: the model's columns; inferred from ``example`` and the predictions on it
            if omitted.
        flavor: the flavor's name; detected from the model's type if omitted.
        metrics: metric name -> value, recorded in the manifest.
        params: parameter name -> JSON value, recorded in the manifest.
        lineage: run, training data, code version, pipeline run.
        task: ``classification`` or ``regression``; told from the model when it can be.
        allow_pickle: store a model no safe flavor handles with pickle (marked unsafe).

    Returns:
        the package folder.

    Raises:
        SignatureError: if the example does not match the signature, or the predictions
            its outputs.
        ModelPackageError: if no flavor can store the model, the task is unknown, the model
            does not load back or cannot predict on its example, or ``path`` is taken.
    """
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ModelPackageError(f"{str(target)!r} exists and is not an empty folder")
    chosen = _choose_flavor(model, flavor, allow_pickle)
    if signature is not None:
        signature.check(example)
    inputs = signature or Signature.infer(example)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        options = chosen.save(model, staging)
        manifest = ModelManifest(
            flavor=chosen.name,
            model_file=chosen.file_name,
            signature=inputs,
            task=_task(chosen, model, task),
            safe=chosen.safe,
            requirements=_requirements(chosen, model),
            metrics=metrics or {},
            params=params or {},
            lineage=_lineage(lineage),
            flavor_options=options,
        )
        if manifest.task == "classification":
            classes = chosen.classes(model)
            if not classes:
                raise ModelPackageError("cannot tell this classifier's classes from the model")
            manifest = _replace(manifest, classes=tuple(classes))
        manifest = _replace(manifest, signature=_exercise(chosen, staging, manifest, example))
        _write_example(example, staging / EXAMPLE_FILE)
        (staging / REQUIREMENTS_FILE).write_text("".join(f"{r}\n" for r in manifest.requirements))
        (staging / MANIFEST_FILE).write_text(manifest.to_yaml(), encoding="utf-8")
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def read_package(
    folder: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    artifact_id: str | None = None,
) -> LoadedModel:
    """Load the package in ``folder`` through its flavor's safe loader.

    Raises:
        ModelPackageError: if the folder is not a valid package.
        UnsafeLoadError: if loading would run code from the package and nobody opted in.
    """
    root = Path(folder)
    manifest = ModelManifest.read(root)
    chosen = get_flavor(manifest.flavor)
    if manifest.safe != chosen.safe:
        raise ModelPackageError(
            f"the manifest says safe={manifest.safe}, the {chosen.name} flavor is "
            f"{'safe' if chosen.safe else 'unsafe'}"
        )
    if not chosen.safe and not allow_pickle:
        # Refused here, before any flavor code runs; PickleFlavor.load refuses too.
        raise UnsafeLoadError(
            f"this model is stored with the {chosen.name} flavor, and loading it runs whatever "
            "code its author put in the file. If you trust the package, load it with "
            "allow_pickle=True (the registry records who opted in for which version)"
        )
    native = chosen.load(root, manifest, allow_pickle=allow_pickle)
    return LoadedModel(manifest, native, root, artifact_id=artifact_id)


def _choose_flavor(model: Any, name: str | None, allow_pickle: bool) -> Flavor:
    if name is None:
        return flavor_for(model, allow_pickle=allow_pickle)
    chosen = get_flavor(name)
    if not chosen.safe and not allow_pickle:
        raise UnsafeLoadError(
            f"the {name} flavor can run code when loaded; pass allow_pickle=True to store it"
        )
    if not chosen.handles(model):
        raise ModelPackageError(
            f"the {name} flavor does not store a {type(model).__module__}."
            f"{type(model).__qualname__}"
        )
    return chosen


def _task(chosen: Flavor, model: Any, task: str | None) -> str:
    found = task or chosen.task(model)
    if found is None:
        raise ModelPackageError(
            f"cannot tell whether this {type(model).__name__} does classification or "
            "regression: pass task='classification' or task='regression'"
        )
    return found


def _lineage(lineage: Lineage | Mapping[str, Any] | None) -> Lineage:
    if lineage is None or isinstance(lineage, Lineage):
        return lineage or Lineage()
    return Lineage.from_dict(lineage)


def _replace(manifest: ModelManifest, **changes: Any) -> ModelManifest:
    import dataclasses

    return dataclasses.replace(manifest, **changes)


def _exercise(chosen: Flavor, folder: Path, manifest: ModelManifest, example: Any) -> Signature:
    """Load the written model back, predict on the example, and return the full signature."""
    native = chosen.load(folder, manifest, allow_pickle=True)
    frame = example[manifest.signature.input_names]
    try:
        predictions = chosen.predict(native, frame, manifest)
        if manifest.task == "classification":
            _check_probabilities(chosen.predict_proba(native, frame, manifest), manifest, frame)
    except (SignatureError, ModelPackageError):
        raise
    except Exception as exc:  # the model's own code: any error means it cannot serve
        raise ModelPackageError(
            f"the model loaded back from its package cannot predict on the example: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    signature = manifest.signature
    if signature.outputs:
        signature.check_outputs(predictions)
        return signature
    return Signature(signature.inputs, Signature.infer(frame.head(1), predictions).outputs)


def _check_probabilities(probabilities: Any, manifest: ModelManifest, frame: Any) -> None:
    import numpy as np

    shape = np.shape(probabilities)
    expected = (len(frame), len(manifest.classes or ()))
    if shape != expected:
        raise ModelPackageError(
            f"predict_proba gives shape {shape}, expected {expected} (rows, classes)"
        )


def _write_example(example: Any, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(example.head(EXAMPLE_ROWS), preserve_index=False)
    pq.write_table(table, path)


def _requirements(chosen: Flavor, model: Any) -> tuple[str, ...]:
    """Pins of the installed versions of the flavor's packages (and, for pickle, of the
    package that defines the model's type)."""
    names = list(chosen.packages)
    if not chosen.safe:
        root = type(model).__module__.split(".")[0]
        names.extend(importlib.metadata.packages_distributions().get(root, []))
    pins = set()
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            pins.add(f"{name}=={importlib.metadata.version(name)}")
    return tuple(sorted(pins, key=str.lower))
