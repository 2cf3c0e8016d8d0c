"""LightGBM models in LightGBM's own text format (no pickle, no code)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.models.errors import ModelPackageError
from loopml.models.flavors.base import Flavor

if TYPE_CHECKING:
    from loopml.models.manifest import ModelManifest


class LightGBMFlavor(Flavor):
    """``lightgbm.Booster`` and the scikit-learn wrappers, as LightGBM's text model.

    Loading gives the ``Booster`` (the wrapper only adds training code);
    predictions of classifiers are mapped back to ``manifest.classes``.
    """

    name = "lightgbm"
    file_name = "model.txt"
    packages = ("lightgbm", "numpy")

    def handles(self, model: Any) -> bool:
        if not type(model).__module__.startswith("lightgbm"):
            return False
        import lightgbm

        return isinstance(model, (lightgbm.Booster, lightgbm.LGBMModel))

    def save(self, model: Any, folder: Path) -> Mapping[str, str]:
        import lightgbm

        booster = model if isinstance(model, lightgbm.Booster) else model.booster_
        try:
            booster.save_model(str(folder / self.file_name))
        except (lightgbm.basic.LightGBMError, ValueError) as exc:
            raise ModelPackageError(f"LightGBM cannot save this model: {exc}") from exc
        return {"estimator": type(model).__name__}

    def load(self, folder: Path, manifest: ModelManifest, *, allow_pickle: bool) -> Any:
        import lightgbm

        path = self.model_path(folder, manifest)
        with path.open("rb") as stream:
            if stream.readline().strip() != b"tree":
                raise ModelPackageError(f"{self.file_name} is not a LightGBM text model")
        try:
            return lightgbm.Booster(model_file=str(path))
        except (lightgbm.basic.LightGBMError, ValueError) as exc:
            raise ModelPackageError(f"{self.file_name} is not a readable model: {exc}") from exc

    def predict(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        import numpy as np

        raw = native.predict(frame, num_threads=1)
        if manifest.task != "classification":
            return raw
        index = (raw > 0.5).astype(int) if raw.ndim == 1 else raw.argmax(axis=1)
        return np.asarray(manifest.classes)[index]

    def predict_proba(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        import numpy as np

        raw = native.predict(frame, num_threads=1)
        return np.column_stack([1 - raw, raw]) if raw.ndim == 1 else raw

    def task(self, model: Any) -> str | None:
        return None if type(model).__name__ == "Booster" else super().task(model)

    def classes(self, model: Any) -> list[Any] | None:
        if type(model).__name__ != "Booster":
            return super().classes(model)
        per_iteration = int(model.num_model_per_iteration())
        return list(range(max(per_iteration, 2)))
