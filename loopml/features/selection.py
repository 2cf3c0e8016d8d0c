"""Which features a request asks for: a service, or references, resolved against definitions.

Historical and online retrieval share this step, so both return the same
columns in the same order. Inputs of on-demand views that were not asked for
are fetched too and dropped once the views are computed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from loopml.features.definitions import (
    Definitions,
    FeatureService,
    FeatureView,
    OnDemandFeatureView,
)
from loopml.features.errors import FeatureDefinitionError

Features = str | FeatureService | Sequence[str]
"""A service (by name or object), one feature reference, or a list of references."""


@dataclasses.dataclass(frozen=True)
class ViewPart:
    """The features read from one feature view, and the columns they come out as."""

    view: FeatureView
    join_keys: tuple[str, ...]
    features: tuple[str, ...]
    columns: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class OnDemandPart:
    """One on-demand view: its input columns (by feature name) and its output columns."""

    view: OnDemandFeatureView
    inputs: dict[str, str]  # feature name the function sees -> column of the result
    features: tuple[str, ...]
    columns: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Selection:
    """A resolved request: the parts to fetch and the output columns, in order."""

    views: tuple[ViewPart, ...]
    on_demand: tuple[OnDemandPart, ...]
    columns: tuple[str, ...]
    hidden: tuple[str, ...]  # fetched only as inputs of on-demand views

    @property
    def join_keys(self) -> tuple[str, ...]:
        """Every join key the request needs, each once."""
        return tuple(dict.fromkeys(k for part in self.views for k in part.join_keys))


def references(definitions: Definitions, features: Features) -> tuple[str, ...]:
    """The feature references a request names (a service's, or the ones given)."""
    if isinstance(features, FeatureService):
        return features.features
    if isinstance(features, str):
        if features in {s.name for s in definitions.services}:
            return definitions.service(features).features
        return (features,)
    refs = tuple(features)
    if not refs or not all(isinstance(r, str) for r in refs):
        raise FeatureDefinitionError("ask for a feature service or a list of 'view:feature'")
    return refs


def select(definitions: Definitions, features: Features, *, full_names: bool = False) -> Selection:
    """Resolve a request against ``definitions``.

    Raises:
        FeatureNotFoundError: for an unknown service, view or feature.
        FeatureDefinitionError: if two features would come out under one column name.
    """
    wanted: dict[str, list[str]] = {}
    for ref in references(definitions, features):
        for view, feature in definitions.expand(ref):
            names = wanted.setdefault(view, [])
            if feature not in names:
                names.append(feature)
    hidden: dict[str, list[str]] = {}
    for name in list(wanted):
        requested = definitions.view(name)
        if isinstance(requested, OnDemandFeatureView):
            for ref in requested.inputs:
                for source, feature in definitions.expand(ref):
                    if feature not in wanted.get(source, []):
                        hidden.setdefault(source, []).append(feature)
    return _build(definitions, wanted, hidden, full_names)


def _build(
    definitions: Definitions,
    wanted: dict[str, list[str]],
    hidden: dict[str, list[str]],
    full_names: bool,
) -> Selection:
    def column(view: str, feature: str) -> str:
        return f"{view}__{feature}" if full_names else feature

    views, on_demand, columns, hidden_columns = [], [], [], []
    for name in dict.fromkeys([*wanted, *hidden]):
        view = definitions.view(name)
        shown = wanted.get(name, [])
        extra = [f for f in dict.fromkeys(hidden.get(name, [])) if f not in shown]
        names = (*shown, *extra)
        columns += [column(name, f) for f in shown]
        hidden_columns += [column(name, f) for f in extra]
        if isinstance(view, FeatureView):
            cols = tuple(column(name, f) for f in names)
            views.append(ViewPart(view, definitions.join_keys(view), names, cols))
        else:
            inputs = {
                feature: column(source, feature)
                for ref in view.inputs
                for source, feature in definitions.expand(ref)
            }
            cols = tuple(column(name, f) for f in names)
            on_demand.append(OnDemandPart(view, inputs, names, cols))
    _check_unique([*columns, *hidden_columns])
    return Selection(tuple(views), tuple(on_demand), tuple(columns), tuple(hidden_columns))


def _check_unique(columns: list[str]) -> None:
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise FeatureDefinitionError(
                f"two feature views both give a feature {name!r}: "
                "ask with full_names=True to get 'view__feature' columns"
            )
        seen.add(name)
