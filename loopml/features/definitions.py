"""What a feature repository holds: entities, sources, feature views, on-demand views, services.

Everything here is a frozen dataclass that checks itself when built and does
no I/O. :class:`Definitions` bundles them, checks that every reference
resolves, and turns to and from plain dicts (what is stored as an artifact,
and what a YAML file holds; see :mod:`loopml.features.loading`).

A *feature reference* is ``"view:feature"``, or ``"view"`` for every feature of
a view. The source columns of a view are named like its entities' join keys
and its features.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Literal, TypeVar

from loopml.features.errors import FeatureDefinitionError, FeatureNotFoundError

DTYPES = ("float64", "float32", "int64", "int32", "bool", "string", "timestamp")
"""The feature types a definition may declare."""

_T = TypeVar("_T")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d|w)?\s*$")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
SECRET_WORDS = ("key", "secret", "token", "password", "passwd", "credential", "auth", "session")
"""Storage option names containing one of these hold credentials: only ``${VAR}`` is stored."""
_ENV_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


def _check_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise FeatureDefinitionError(f"{what} must be an identifier, not {value!r}")
    return value


def _names(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items:
        raise FeatureDefinitionError(f"{what} must name at least one")
    return tuple(_check_name(item, what) for item in items)


def parse_duration(value: timedelta | float | str | None) -> timedelta | None:
    """A TTL from a ``timedelta``, seconds, or text such as ``"90m"``, ``"3h"``, ``"2d"``.

    Raises:
        FeatureDefinitionError: for anything else, or a duration that is not positive.
    """
    if value is None or isinstance(value, timedelta):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = timedelta(seconds=float(value))
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        result = timedelta(seconds=float(match[1]) * _UNITS[match[2] or "s"])
    else:
        raise FeatureDefinitionError(f"a ttl is a duration such as '3h' or seconds, not {value!r}")
    if result is not None and result <= timedelta(0):
        raise FeatureDefinitionError(f"a ttl must be positive, not {value!r}")
    return result


@dataclasses.dataclass(frozen=True)
class Entity:
    """What features describe (an airport, a customer), known by its join key column(s)."""

    name: str
    join_keys: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name, "an entity name")
        object.__setattr__(self, "join_keys", _names(self.join_keys, f"entity {self.name!r} keys"))


@dataclasses.dataclass(frozen=True)
class Feature:
    """One feature: a source column of the same name, with its declared type."""

    name: str
    dtype: str = "float64"

    def __post_init__(self) -> None:
        _check_name(self.name, "a feature name")
        if self.dtype not in DTYPES:
            raise FeatureDefinitionError(
                f"feature {self.name!r}: dtype {self.dtype!r} is not one of {', '.join(DTYPES)}"
            )


@dataclasses.dataclass(frozen=True)
class FileSource:
    """Parquet or CSV files (a file, a folder or a glob; local or any fsspec URL).

    Attributes:
        path: the file, folder (ending in ``/``) or glob; relative to the project folder.
        timestamp: the event timestamp column.
        created_timestamp: the column that breaks ties between rows of one event time.
        format: ``parquet`` or ``csv``; guessed from the path if omitted.
        options: options of DuckDB's reader (``read_csv``/``read_parquet``), e.g.
            ``{"nullstr": "NA"}``.
        storage_options: fsspec options for URLs. They are stored with the definitions,
            so a credential (an option named like ``key``, ``secret``, ``token``,
            ``password``, ``credentials``...) must be an environment reference
            ``"${NAME}"``, replaced when the source is read; or leave it out and let
            the file system find it (the AWS chain: environment, ``~/.aws``, role).
    """

    path: str
    timestamp: str
    created_timestamp: str | None = None
    format: Literal["parquet", "csv"] | None = None
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    storage_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.strip():
            raise FeatureDefinitionError("a file source needs a path")
        _check_name(self.timestamp, "a source timestamp column")
        if self.created_timestamp is not None:
            _check_name(self.created_timestamp, "a source created_timestamp column")
        guessed = self.format or ("csv" if ".csv" in self.path.lower() else "parquet")
        if guessed not in ("parquet", "csv"):
            raise FeatureDefinitionError(f"a file source is parquet or csv, not {guessed!r}")
        object.__setattr__(self, "format", guessed)
        for name in ("options", "storage_options"):
            value = getattr(self, name)
            if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
                raise FeatureDefinitionError(f"a file source's {name} is a mapping of names")
            object.__setattr__(self, name, dict(value))
        _refuse_secrets(self.path, self.storage_options)


def _refuse_secrets(path: str, options: Mapping[str, Any]) -> None:
    for name, value in options.items():
        if not any(word in name.lower() for word in SECRET_WORDS):
            continue
        if isinstance(value, str) and _ENV_REFERENCE.match(value):
            continue
        raise FeatureDefinitionError(
            f"file source {path!r}: storage option {name!r} looks like a credential, and "
            "definitions are stored as an artifact: write it as an environment variable "
            f'reference ({name}: "${{MY_{name.upper()}}}", replaced when the source is read) '
            "or leave it out and let the file system find credentials itself (for S3 the "
            "usual AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role)"
        )


@dataclasses.dataclass(frozen=True)
class SqlSource:
    """The result of one DuckDB ``SELECT`` (which may read files and URLs)."""

    query: str
    timestamp: str
    created_timestamp: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.query, str) or not self.query.strip():
            raise FeatureDefinitionError("an SQL source needs a query")
        _check_name(self.timestamp, "a source timestamp column")
        if self.created_timestamp is not None:
            _check_name(self.created_timestamp, "a source created_timestamp column")


Source = FileSource | SqlSource


@dataclasses.dataclass(frozen=True)
class FeatureView:
    """Features of some entities, read from a source, valid for ``ttl`` after their event time.

    Attributes:
        name: the view's name, the first part of its feature references.
        entities: names of the entities it is keyed by.
        features: its features, in order.
        source: where its rows come from.
        ttl: how long a value stays valid; ``None`` for ever.
        online: materialized to the online store.
        description: free text.
    """

    name: str
    entities: tuple[str, ...]
    features: tuple[Feature, ...]
    source: Source
    ttl: timedelta | None = None
    online: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name, "a feature view name")
        object.__setattr__(self, "entities", _names(self.entities, f"view {self.name!r} entities"))
        features = tuple(self.features)
        if not features:
            raise FeatureDefinitionError(f"feature view {self.name!r} has no features")
        _unique([f.name for f in features], f"feature view {self.name!r}: feature")
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "ttl", parse_duration(self.ttl))
        if not isinstance(self.source, FileSource | SqlSource):
            raise FeatureDefinitionError(f"feature view {self.name!r}: source is not a source")

    def feature(self, name: str) -> Feature:
        """The feature ``name`` of this view.

        Raises:
            FeatureNotFoundError: if the view has none of that name.
        """
        for feature in self.features:
            if feature.name == name:
                return feature
        known = ", ".join(f.name for f in self.features)
        raise FeatureNotFoundError(f"feature view {self.name!r} has no feature {name!r} ({known})")


@dataclasses.dataclass(frozen=True)
class OnDemandFeatureView:
    """Features computed by a Python function from other features, at request time.

    The function takes a pandas DataFrame holding the ``inputs`` (columns named
    by feature name) and returns a DataFrame (or a mapping of columns) holding
    ``features``. It is stored by reference (``module:qualname``), never pickled.
    """

    name: str
    inputs: tuple[str, ...]
    features: tuple[Feature, ...]
    function: str | Callable[..., Any]

    def __post_init__(self) -> None:
        _check_name(self.name, "an on-demand view name")
        inputs = (self.inputs,) if isinstance(self.inputs, str) else tuple(self.inputs)
        if not inputs:
            raise FeatureDefinitionError(f"on-demand view {self.name!r} has no inputs")
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "features", tuple(self.features))
        if callable(self.function):
            fn = self.function
            object.__setattr__(self, "_fn", fn)
            object.__setattr__(self, "function", f"{fn.__module__}:{fn.__qualname__}")
        elif not isinstance(self.function, str) or ":" not in self.function:
            raise FeatureDefinitionError(
                f"on-demand view {self.name!r}: function is a callable or 'module:qualname'"
            )

    def resolve(self) -> Callable[..., Any]:
        """The function, imported from its reference if it was not given as a callable."""
        fn = getattr(self, "_fn", None)
        if fn is None:
            module, _, qualname = str(self.function).partition(":")
            try:
                target: Any = importlib.import_module(module)
                for part in qualname.split("."):
                    target = getattr(target, part)
            except (ImportError, AttributeError) as exc:
                raise FeatureDefinitionError(
                    f"on-demand view {self.name!r}: cannot import {self.function!r}: {exc}"
                ) from exc
            fn = target
            object.__setattr__(self, "_fn", fn)
        return fn  # type: ignore[no-any-return]


@dataclasses.dataclass(frozen=True)
class FeatureService:
    """A named bundle of feature references that a model uses."""

    name: str
    features: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name, "a feature service name")
        refs = (self.features,) if isinstance(self.features, str) else tuple(self.features)
        if not refs:
            raise FeatureDefinitionError(f"feature service {self.name!r} has no features")
        object.__setattr__(self, "features", refs)


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FeatureDefinitionError(f"{what} {name!r} is defined twice")
        seen.add(name)


@dataclasses.dataclass(frozen=True)
class Definitions:
    """A whole feature repository, checked: unique names, every reference resolves."""

    entities: tuple[Entity, ...] = ()
    views: tuple[FeatureView, ...] = ()
    on_demand: tuple[OnDemandFeatureView, ...] = ()
    services: tuple[FeatureService, ...] = ()

    def __post_init__(self) -> None:
        for field in ("entities", "views", "on_demand", "services"):
            object.__setattr__(self, field, tuple(getattr(self, field)))
        _unique([e.name for e in self.entities], "entity")
        _unique([v.name for v in self._all_views()], "feature view")
        _unique([s.name for s in self.services], "feature service")
        for view in self.views:
            for entity in view.entities:
                self.entity(entity)
        for odfv in self.on_demand:
            for ref in odfv.inputs:
                if not isinstance(self.view(ref.partition(":")[0]), FeatureView):
                    raise FeatureDefinitionError(
                        f"on-demand view {odfv.name!r}: input {ref!r} is not of a feature view"
                    )
                self.expand(ref)
        for service in self.services:
            for ref in service.features:
                self.expand(ref)

    def entity(self, name: str) -> Entity:
        """The entity ``name``. Raises :class:`FeatureNotFoundError` if there is none."""
        return _find(self.entities, name, "entity")

    def view(self, name: str) -> FeatureView | OnDemandFeatureView:
        """The feature view or on-demand view ``name``."""
        return _find(self._all_views(), name, "feature view")

    def _all_views(self) -> tuple[FeatureView | OnDemandFeatureView, ...]:
        return (*self.views, *self.on_demand)

    def service(self, name: str) -> FeatureService:
        """The feature service ``name``."""
        return _find(self.services, name, "feature service")

    def join_keys(self, view: FeatureView) -> tuple[str, ...]:
        """The join key columns of a view, in entity order."""
        return tuple(key for name in view.entities for key in self.entity(name).join_keys)

    def expand(self, ref: str) -> list[tuple[str, str]]:
        """``(view, feature)`` pairs of one reference (``"view:feature"`` or ``"view"``).

        Raises:
            FeatureNotFoundError: if the view or the feature is not defined.
        """
        if not isinstance(ref, str) or ref.count(":") > 1:
            raise FeatureDefinitionError(f"a feature reference is 'view:feature', not {ref!r}")
        view_name, _, feature = ref.partition(":")
        view = self.view(view_name)
        if not feature:
            return [(view.name, f.name) for f in view.features]
        if isinstance(view, FeatureView):
            view.feature(feature)
        elif feature not in {f.name for f in view.features}:
            raise FeatureNotFoundError(f"on-demand view {view.name!r} has no feature {feature!r}")
        return [(view.name, feature)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of everything (the stored form; see :func:`definitions_from_dict`)."""
        from loopml.features.serialize import definitions_to_dict

        return definitions_to_dict(self)


def _find(items: tuple[_T, ...], name: str, what: str) -> _T:
    for item in items:
        if getattr(item, "name", None) == name:
            return item
    known = ", ".join(sorted(str(getattr(item, "name", "")) for item in items)) or "none defined"
    raise FeatureNotFoundError(f"unknown {what} {name!r} (known: {known})")
