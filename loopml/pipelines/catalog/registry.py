"""Dataset types by name: the built-in ones, those registered in Python, and entry points.

The ``type:`` of a dataset in ``loopml.yaml`` is looked up here, in order:

1. types registered with :func:`register_dataset_type` (which may replace a built-in);
2. the built-in types, listed below with lazy import paths (``csv``, ``parquet``,
   ``sql``, ``files``);
3. entry points of the group ``loopml.dataset_types`` (``name = "pkg.module:Class"``)
   that installed packages declare.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import re
import threading
from importlib.metadata import entry_points

from loopml.pipelines.catalog.base import Dataset
from loopml.pipelines.catalog.config import DatasetConfig
from loopml.pipelines.catalog.errors import DatasetConfigError, DatasetTypeError

ENTRY_POINT_GROUP = "loopml.dataset_types"

BUILTIN_TYPES: dict[str, str] = {
    "csv": "loopml.pipelines.catalog.csv:CsvDataset",
    "files": "loopml.pipelines.catalog.files:FilesDataset",
    "parquet": "loopml.pipelines.catalog.parquet:ParquetDataset",
    "sql": "loopml.pipelines.catalog.sql:SqlDataset",
}
"""The built-in dataset types, imported when first used."""

_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")
_registered: dict[str, type[Dataset]] = {}
_lock = threading.Lock()


def register_dataset_type(name: str, cls: type[Dataset], *, replace: bool = False) -> None:
    """Make ``cls`` the dataset type that ``type: name`` selects in a catalog.

    Args:
        name: lowercase, e.g. ``"excel"`` or ``"my_company.feature_table"``.
        cls: a :class:`Dataset` subclass whose ``config_type`` is a
            :class:`~loopml.pipelines.catalog.config.DatasetConfig` dataclass.
        replace: allow replacing a type registered (or built in) under that name.

    Raises:
        DatasetTypeError: if the name is malformed or taken, or ``cls`` is not such a class.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise DatasetTypeError(
            f"dataset type name {name!r} must be lowercase letters, digits, '_', '.' or '-'"
        )
    _check_class(name, cls)
    with _lock:
        if not replace and (name in _registered or name in BUILTIN_TYPES):
            raise DatasetTypeError(
                f"dataset type {name!r} is already registered; pass replace=True to replace it"
            )
        _registered[name] = cls


def unregister_dataset_type(name: str) -> None:
    """Forget a type registered with :func:`register_dataset_type` (built-ins come back)."""
    with _lock:
        _registered.pop(name, None)


def dataset_type(name: object, *, dataset: str | None = None) -> type[Dataset]:
    """Return the dataset class registered under ``name``.

    Raises:
        DatasetConfigError: naming the field ``type``, if no type has that name.
    """
    if not isinstance(name, str):
        raise DatasetConfigError(
            f"field 'type' must be a str, not {name!r}", dataset=dataset, field="type"
        )
    with _lock:
        registered = _registered.get(name)
    if registered is not None:
        return registered
    if name in BUILTIN_TYPES:
        return _import(BUILTIN_TYPES[name], name)
    for entry in entry_points(group=ENTRY_POINT_GROUP, name=name):
        return _import(entry.value, name)
    known = dataset_type_names()
    hint = difflib.get_close_matches(name, known, n=1)
    did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
    raise DatasetConfigError(
        f"unknown dataset type {name!r}{did_you_mean}; known types: {', '.join(known)}",
        dataset=dataset,
        field="type",
    )


def dataset_type_names() -> list[str]:
    """The names of every dataset type: built in, registered and from entry points."""
    with _lock:
        names = set(BUILTIN_TYPES) | set(_registered)
    names |= {entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def _import(path: str, name: str) -> type[Dataset]:
    module_name, _, attribute = path.partition(":")
    cls = getattr(importlib.import_module(module_name), attribute)
    _check_class(name, cls)
    return cls  # type: ignore[no-any-return]


def _check_class(name: str, cls: object) -> None:
    if not isinstance(cls, type) or not issubclass(cls, Dataset):
        raise DatasetTypeError(f"dataset type {name!r} must be a Dataset subclass, not {cls!r}")
    config_type = getattr(cls, "config_type", None)
    if not (
        isinstance(config_type, type)
        and issubclass(config_type, DatasetConfig)
        and dataclasses.is_dataclass(config_type)
    ):
        raise DatasetTypeError(
            f"dataset type {name!r}: {cls.__name__}.config_type must be a DatasetConfig dataclass"
        )
