"""The :class:`Flavor` interface and the one registry of flavors.

Built-in flavors are named here with the import path of their class and
imported on first use: listing flavors or loading an sklearn model imports
neither XGBoost nor LightGBM nor onnxruntime.
"""

from __future__ import annotations

import importlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from loopml.core.errors import UnsafeLoadError
from loopml.models.errors import ModelPackageError

if TYPE_CHECKING:
    from loopml.models.manifest import ModelManifest

_PICKLE_PROTOCOLS = range(2, 6)


class Flavor(ABC):
    """Writes one kind of model to a package folder and reads it back.

    A flavor's :meth:`load` must never execute code that comes from the
    file, unless the flavor is marked unsafe (``safe = False``) and the
    caller passed ``allow_pickle=True``. A new flavor is added with
    :func:`register_flavor`; the gate tests walk every registered flavor.

    Class attributes:
        name: the flavor's name in manifests.
        safe: whether loading is free of code execution.
        file_name: the model file's name inside the package.
        packages: distributions pinned in ``requirements.txt`` (``scikit-learn``).
    """

    name: ClassVar[str]
    safe: ClassVar[bool] = True
    file_name: ClassVar[str]
    packages: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def handles(self, model: Any) -> bool:
        """Tell whether this flavor can save ``model``; imports no library the model's type
        does not already come from."""

    @abstractmethod
    def save(self, model: Any, folder: Path) -> Mapping[str, str]:
        """Write ``model`` to ``folder / file_name``, deterministically (equal models, equal
        bytes).

        Returns:
            options recorded in the manifest that :meth:`load` needs (may be empty).
        """

    @abstractmethod
    def load(self, folder: Path, manifest: ModelManifest, *, allow_pickle: bool) -> Any:
        """Read the model file back into the native model object.

        Raises:
            UnsafeLoadError: if loading would run code from the file and nobody opted in.
            ModelPackageError: if the file is not what this flavor writes.
        """

    @abstractmethod
    def predict(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        """Predict on ``frame`` (already checked, columns in signature order): 1-D or 2-D."""

    @abstractmethod
    def predict_proba(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        """Class probabilities, one column per entry of ``manifest.classes``, in that order."""

    def task(self, model: Any) -> str | None:
        """The model's task if it can be told from the model (``None``: the caller says)."""
        if getattr(model, "classes_", None) is not None:
            return "classification"
        if type(model).__module__.split(".")[0] in {"sklearn", "xgboost", "lightgbm"}:
            from sklearn.base import is_regressor

            if is_regressor(model):
                return "regression"
        return None

    def classes(self, model: Any) -> list[Any] | None:
        """The class labels of a classifier, in ``predict_proba`` column order."""
        classes = getattr(model, "classes_", None)
        return None if classes is None else list(classes)

    def model_path(self, folder: Path, manifest: ModelManifest) -> Path:
        """The model file of a package, checked to be the regular file this flavor writes.

        Raises:
            ModelPackageError: if the manifest names another file or the file is missing.
            UnsafeLoadError: if a safe flavor's file is in fact a pickle.
        """
        if manifest.model_file != self.file_name:
            raise ModelPackageError(
                f"the {self.name} flavor reads {self.file_name!r}; the manifest names "
                f"{manifest.model_file!r}"
            )
        path = folder / self.file_name
        if path.is_symlink() or not path.is_file():
            raise ModelPackageError(f"the package has no regular file {self.file_name!r}")
        if self.safe:
            with path.open("rb") as stream:
                head = stream.read(2)
            if len(head) == 2 and head[0] == 0x80 and head[1] in _PICKLE_PROTOCOLS:
                raise UnsafeLoadError(
                    f"{self.file_name} is a pickle, but the manifest says the {self.name} "
                    "flavor: refused without reading it"
                )
        return path

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}{'' if self.safe else ' unsafe'}>"


# --- the registry -------------------------------------------------------------

BUILTIN_FLAVORS: dict[str, str] = {
    "xgboost": "loopml.models.flavors.xgboost:XGBoostFlavor",
    "lightgbm": "loopml.models.flavors.lightgbm:LightGBMFlavor",
    "onnx": "loopml.models.flavors.onnx:OnnxFlavor",
    "sklearn": "loopml.models.flavors.sklearn:SklearnFlavor",
    "pickle": "loopml.models.flavors.pickle:PickleFlavor",
}
"""Built-in flavors in detection order (the wrappers of XGBoost and LightGBM are also
scikit-learn estimators, so they come first; ``pickle`` is never detected)."""

_lock = threading.Lock()
_paths: dict[str, str] = dict(BUILTIN_FLAVORS)
_loaded: dict[str, Flavor] = {}


def register_flavor(flavor: type[Flavor] | Flavor, *, replace: bool = False) -> None:
    """Add a flavor to the registry (tried after the built-ins when detecting).

    Raises:
        ModelPackageError: if a flavor of that name exists and ``replace`` is false.
    """
    instance = flavor() if isinstance(flavor, type) else flavor
    if not isinstance(instance, Flavor):
        raise ModelPackageError(f"{flavor!r} is not a Flavor")
    name = instance.name
    with _lock:
        if name in _paths and not replace:
            raise ModelPackageError(f"a flavor named {name!r} is registered already")
        _paths[name] = ""
        _loaded[name] = instance


def unregister_flavor(name: str) -> None:
    """Remove a flavor that :func:`register_flavor` added (built-ins stay)."""
    with _lock:
        if name in BUILTIN_FLAVORS:
            _paths[name] = BUILTIN_FLAVORS[name]
            _loaded.pop(name, None)
        else:
            _paths.pop(name, None)
            _loaded.pop(name, None)


def flavors() -> list[str]:
    """The names of the registered flavors, in detection order."""
    with _lock:
        return list(_paths)


def get_flavor(name: str) -> Flavor:
    """Return the flavor called ``name``, importing a built-in on first use.

    Raises:
        ModelPackageError: if no flavor has that name.
    """
    with _lock:
        loaded = _loaded.get(name)
        path = _paths.get(name) if isinstance(name, str) else None
    if loaded is not None:
        return loaded
    if not path:
        raise ModelPackageError(
            f"no model flavor named {name!r}; the flavors are {', '.join(flavors())}"
        )
    module, _, attr = path.partition(":")
    instance = getattr(importlib.import_module(module), attr)()
    with _lock:
        return _loaded.setdefault(name, instance)


def flavor_for(model: Any, *, allow_pickle: bool = False) -> Flavor:
    """Return the first safe flavor that handles ``model``; ``pickle`` if none and allowed.

    Raises:
        ModelPackageError: if no safe flavor handles the model and pickle is not allowed.
    """
    for name in flavors():
        flavor = get_flavor(name)
        if flavor.safe and flavor.handles(model):
            return flavor
    if allow_pickle:
        return get_flavor("pickle")
    raise ModelPackageError(
        f"no safe flavor can store a {type(model).__module__}.{type(model).__qualname__} "
        f"(safe flavors: {', '.join(n for n in flavors() if get_flavor(n).safe)}). "
        "Convert it to one (ONNX works for most), or pass allow_pickle=True to store it "
        "with pickle, which loads only for users who opt in"
    )
