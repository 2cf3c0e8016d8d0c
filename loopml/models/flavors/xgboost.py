"""XGBoost models in XGBoost's own UBJSON format (no pickle, no code)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.models.errors import ModelPackageError
from loopml.models.flavors.base import Flavor

if TYPE_CHECKING:
    from loopml.models.manifest import ModelManifest

# The classes a package may ask to be rebuilt as: named here, never imported by name from
# the manifest.
_ESTIMATORS = ("XGBClassifier", "XGBRegressor", "XGBRFClassifier", "XGBRFRegressor", "Booster")


class XGBoostFlavor(Flavor):
    """``xgboost.Booster`` and the scikit-learn wrappers (``XGBClassifier``, ...), as UBJSON.

    The file is parsed by XGBoost's C++ model reader, which reads trees and
    parameters only; the manifest's ``estimator`` option picks the wrapper
    class from a fixed list.
    """

    name = "xgboost"
    file_name = "model.ubj"
    packages = ("xgboost", "numpy")

    def handles(self, model: Any) -> bool:
        if not type(model).__module__.startswith("xgboost"):
            return False
        import xgboost

        return isinstance(model, (xgboost.Booster, xgboost.XGBModel))

    def save(self, model: Any, folder: Path) -> Mapping[str, str]:
        import xgboost

        estimator = type(model).__name__
        if estimator not in _ESTIMATORS:
            raise ModelPackageError(
                f"the xgboost flavor stores {', '.join(_ESTIMATORS)}, not {estimator}"
            )
        try:
            model.save_model(str(folder / self.file_name))
        except (xgboost.core.XGBoostError, ValueError, TypeError) as exc:
            raise ModelPackageError(f"XGBoost cannot save this model: {exc}") from exc
        return {"estimator": estimator}

    def load(self, folder: Path, manifest: ModelManifest, *, allow_pickle: bool) -> Any:
        import xgboost

        path = self.model_path(folder, manifest)
        with path.open("rb") as stream:
            if stream.read(1) != b"{":
                raise ModelPackageError(f"{self.file_name} is not an XGBoost UBJSON model")
        estimator = manifest.flavor_options.get("estimator", "Booster")
        if estimator not in _ESTIMATORS:
            raise ModelPackageError(f"unknown xgboost estimator {estimator!r} in the manifest")
        model = getattr(xgboost, estimator)()
        try:
            model.load_model(str(path))
        except (xgboost.core.XGBoostError, ValueError, TypeError) as exc:
            raise ModelPackageError(f"{self.file_name} is not a readable model: {exc}") from exc
        return model

    def predict(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        import numpy as np

        if not _is_booster(native):
            return native.predict(_input(native.get_booster(), frame))
        raw = self._booster_predict(native, frame)
        if manifest.task != "classification":
            return raw
        classes = np.asarray(manifest.classes)
        return classes[_class_index(raw)]

    def predict_proba(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        import numpy as np

        if not _is_booster(native):
            return native.predict_proba(_input(native.get_booster(), frame))
        raw = self._booster_predict(native, frame)
        return np.column_stack([1 - raw, raw]) if raw.ndim == 1 else raw

    def task(self, model: Any) -> str | None:
        return None if _is_booster(model) else super().task(model)

    def classes(self, model: Any) -> list[Any] | None:
        if not _is_booster(model):
            return super().classes(model)
        import json

        learner = json.loads(model.save_config())["learner"]
        count = int(learner["learner_model_param"].get("num_class", "0"))
        return list(range(max(count, 2)))

    @staticmethod
    def _booster_predict(native: Any, frame: Any) -> Any:
        import xgboost

        matrix = xgboost.DMatrix(_input(native, frame), enable_categorical=True, nthread=1)
        return native.predict(matrix)


def _is_booster(model: Any) -> bool:
    return type(model).__name__ == "Booster"


def _input(booster: Any, frame: Any) -> Any:
    """The frame if the booster knows feature names, its values otherwise."""
    return frame if booster.feature_names is not None else frame.to_numpy()


def _class_index(raw: Any) -> Any:
    return (raw > 0.5).astype(int) if raw.ndim == 1 else raw.argmax(axis=1)
