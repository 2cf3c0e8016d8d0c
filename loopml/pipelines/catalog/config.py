"""Typed dataset configurations: checked from YAML mappings, with ``${ENV_VAR}`` interpolation.

Every dataset type has a frozen dataclass naming its ``type``, in the manner
of Feast (``CsvDatasetConfig(type="csv", path=...)``). :func:`parse_config`
builds one from a raw mapping and refuses, naming the field, unknown keys
(with a did-you-mean hint), missing required fields and values of the wrong
type. The field types it understands are ``str``, ``bool``, ``int``,
``float``, ``Any``, ``Literal[...]``, ``X | None``, ``Mapping[str, ...]`` and
``tuple[str, ...]`` (given as a YAML list): enough for configurations, and
small enough to read.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal, TypeVar

from loopml.pipelines.catalog.errors import DatasetConfigError

C = TypeVar("C", bound="DatasetConfig")

FingerprintMode = Literal["auto", "content", "metadata"]
"""How a stored file is fingerprinted (see :mod:`loopml.pipelines.catalog.location`)."""

_ENV_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DatasetConfig:
    """Base of every dataset configuration: the registered ``type`` name of the dataset.

    Subclasses are frozen, keyword-only dataclasses that give ``type`` a
    default (their own type name) and add their fields.
    """

    type: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class FileDatasetConfig(DatasetConfig):
    """Fields shared by datasets stored at a path or URL.

    Attributes:
        path: a local path (relative to the project folder) or an fsspec URL.
        storage_options: fsspec options for URLs (``endpoint_url``, ``key``, ``anon``...).
        fingerprint: ``auto``, ``content`` (always sha256 the bytes) or ``metadata``
            (size and version marker only), see :mod:`loopml.pipelines.catalog.location`.
    """

    path: str
    storage_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    fingerprint: FingerprintMode = "auto"


def parse_config(cls: type[C], raw: object, *, dataset: str | None = None) -> C:
    """Build the configuration ``cls`` from a raw mapping, checking every field.

    Args:
        cls: a :class:`DatasetConfig` dataclass.
        raw: the mapping read from YAML (or built from keyword arguments).
        dataset: the dataset's name, for error messages.

    Returns:
        The configuration. A YAML list given for a ``tuple`` field becomes a tuple.

    Raises:
        DatasetConfigError: on a missing, unknown or mistyped field (the error names it).
    """
    if not isinstance(raw, Mapping):
        raise DatasetConfigError(
            f"a dataset must be configured by a mapping, not {type(raw).__name__}",
            dataset=dataset,
        )
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    for key in raw:
        if key not in fields:
            hint = difflib.get_close_matches(str(key), list(fields), n=1)
            did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
            known = ", ".join(sorted(fields))
            raise DatasetConfigError(
                f"unknown field {key!r}{did_you_mean}; known fields: {known}",
                dataset=dataset,
                field=str(key),
            )
    values: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in raw:
            if _required(field):
                raise DatasetConfigError(
                    f"missing required field {name!r}", dataset=dataset, field=name
                )
            continue
        values[name] = _checked(raw[name], hints[name], name, dataset)
    return cls(**values)


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _checked(value: Any, hint: Any, field: str, dataset: str | None) -> Any:
    """Return ``value`` (lists made tuples) if it matches ``hint``, else raise naming ``field``."""
    ok, converted = _match(value, hint)
    if not ok:
        raise DatasetConfigError(
            f"field {field!r} must be {_describe(hint)}, not {value!r:.80}",
            dataset=dataset,
            field=field,
        )
    return converted


def _match(value: Any, hint: Any) -> tuple[bool, Any]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return True, value
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            ok, converted = _match(value, arg)
            if ok:
                return True, converted
        return False, value
    if origin is typing.Literal:
        return value in args and isinstance(value, str | bool | int), value
    if hint is type(None):
        return value is None, value
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool), value
    if hint in (str, int, bool):
        return isinstance(value, hint) and (hint is bool or not isinstance(value, bool)), value
    if origin in (Mapping, dict, typing.Mapping):
        return _match_mapping(value, args)
    if origin is tuple:
        return _match_tuple(value, args)
    raise TypeError(f"parse_config does not understand the field type {hint!r}")


def _match_mapping(value: Any, args: tuple[Any, ...]) -> tuple[bool, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        return False, value
    if len(args) == 2 and args[1] is not Any:
        converted = {}
        for key, item in value.items():
            ok, converted[key] = _match(item, args[1])
            if not ok:
                return False, value
        return True, converted
    return True, dict(value)


def _match_tuple(value: Any, args: tuple[Any, ...]) -> tuple[bool, Any]:
    if not isinstance(value, list | tuple):
        return False, value
    item_type = args[0] if args else Any
    items = []
    for item in value:
        ok, converted = _match(item, item_type)
        if not ok:
            return False, value
        items.append(converted)
    return True, tuple(items)


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if hint is type(None):
        return "null"
    if origin in (Mapping, dict, typing.Mapping):
        return "a mapping"
    if origin is tuple:
        return f"a list of {getattr(args[0], '__name__', args[0])}" if args else "a list"
    name = str(getattr(hint, "__name__", hint))
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def interpolate_env(
    value: Any, environ: Mapping[str, str], *, dataset: str | None = None, field: str = ""
) -> Any:
    """Replace ``${NAME}`` and ``${NAME:-default}`` in every string inside ``value``.

    ``$$`` stands for a literal ``$``. Mappings and lists are walked; other
    values are returned as they are.

    Raises:
        DatasetConfigError: if a variable without default is not set.
    """
    if isinstance(value, str):
        return _ENV_VAR.sub(lambda m: _env_value(m, environ, dataset, field), value)
    if isinstance(value, Mapping):
        return {
            k: interpolate_env(v, environ, dataset=dataset, field=field or str(k))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [interpolate_env(v, environ, dataset=dataset, field=field) for v in value]
    return value


def _env_value(
    match: re.Match[str], environ: Mapping[str, str], dataset: str | None, field: str
) -> str:
    if match.group(0) == "$$":
        return "$"
    name, default = match.group(1), match.group(2)
    if name in environ:
        return environ[name]
    if default is not None:
        return default
    raise DatasetConfigError(
        f"field {field!r} uses the environment variable {name} which is not set "
        f"(write ${{{name}:-default}} to give a default)",
        dataset=dataset,
        field=field or None,
    )


def check_options(
    func: Callable[..., Any] | None,
    options: Mapping[str, Any],
    field: str,
    *,
    reserved: Collection[str] = (),
) -> None:
    """Refuse option names that ``func`` does not take, or that the dataset sets itself.

    With ``func`` ``None``, or a function that takes ``**kwargs``, only ``reserved`` is checked.

    Raises:
        DatasetConfigError: naming ``field`` and the first bad option.
    """
    for name in options:
        if name in reserved:
            raise DatasetConfigError(
                f"field {field!r}: option {name!r} is set by the dataset itself", field=field
            )
    if func is None:
        return
    parameters = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    for name in options:
        if name not in parameters:
            hint = difflib.get_close_matches(name, list(parameters), n=1)
            did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise DatasetConfigError(
                f"field {field!r}: {func.__qualname__} takes no option {name!r}{did_you_mean}",
                field=field,
            )
