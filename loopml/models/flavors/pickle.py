"""Any Python object, with pickle: the one unsafe flavor, loaded only on opt-in."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.core.errors import UnsafeLoadError
from loopml.models.errors import ModelPackageError
from loopml.models.flavors.base import Flavor

if TYPE_CHECKING:
    from loopml.models.manifest import ModelManifest

PROTOCOL = 5


class PickleFlavor(Flavor):
    """Objects no safe flavor stores. Unpickling runs code chosen by whoever wrote the file,
    so :meth:`load` refuses unless the caller passes ``allow_pickle=True``."""

    name = "pickle"
    safe = False
    file_name = "model.pkl"
    packages = ("numpy",)

    def handles(self, model: Any) -> bool:
        return hasattr(model, "predict")

    def save(self, model: Any, folder: Path) -> Mapping[str, str]:
        try:
            data = pickle.dumps(model, protocol=PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise ModelPackageError(f"pickle cannot store this model: {exc}") from exc
        (folder / self.file_name).write_bytes(data)
        return {}

    def load(self, folder: Path, manifest: ModelManifest, *, allow_pickle: bool) -> Any:
        if not allow_pickle:
            raise UnsafeLoadError(
                "this model is stored with pickle, and loading a pickle runs whatever code its "
                "author put in it. If you trust the package, load it with allow_pickle=True "
                "(the registry records who opted in for which version)"
            )
        data = self.model_path(folder, manifest).read_bytes()
        try:
            model = pickle.loads(data)  # the caller opted in, see above
        except Exception as exc:
            raise ModelPackageError(f"{self.file_name} does not unpickle: {exc}") from exc
        if not hasattr(model, "predict"):
            raise ModelPackageError(f"{self.file_name} holds a {type(model).__name__}, not a model")
        return model

    def predict(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        return native.predict(frame)

    def predict_proba(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        return native.predict_proba(frame)
