"""The catalog: a mapping of dataset name -> :class:`~loopml.pipelines.catalog.base.Dataset`.

Built from the ``catalog:`` section of ``loopml.yaml`` (:meth:`Catalog.from_settings`),
from any such mapping (:meth:`Catalog.from_config`), or in Python
(``Catalog({"flights": CsvDataset("data/flights.csv")})``). Every dataset is
checked when the catalog is built: a bad type, field or reference fails then,
before any pipeline runs. Names starting with ``_`` in the configuration are
skipped, so they can hold YAML anchors to merge into datasets (``<<: *csv``).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from loopml.pipelines.catalog.base import Dataset
from loopml.pipelines.catalog.config import interpolate_env, parse_config
from loopml.pipelines.catalog.errors import (
    CatalogError,
    DatasetConfigError,
    DatasetNotFoundError,
    DatasetValueError,
)
from loopml.pipelines.catalog.registry import dataset_type, dataset_type_names

if TYPE_CHECKING:
    from loopml.core.config import Settings

T = TypeVar("T")
_MISSING: Any = object()
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


class Catalog(Mapping[str, Dataset]):
    """Named datasets, read and written by name. Immutable; build a new one to change it.

    Args:
        datasets: dataset name -> dataset. Names start with a letter, then letters,
            digits, ``_``, ``.`` or ``-``.

    Raises:
        DatasetConfigError: on a bad name, a value that is not a Dataset, or a reference
            (an SQL dataset's ``tables``) to a missing dataset or in a cycle.
    """

    def __init__(self, datasets: Mapping[str, Dataset] | None = None) -> None:
        datasets = dict(datasets or {})
        for name, dataset in datasets.items():
            if not isinstance(name, str) or not _NAME.match(name):
                raise DatasetConfigError(
                    f"dataset name {name!r} must start with a letter, then letters, digits, "
                    "'_', '.' or '-'"
                )
            if not isinstance(dataset, Dataset):
                raise DatasetConfigError(
                    f"dataset {name!r} must be a Dataset, not {type(dataset).__name__}",
                    dataset=name,
                )
        self._declared = datasets
        self._datasets = _resolve_references(datasets)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any] | None,
        *,
        base_dir: str | os.PathLike[str],
        environ: Mapping[str, str] | None = None,
    ) -> Catalog:
        """Build a catalog from a mapping of dataset name -> configuration (parsed YAML).

        Args:
            config: name -> ``{"type": ..., other fields}``; ``None`` is an empty catalog.
            base_dir: the folder relative local paths are resolved against.
            environ: the variables ``${NAME}`` is replaced from (default ``os.environ``).

        Raises:
            DatasetConfigError: naming the dataset and the field at fault.
        """
        if config is None:
            return cls()
        if not isinstance(config, Mapping):
            raise DatasetConfigError(
                "the catalog must be a mapping of dataset name -> configuration, "
                f"not {type(config).__name__}"
            )
        env = os.environ if environ is None else environ
        datasets: dict[str, Dataset] = {}
        for name, raw in config.items():
            if isinstance(name, str) and name.startswith("_"):
                continue
            with _about(str(name)):
                datasets[name] = _build(str(name), raw, Path(base_dir), env)
        return cls(datasets)

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, environ: Mapping[str, str] | None = None
    ) -> Catalog:
        """Build the catalog of a project: its ``catalog:`` section, paths relative to it.

        Args:
            settings: the project's settings (default: ``Settings.load()``).
            environ: the variables ``${NAME}`` is replaced from (default ``os.environ``).
        """
        if settings is None:
            from loopml.core.config import Settings

            settings = Settings.load()
        section = settings.sections.get("catalog")
        return cls.from_config(section, base_dir=settings.project_dir, environ=environ)

    def __getitem__(self, name: str) -> Dataset:
        try:
            return self._datasets[name]
        except (KeyError, TypeError):
            raise self._not_found(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._datasets)

    def __len__(self) -> int:
        return len(self._datasets)

    def __contains__(self, name: object) -> bool:
        return name in self._datasets

    def __repr__(self) -> str:
        return f"Catalog({list(self._datasets)!r})"

    @overload
    def get(self, name: str) -> Dataset: ...
    @overload
    def get(self, name: str, default: Dataset | T) -> Dataset | T: ...

    def get(self, name: str, default: Any = _MISSING) -> Any:
        """Return the dataset ``name``; unlike ``dict.get``, raise if it is missing and no
        ``default`` is given: a misspelt name in a pipeline is an error, not a ``None``.

        Raises:
            DatasetNotFoundError: with the closest name, if there is no such dataset.
        """
        if name in self._datasets:
            return self._datasets[name]
        if default is _MISSING:
            raise self._not_found(name)
        return default

    def merged(self, other: Mapping[str, Dataset]) -> Catalog:
        """A new catalog with the datasets of ``other`` added, replacing those of the same name.

        References are bound anew, so an SQL dataset reads the replacement.

        Raises:
            DatasetConfigError: as the constructor does.
        """
        declared = other._declared if isinstance(other, Catalog) else other
        return Catalog({**self._declared, **declared})

    def names(self) -> list[str]:
        """The dataset names, in the order they were declared."""
        return list(self._datasets)

    def load(self, name: str) -> Any:
        """Load the dataset ``name``.

        Raises:
            DatasetNotFoundError: if there is no such dataset.
            DatasetMissingError: if it holds no data yet.
            DatasetIOError: if reading fails.
        """
        dataset = self[name]
        with _about(name):
            if not dataset.readable:
                raise DatasetValueError(f"{dataset!r} cannot be read (write-only)")
            return dataset.load()

    def save(self, name: str, obj: Any) -> None:
        """Save ``obj`` to the dataset ``name``.

        Raises:
            DatasetNotFoundError: if there is no such dataset.
            DatasetValueError: if the dataset is read-only or refuses ``obj``.
            DatasetIOError: if writing fails.
        """
        dataset = self[name]
        with _about(name):
            if not dataset.writable:
                raise DatasetValueError(
                    f"{dataset!r} is read-only: {dataset.config.type} datasets cannot be saved"
                )
            dataset.save(obj)

    def exists(self, name: str) -> bool:
        """Tell whether the dataset ``name`` holds data now."""
        dataset = self[name]
        with _about(name):
            return dataset.exists()

    def fingerprint(self, name: str) -> str:
        """The fingerprint of the dataset ``name``'s current content (see ``Dataset``)."""
        dataset = self[name]
        with _about(name):
            return dataset.fingerprint()

    def describe(self) -> dict[str, dict[str, Any]]:
        """Name -> JSON-able description of every dataset, for the UI and the CLI."""
        return {name: dataset.describe() for name, dataset in self._datasets.items()}

    def _not_found(self, name: object) -> DatasetNotFoundError:
        hint = difflib.get_close_matches(str(name), list(self._datasets), n=1)
        did_you_mean = f"; did you mean {hint[0]!r}?" if hint else ""
        known = ", ".join(self._datasets) or "none"
        return DatasetNotFoundError(
            f"no dataset {name!r} in the catalog{did_you_mean} (datasets: {known})"
        )


def _build(name: str, raw: object, base_dir: Path, environ: Mapping[str, str]) -> Dataset:
    if not _NAME.match(name):
        raise DatasetConfigError(
            "a dataset name must start with a letter, then letters, digits, '_', '.' or '-'"
        )
    if not isinstance(raw, Mapping):
        raise DatasetConfigError(f"must be a mapping of fields, not {type(raw).__name__}")
    if "type" not in raw:
        known = ", ".join(dataset_type_names())
        raise DatasetConfigError(f"missing required field 'type' (one of {known})", field="type")
    fields = interpolate_env(dict(raw), environ)
    cls = dataset_type(fields["type"])
    return cls.from_config(parse_config(cls.config_type, fields), base_dir=base_dir)


@contextlib.contextmanager
def _about(name: str) -> Iterator[None]:
    """Name the dataset in catalog errors raised inside (same error class)."""
    try:
        yield
    except CatalogError as exc:
        named = exc.for_dataset(name)
        if named is exc:
            raise
        raise named from exc


def _resolve_references(datasets: dict[str, Dataset]) -> dict[str, Dataset]:
    """Bind each dataset's references to the datasets they name, dependencies first."""
    resolved: dict[str, Dataset] = {}

    def visit(name: str, path: tuple[str, ...]) -> Dataset:
        if name in resolved:
            return resolved[name]
        if name in path:
            cycle = " -> ".join((*path[path.index(name) :], name))
            raise DatasetConfigError(
                f"datasets read each other in a cycle: {cycle}", field="tables"
            )
        dataset = datasets[name]
        refs = sorted(dataset.references())
        for ref in refs:
            if ref not in datasets:
                hint = difflib.get_close_matches(ref, list(datasets), n=1)
                did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
                error = DatasetConfigError(
                    f"field 'tables' names the dataset {ref!r}, which is not in the "
                    f"catalog{did_you_mean}",
                    field="tables",
                )
                raise error.for_dataset(name)
        bound = {ref: visit(ref, (*path, name)) for ref in refs}
        resolved[name] = dataset.resolve(bound) if refs else dataset
        return resolved[name]

    for name in datasets:
        visit(name, ())
    return {name: resolved[name] for name in datasets}
