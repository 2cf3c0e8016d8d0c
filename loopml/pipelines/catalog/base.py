"""The dataset interface: something a pipeline step reads or writes by name.

A dataset type is a :class:`Dataset` subclass with a ``config_type``: a
frozen dataclass (a :class:`~loopml.pipelines.catalog.config.DatasetConfig`)
naming its ``type`` and whose other fields are the keyword arguments of the
class's constructor, which also takes ``base_dir``. The catalog builds
datasets from YAML through :meth:`Dataset.from_config`; users build them in
Python with the constructor. Constructors check their configuration and do
no I/O.
"""

from __future__ import annotations

import dataclasses
import math
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

from loopml.core.hashing import stable_hash
from loopml.pipelines.catalog.config import DatasetConfig, FileDatasetConfig
from loopml.pipelines.catalog.errors import DatasetConfigError, DatasetValueError
from loopml.pipelines.catalog.location import Location

SECRET_FIELDS = frozenset({"storage_options", "credentials"})
"""Configuration fields whose values :meth:`Dataset.describe` hides (only their keys show)."""


class Dataset(ABC):
    """A named input or output of pipelines: load it, save it, ask whether and what it holds.

    Attributes:
        config_type: the configuration dataclass of this dataset type (class attribute).
        readable: ``load`` works (class flag).
        writable: ``save`` works; read-only datasets (SQL queries) refuse it (class flag).
        config: this dataset's configuration.
        base_dir: the folder relative local paths are resolved against.
    """

    config_type: ClassVar[type[DatasetConfig]]
    readable: ClassVar[bool] = True
    writable: ClassVar[bool] = True
    config: DatasetConfig
    base_dir: Path

    @classmethod
    def from_config(cls, config: DatasetConfig, *, base_dir: str | os.PathLike[str]) -> Self:
        """Build the dataset a checked configuration describes (no I/O).

        The default passes the configuration's fields (all but ``type``) to the
        constructor as keyword arguments, with ``base_dir``.

        Raises:
            DatasetConfigError: if the configuration is not acceptable.
        """
        fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
        fields.pop("type", None)
        constructor: Callable[..., Self] = cls
        return constructor(**fields, base_dir=base_dir)

    @abstractmethod
    def load(self) -> Any:
        """Read the dataset's current content.

        Raises:
            DatasetMissingError: if nothing is stored yet.
            DatasetIOError: if the storage, the format or the engine fails.
        """

    @abstractmethod
    def save(self, obj: Any) -> None:
        """Replace the dataset's content by ``obj``, atomically where the storage allows.

        Raises:
            DatasetValueError: if ``obj`` is not something this dataset stores, or the
                dataset is read-only. Nothing was written.
            DatasetIOError: if the storage fails.
        """

    @abstractmethod
    def exists(self) -> bool:
        """Tell whether the dataset holds data now (``load`` would find some).

        Raises:
            DatasetIOError: if the storage cannot tell (never answers ``False`` instead).
        """

    @abstractmethod
    def fingerprint(self) -> str:
        """Return a cheap, stable identity of the current content, for cache keys.

        Equal fingerprints mean ``load`` returns equal values; a change of the
        content changes the fingerprint. The converse need not hold: touching a
        large file may change its fingerprint without changing its content.
        Each type's docstring says how it is computed.

        Raises:
            DatasetMissingError: if nothing is stored yet.
        """

    def describe(self) -> dict[str, Any]:
        """A JSON-able description for the UI and the CLI; storage options show keys only."""
        described: dict[str, Any] = {
            "type": self.config.type,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "readable": self.readable,
            "writable": self.writable,
        }
        for field in dataclasses.fields(self.config):
            value = getattr(self.config, field.name)
            if field.name in SECRET_FIELDS and isinstance(value, Mapping):
                value = {key: "***" for key in sorted(value)}
            described[field.name] = jsonable(value)
        return described

    def references(self) -> frozenset[str]:
        """Names of other catalog datasets this one reads (an SQL query's ``tables``)."""
        return frozenset()

    def resolve(self, datasets: Mapping[str, Dataset]) -> Dataset:
        """Return this dataset with its :meth:`references` bound to ``datasets`` (default: self).

        The catalog calls it once all datasets exist, in dependency order.
        """
        return self

    def _config_hash(self, *names: str) -> str:
        """A stable hash of the configuration fields that shape what ``load`` returns."""
        return stable_hash({n: jsonable(getattr(self.config, n)) for n in ("type", *names)})

    def _refuse_save(self) -> None:
        raise DatasetValueError(f"{self!r} is read-only ({self.config.type} datasets cannot save)")

    def __repr__(self) -> str:
        target = getattr(self.config, "path", None) or self.config.type
        return f"{type(self).__name__}({target!r})"


class FileDataset(Dataset):
    """Base of the datasets stored at a path or URL: ``csv``, ``parquet``, ``files``.

    Subclasses set ``config`` and call :meth:`_locate`; they list in
    ``load_fields`` the configuration fields that change what ``load`` returns,
    which the fingerprint covers besides the stored content.
    """

    config: FileDatasetConfig
    load_fields: ClassVar[tuple[str, ...]] = ()

    def _locate(self, base_dir: str | os.PathLike[str] | None) -> None:
        if not self.config.path.strip():
            raise DatasetConfigError("field 'path' must not be empty", field="path")
        self.base_dir = Path(base_dir if base_dir is not None else Path.cwd()).absolute()
        self.location = Location(
            self.config.path, base_dir=self.base_dir, storage_options=self.config.storage_options
        )

    def exists(self) -> bool:
        return self.location.kind() is not None

    def fingerprint(self) -> str:
        """``sha256`` of the load options and the location's content identity.

        See :mod:`loopml.pipelines.catalog.location` for the identity of files
        and folders under each ``fingerprint`` mode.
        """
        data = self.location.fingerprint_data(self.config.fingerprint)
        return stable_hash({"config": self._config_hash(*self.load_fields), "data": data})

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "uri": self.location.url}


def jsonable(value: Any) -> Any:
    """``value`` with what JSON cannot hold turned into strings (tuples become lists)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return repr(value)
