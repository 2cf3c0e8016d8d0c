"""Definitions to and from plain dicts: the stored form, and what a YAML file holds.

.. code-block:: yaml

    entities:
      - {name: airport, join_keys: [origin]}
    views:
      - name: weather
        entities: [airport]
        source: {path: weather.csv, timestamp: time_hour, options: {nullstr: NA}}
        ttl: 3h
        features: {temp: float64, humid: float64, wind_speed: float64}
    on_demand:
      - name: comfort
        inputs: [weather:temp, weather:humid]
        features: {heat_index: float64}
        function: my_features:heat_index
    services:
      - {name: delay_model, features: [weather, comfort]}

``features`` is a mapping of name to type, or a list of ``{name, dtype}``;
``ttl`` is seconds or text such as ``90m``, ``3h``, ``2d``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loopml.features.definitions import (
    Definitions,
    Entity,
    Feature,
    FeatureService,
    FeatureView,
    FileSource,
    OnDemandFeatureView,
    Source,
    SqlSource,
)
from loopml.features.errors import FeatureDefinitionError

FORMAT_VERSION = 1


def definitions_to_dict(definitions: Definitions) -> dict[str, Any]:
    """The JSON-able form of ``definitions`` (keys in a stable order)."""
    return {
        "format_version": FORMAT_VERSION,
        "entities": [
            {"name": e.name, "join_keys": list(e.join_keys), "description": e.description}
            for e in definitions.entities
        ],
        "views": [_view_to_dict(v) for v in definitions.views],
        "on_demand": [
            {
                "name": o.name,
                "inputs": list(o.inputs),
                "features": _features_to_list(o.features),
                "function": str(o.function),
            }
            for o in definitions.on_demand
        ],
        "services": [
            {"name": s.name, "features": list(s.features), "description": s.description}
            for s in definitions.services
        ],
    }


def _view_to_dict(view: FeatureView) -> dict[str, Any]:
    return {
        "name": view.name,
        "entities": list(view.entities),
        "features": _features_to_list(view.features),
        "source": source_to_dict(view.source),
        "ttl": None if view.ttl is None else view.ttl.total_seconds(),
        "online": view.online,
        "description": view.description,
    }


def _features_to_list(features: tuple[Feature, ...]) -> list[dict[str, str]]:
    return [{"name": f.name, "dtype": f.dtype} for f in features]


def source_to_dict(source: Source) -> dict[str, Any]:
    """The JSON-able form of a source."""
    if isinstance(source, FileSource):
        return {
            "path": source.path,
            "format": source.format,
            "timestamp": source.timestamp,
            "created_timestamp": source.created_timestamp,
            "options": dict(source.options),
            "storage_options": dict(source.storage_options),
        }
    return {
        "query": source.query,
        "timestamp": source.timestamp,
        "created_timestamp": source.created_timestamp,
    }


def definitions_from_dict(data: Mapping[str, Any]) -> Definitions:
    """Build and check definitions from their dict form (stored, or read from YAML).

    Raises:
        FeatureDefinitionError: if a field is missing, unknown or malformed.
    """
    if not isinstance(data, Mapping):
        raise FeatureDefinitionError("feature definitions are a mapping of lists")
    unknown = set(data) - {"format_version", "entities", "views", "on_demand", "services"}
    if unknown:
        raise FeatureDefinitionError(f"unknown section(s) {sorted(unknown)} in feature definitions")
    return Definitions(
        entities=tuple(_build(Entity, item, "entity") for item in _list(data, "entities")),
        views=tuple(_view_from_dict(item) for item in _list(data, "views")),
        on_demand=tuple(_on_demand_from_dict(item) for item in _list(data, "on_demand")),
        services=tuple(_build(FeatureService, item, "service") for item in _list(data, "services")),
    )


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise FeatureDefinitionError(f"{key!r} must be a list")
    return value


def _build(cls: Any, item: Any, what: str) -> Any:
    if not isinstance(item, Mapping):
        raise FeatureDefinitionError(f"each {what} is a mapping, not {item!r}")
    try:
        return cls(**item)
    except TypeError as exc:
        raise FeatureDefinitionError(f"{what} {item.get('name', '?')!r}: {exc}") from exc


def _features(value: Any, owner: str) -> tuple[Feature, ...]:
    if isinstance(value, Mapping):
        return tuple(Feature(str(name), str(dtype)) for name, dtype in value.items())
    if isinstance(value, list):
        return tuple(_build(Feature, item, f"feature of {owner!r}") for item in value)
    raise FeatureDefinitionError(f"{owner!r}: features are a mapping of name to dtype, or a list")


def _view_from_dict(item: Any) -> FeatureView:
    if not isinstance(item, Mapping) or "source" not in item:
        raise FeatureDefinitionError(f"a feature view is a mapping with a source, not {item!r}")
    fields = dict(item)
    name = str(fields.get("name", "?"))
    fields["features"] = _features(fields.get("features"), name)
    fields["source"] = source_from_dict(fields["source"], name)
    return _build(FeatureView, fields, "feature view")  # type: ignore[no-any-return]


def _on_demand_from_dict(item: Any) -> OnDemandFeatureView:
    if not isinstance(item, Mapping):
        raise FeatureDefinitionError(f"an on-demand view is a mapping, not {item!r}")
    fields = dict(item)
    fields["features"] = _features(fields.get("features"), str(fields.get("name", "?")))
    return _build(OnDemandFeatureView, fields, "on-demand view")  # type: ignore[no-any-return]


def source_from_dict(item: Any, view: str) -> Source:
    """A source from its dict form (``query`` makes an SQL source, ``path`` a file source)."""
    if not isinstance(item, Mapping):
        raise FeatureDefinitionError(f"feature view {view!r}: source is a mapping")
    cls = SqlSource if "query" in item else FileSource
    return _build(cls, item, f"source of {view!r}")  # type: ignore[no-any-return]
