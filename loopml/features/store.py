"""The :class:`FeatureStore`: one project's definitions, offline sources and online store.

It is a thin front over the modules that do the work (offline retrieval,
materialization, online lookup, push, the applied versions) and the one
place that records what they did in the metadata store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopml.features.config import FeaturesConfig
from loopml.features.definitions import Definitions, FeatureService, FeatureView
from loopml.features.errors import FeatureInputError, FeatureNotFoundError
from loopml.features.lookup import EntityRows, OnlineLookup
from loopml.features.materialize import MaterializeResult, materialize_view
from loopml.features.online import OnlineStore, online_store_from_uri
from loopml.features.push import PushTarget
from loopml.features.repository import AppliedVersion
from loopml.features.selection import Features, select


class FeatureStore:
    """Definitions + offline sources + online store, for one project.

    Args:
        definitions: the definitions to use; by default the repository's applied version.
        workspace: the project's workspace (``get_workspace()`` if omitted).
        online_store: an :class:`OnlineStore`, a URI or a ``type`` mapping; by default
            ``features.online_store`` of ``loopml.yaml`` (SQLite under ``.loopml``).

    The constructor does no I/O.
    """

    def __init__(
        self,
        definitions: Definitions | None = None,
        *,
        workspace: Any = None,
        online_store: OnlineStore | str | Mapping[str, Any] | None = None,
    ) -> None:
        self._definitions = definitions
        self._workspace = workspace
        self._online_spec = online_store
        self._online: OnlineStore | None = (
            online_store if isinstance(online_store, OnlineStore) else None
        )
        self._version: AppliedVersion | None = None
        self._lookups: dict[Any, OnlineLookup] = {}

    # --- what it is made of -------------------------------------------------------

    @property
    def workspace(self) -> Any:
        """The workspace recording what the store does."""
        if self._workspace is None:
            from loopml.workspace import get_workspace

            self._workspace = get_workspace()
        return self._workspace

    @property
    def config(self) -> FeaturesConfig:
        """The ``features:`` section of the project's settings."""
        return FeaturesConfig.from_settings(self.workspace.settings)

    @property
    def base_dir(self) -> Path:
        """The folder relative source paths are taken from: the project folder."""
        return Path(self.workspace.settings.project_dir)

    @property
    def definitions(self) -> Definitions:
        """The definitions in use (the applied version's, loaded once, unless given)."""
        if self._definitions is None:
            from loopml.features.repository import load_current

            self._definitions, self._version = load_current(self.workspace, self.config.repository)
        return self._definitions

    @property
    def online_store(self) -> OnlineStore:
        """The online store (built on first use)."""
        if self._online is None:
            spec = self._online_spec
            if spec is None or isinstance(spec, OnlineStore):
                spec = self.config.online_store
            self._online = online_store_from_uri(spec, base_dir=self.base_dir)
        return self._online

    def close(self) -> None:
        """Close the online store's connections."""
        if self._online is not None:
            self._online.close()

    def __enter__(self) -> FeatureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- definitions ----------------------------------------------------------------

    def apply(
        self, definitions: Definitions | None = None, *, force: bool = False
    ) -> AppliedVersion:
        """Record ``definitions`` (or the ones this store was given) as the current version.

        Raises:
            FeatureConflictError: for a breaking change, unless ``force``.
        """
        from loopml.features.repository import apply

        chosen = definitions or self._definitions
        if chosen is None:
            raise FeatureNotFoundError("no definitions to apply")
        self._version = apply(
            self.workspace, chosen, repository=self.config.repository, force=force
        )
        self._definitions = chosen
        self._lookups.clear()
        return self._version

    def feature_view(self, name: str) -> FeatureView:
        """The (offline-backed) feature view ``name``."""
        view = self.definitions.view(name)
        if not isinstance(view, FeatureView):
            raise FeatureInputError(f"{name!r} is an on-demand view, not a feature view")
        return view

    # --- offline ----------------------------------------------------------------------

    def get_historical_features(
        self,
        entity_df: Any,
        features: Features,
        *,
        timestamp_column: str = "event_timestamp",
        full_names: bool = False,
        record: bool = False,
    ) -> Any:
        """Point-in-time correct features for each entity row (see :mod:`loopml.features.offline`).

        Args:
            entity_df: pandas DataFrame of join keys and ``timestamp_column``.
            features: a feature service (name or object) or a list of ``view:feature``.
            timestamp_column: the entity frame's timestamp column.
            full_names: name the columns ``view__feature``.
            record: save the result as an artifact and record a ``features_retrieval``
                execution that consumed the definitions and the source versions.
        """
        from loopml.features.offline import get_historical_features

        result = get_historical_features(
            self.definitions,
            entity_df,
            features,
            timestamp_column=timestamp_column,
            full_names=full_names,
            base_dir=self.base_dir,
        )
        if record:
            self.record_retrieval(result, features)
        return result

    def record_retrieval(self, result: Any, features: Features) -> str:
        """Record that ``result`` was built from the definitions and sources of ``features``."""
        from loopml.features import lineage

        selection = select(self.definitions, features)
        views = [part.view for part in selection.views]
        inputs = {"definitions": lineage.definitions_artifact(self.workspace, self.definitions)}
        inputs.update(lineage.source_versions(self.workspace, views, self.base_dir))
        artifact = self.workspace.save(result, properties={"kind": "training_set"})
        name = features if isinstance(features, str) else getattr(features, "name", "features")
        return lineage.record(
            self.workspace,
            lineage.RETRIEVAL_TYPE,
            str(name),
            inputs=inputs,
            outputs={"training_set": artifact.id},
            params={"features": ",".join(sorted({v.name for v in views}))},
            metrics={"rows": float(len(result))},
        )

    # --- online ------------------------------------------------------------------------

    def get_online_features(
        self, features: Features, entity_rows: EntityRows, *, full_names: bool = False
    ) -> dict[str, list[Any]]:
        """The latest values of ``features`` for each entity row, as columns (see ``lookup``)."""
        key = (_request_key(features), full_names)
        lookup = self._lookups.get(key)
        if lookup is None:
            lookup = OnlineLookup(
                select(self.definitions, features, full_names=full_names), self.online_store
            )
            self._lookups[key] = lookup
        return lookup(entity_rows)

    def push(self, view: str, rows: Any, *, to: PushTarget = "online") -> int:
        """Write fresh rows of ``view`` (see :mod:`loopml.features.push`).

        Raises:
            FeatureInputError: naming the view and the column, before anything is written.
        """
        from loopml.features.push import push

        store = None if to == "offline" else self.online_store
        return push(
            self.definitions, self.feature_view(view), rows, store, to=to, base_dir=self.base_dir
        )

    def materialize(
        self,
        views: Sequence[str] | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        incremental: bool = False,
    ) -> list[MaterializeResult]:
        """Copy the latest values with event times in ``(since, until]`` to the online store.

        Args:
            views: names of views (default: every view with ``online=True``).
            since: start of the window (exclusive); ``None`` for the beginning.
            until: end of the window (inclusive); default now.
            incremental: start each view where its last materialization ended
                (``since`` wins when both are given).
        """
        from loopml.features import lineage

        end = until or datetime.now(UTC)
        chosen = (
            [self.feature_view(n) for n in views]
            if views
            else [v for v in self.definitions.views if v.online]
        )
        results = []
        definitions_id = lineage.definitions_artifact(self.workspace, self.definitions)
        for view in chosen:
            start = since if since is not None or not incremental else self._last_end(view.name)
            done = materialize_view(
                self.definitions,
                view,
                self.online_store,
                start=start,
                end=end,
                base_dir=self.base_dir,
            )
            inputs = {"definitions": definitions_id}
            inputs.update(lineage.source_versions(self.workspace, [view], self.base_dir))
            execution = lineage.record(
                self.workspace,
                lineage.MATERIALIZE_TYPE,
                view.name,
                inputs=inputs,
                params={"view": view.name, "start": _iso(start), "end": _iso(end)},
                properties={"view": view.name, "start": _iso(start), "end": _iso(end)},
                metrics={"rows": float(done.rows), "written": float(done.written)},
            )
            results.append(
                MaterializeResult(view.name, start, end, done.rows, done.written, execution)
            )
        return results

    def _last_end(self, view: str) -> datetime | None:
        from loopml.features.lineage import MATERIALIZE_TYPE
        from loopml.metadata import ExecutionStatus

        for execution in self.workspace.metadata.list_executions(
            type=MATERIALIZE_TYPE, status=ExecutionStatus.COMPLETED, limit=None
        ):
            if execution.properties.get("view") == view and execution.properties.get("end"):
                return datetime.fromisoformat(str(execution.properties["end"]))
        return None


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _request_key(features: Features) -> Any:
    if isinstance(features, FeatureService):
        return ("service", features.name, features.features)
    return features if isinstance(features, str) else tuple(features)
