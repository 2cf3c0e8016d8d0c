"""scikit-learn estimators and pipelines, stored with skops (never pickle)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.models.errors import ModelPackageError
from loopml.models.flavors.base import Flavor

if TYPE_CHECKING:
    from loopml.models.manifest import ModelManifest


class SklearnFlavor(Flavor):
    """scikit-learn estimators in the skops format.

    Loading builds only the types skops trusts by default and those of
    :data:`loopml.artifacts.formats.SKOPS_TRUSTED_TYPES` (compiled trees and
    neighbour indexes); the package cannot widen that list. Any other type
    is refused with :class:`~loopml.core.errors.UnsafeLoadError` before
    anything is built.
    """

    name = "sklearn"
    file_name = "model.skops"
    packages = ("scikit-learn", "skops", "numpy", "scipy")

    def handles(self, model: Any) -> bool:
        if not type(model).__module__.startswith("sklearn"):
            return False
        from sklearn.base import BaseEstimator

        return isinstance(model, BaseEstimator)

    def save(self, model: Any, folder: Path) -> Mapping[str, str]:
        from loopml.artifacts import MaterializerError
        from loopml.artifacts.formats import SkopsMaterializer

        try:
            data = SkopsMaterializer().dump(model)
        except MaterializerError as exc:
            raise ModelPackageError(str(exc)) from exc
        (folder / self.file_name).write_bytes(data)
        return {}

    def load(self, folder: Path, manifest: ModelManifest, *, allow_pickle: bool) -> Any:
        from loopml.artifacts import MaterializerError
        from loopml.artifacts.formats import SkopsMaterializer

        data = self.model_path(folder, manifest).read_bytes()
        try:
            return SkopsMaterializer().load(data, "scikit-learn model")
        except MaterializerError as exc:
            raise ModelPackageError(f"{self.file_name}: {exc}") from exc

    def predict(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        return native.predict(estimator_input(native, frame))

    def predict_proba(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        return native.predict_proba(estimator_input(native, frame))


def estimator_input(native: Any, frame: Any) -> Any:
    """The frame for estimators fitted on named columns, its values for those fitted on arrays
    (which warn, or fail, when given names they did not see)."""
    if getattr(native, "feature_names_in_", None) is not None:
        return frame
    return frame.to_numpy()
