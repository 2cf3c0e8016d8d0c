"""Materializers: turn Python objects into bytes for the artifact store, and back, safely.

A materializer handles some types (and their subclasses), dumps an object to
bytes and loads bytes back into an equal object. Nothing here uses pickle:
loading an artifact never runs code it holds, except for types the caller
names in ``trusted``.

Built-in, looked up along the object's type MRO:

===================  ============================  ======================================
name                 types                         format
===================  ============================  ======================================
``pandas-parquet``   ``pandas.DataFrame``          Parquet via pyarrow (index and dtypes kept)
``numpy``            ``numpy.ndarray``             ``.npy``, ``allow_pickle=False``
``skops``            scikit-learn estimators       skops, loading gated by a type allow-list
``json``             dict, list, int, float, bool  JSON (NaN and infinities refused)
``text``             ``str``                       UTF-8
``bytes``            ``bytes``, ``bytearray``      as is
===================  ============================  ======================================

Other packages declare theirs as entry points of the group
``loopml.materializers`` (``name = "pkg.module:Class"``), loaded when an
artifact names one that is not registered yet.

Types are named by dotted path (``"pandas.DataFrame"``) and resolved only
once their module is imported, so the registry imports no heavy library.
"""

from __future__ import annotations

import logging
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from loopml.artifacts.errors import (
    ArtifactConflictError,
    MaterializerError,
    MaterializerNotFoundError,
)

logger = logging.getLogger(__name__)


def qualified_type_name(obj: object) -> str:
    """Return ``module.QualName`` of the type of ``obj`` (``"builtins.dict"``)."""
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


class Materializer(ABC):
    """Turns objects of some types into bytes and back.

    Attributes:
        name: unique registry name, recorded with each artifact to load it back.
        version: bumped when the byte format changes incompatibly.
        types: dotted paths of the types handled, subclasses included.
        extension: file extension of the format (``".parquet"``), for exports.
        safe_to_load: loading never runs code from the bytes unless the caller
            passes ``trusted``. Materializers that cannot promise it say ``False``.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    types: ClassVar[tuple[str, ...]]
    extension: ClassVar[str] = ""
    safe_to_load: ClassVar[bool] = True

    @abstractmethod
    def dump(self, obj: Any) -> bytes:
        """Serialize ``obj``; equal objects should give equal bytes (for deduplication).

        Raises:
            MaterializerError: if this object cannot be represented faithfully.
        """

    @abstractmethod
    def load(self, data: bytes, type_name: str, *, trusted: Sequence[str] | None = None) -> Any:
        """Rebuild the object that :meth:`dump` turned into ``data``.

        Args:
            data: the bytes.
            type_name: what :meth:`type_name` said of the dumped object.
            trusted: type names the caller trusts beyond the materializer's own
                allow-list; ignored by materializers that build no arbitrary types.

        Raises:
            MaterializerError: if ``data`` is not in this materializer's format.
            UnsafeLoadError: if loading would build a type nobody trusted.
        """

    def type_name(self, obj: Any) -> str:
        """Name the type of ``obj`` for :meth:`load` (default: ``module.QualName``)."""
        return qualified_type_name(obj)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} v{self.version}>"


# --- the registry -------------------------------------------------------------

ENTRY_POINT_GROUP = "loopml.materializers"
_lock = threading.RLock()
_builtins_loaded = False
_by_name: dict[str, Materializer] = {}
_by_type: dict[str, str] = {}
_SPECIAL_TYPES: dict[str, type] = {"builtins.NoneType": type(None)}


def register_materializer(materializer: Materializer, *, replace: bool = False) -> None:
    """Make ``materializer`` available by its name and for its types.

    Args:
        materializer: the instance to register.
        replace: take over a name or types registered before, instead of refusing.

    Raises:
        ArtifactConflictError: if the name or a type is taken and ``replace`` is false.
        MaterializerError: if the materializer has no name or no types.
    """
    _ensure_builtins()
    with _lock:
        _add(materializer, replace=replace)


def _add(materializer: Materializer, *, replace: bool) -> None:
    name = getattr(materializer, "name", "")
    types = tuple(getattr(materializer, "types", ()))
    if not isinstance(materializer, Materializer) or not isinstance(name, str) or not name:
        raise MaterializerError(f"{materializer!r} is not a Materializer with a name")
    if not types or not all(isinstance(t, str) and "." in t for t in types):
        raise MaterializerError(f"{materializer!r} must list its types as dotted paths")
    if not replace:
        _check_free(name, types)
    _by_name[name] = materializer
    for type_path in types:
        _by_type[type_path] = name
    logger.debug("registered materializer %r for %s", name, ", ".join(types))


def _check_free(name: str, types: tuple[str, ...]) -> None:
    if name in _by_name:
        raise ArtifactConflictError(f"a materializer named {name!r} is already registered")
    for type_path in types:
        owner = _by_type.get(type_path)
        if owner is not None:
            raise ArtifactConflictError(f"{type_path} is already handled by materializer {owner!r}")


def get_materializer(name: str) -> Materializer:
    """Return the materializer registered under ``name``.

    Raises:
        MaterializerNotFoundError: if there is none.
    """
    _ensure_builtins()
    found = _by_name.get(name) or _from_entry_point(name)
    if found is None:
        known = ", ".join(sorted(_by_name))
        raise MaterializerNotFoundError(f"no materializer named {name!r} (registered: {known})")
    return found


def _from_entry_point(name: str) -> Materializer | None:
    """Load the materializer an installed package declares under ``name``, if any.

    A worker that loads an artifact may not have imported the package that
    made it: the entry point group ``loopml.materializers`` says where it is.
    """
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP, name=name):
        cls = entry.load()  # importing it may register it already
        with _lock:
            if name not in _by_name:
                _add(cls(), replace=False)
            return _by_name[name]
    return None


def materializer_for(obj: object) -> Materializer:
    """Return the materializer for ``obj``: the one for the nearest type along its MRO.

    Raises:
        MaterializerError: if no registered materializer handles its type (the value
            cannot be stored: an :class:`~loopml.core.errors.InvalidInputError`).
    """
    _ensure_builtins()
    mro = type(obj).__mro__
    with _lock:
        owners = list(_by_type.items())
    best: tuple[int, str] | None = None
    for type_path, name in owners:
        cls = _resolve(type_path)
        if cls is not None and cls in mro:
            rank = mro.index(cls)
            if best is None or rank < best[0]:
                best = (rank, name)
    if best is None:
        raise MaterializerError(
            f"no materializer handles {qualified_type_name(obj)}; register one with "
            "loopml.artifacts.register_materializer"
        )
    return _by_name[best[1]]


def _resolve(type_path: str) -> type | None:
    """Find the class a dotted path names, if its module is imported already."""
    if type_path in _SPECIAL_TYPES:
        return _SPECIAL_TYPES[type_path]
    parts = type_path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            continue
        target: Any = module
        for attr in parts[cut:]:
            target = getattr(target, attr, None)
        return target if isinstance(target, type) else None
    return None


def _ensure_builtins() -> None:
    """Register the built-in materializers on first use of the registry."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _lock:
        if _builtins_loaded:
            return
        from loopml.artifacts.formats import BUILTIN_MATERIALIZERS

        for cls in BUILTIN_MATERIALIZERS:
            _add(cls(), replace=False)
        _builtins_loaded = True
