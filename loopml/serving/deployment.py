"""A deployment: the versions it follows in the registry, hot reload, and its traffic rules.

Each model reference a deployment names (primary, canary, A/B variants,
shadow) is a :class:`Track`. :meth:`Deployment.refresh` (run by a watcher
thread every ``poll_interval`` seconds) resolves every reference; a track
whose alias moved loads the new version in that thread, checks it on its
example input and only then swaps it in with one assignment. A version that
fails to load or answer is remembered and never takes traffic; the old one
keeps serving. The old version's batcher is retired after a grace period, so
requests already holding it finish on it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

from loopml.core.errors import ConfigError
from loopml.serving.errors import ModelNotReadyError
from loopml.serving.served import ServedVersion, load_version
from loopml.serving.spec import DeploymentSpec, ServingOptions

logger = logging.getLogger(__name__)


class Track:
    """Follows one model reference and holds the version serving it.

    Attributes:
        ref: the reference (``NAME@ALIAS``, ``NAME:VERSION``, ``NAME``).
        current: the version taking traffic, or ``None`` before the first load.
        failed: ``(model, version)`` pairs that failed to load or answer.
        last_error: the latest load failure, as text.
    """

    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.current: ServedVersion | None = None
        self.failed: set[tuple[str, int]] = set()
        self.last_error: str | None = None
        self.attempted = False
        self._lock = threading.Lock()

    def refresh(self, registry: Any, options: ServingOptions, on_batch: Any = None) -> bool:
        """Load the version ``ref`` names now, if it changed; return whether it was swapped."""
        with self._lock:  # the watcher and an explicit refresh never load the same version twice
            try:
                return self._refresh(registry, options, on_batch)
            finally:
                self.attempted = True

    def _refresh(self, registry: Any, options: ServingOptions, on_batch: Any) -> bool:
        try:
            wanted = registry.resolve(self.ref)
        except Exception as exc:  # the registry is away or the alias is gone: keep serving
            self.last_error = f"cannot resolve {self.ref}: {exc}"
            logger.warning(self.last_error)
            return False
        current = self.current
        key = (wanted.model, wanted.version)
        if current is not None and (current.model, current.version) == key:
            return False
        if key in self.failed:
            return False
        try:
            served = load_version(registry, wanted, options, on_batch)
        except Exception as exc:
            self.failed.add(key)
            self.last_error = f"{wanted.ref} did not load or answer: {exc}"
            logger.error("%s; %s keeps serving", self.last_error, current)
            return False
        self.current = served  # the swap: one reference assignment
        self.last_error = None
        logger.info("%s now serves %s (was %s)", self.ref, served, current)
        if current is not None:
            current.retire(options.timeout + 1)
        return True


@dataclasses.dataclass(frozen=True)
class Route:
    """Where one request goes: the version answering it, and an optional shadow."""

    served: ServedVersion
    arm: str
    shadow: ServedVersion | None = None


class Deployment:
    """A served name following its model reference(s) in the registry.

    Args:
        spec: what to serve and the traffic rules.
        registry: a :class:`~loopml.registry.ModelRegistry`.
        options: the server's options (batching, timeouts, poll interval).
        seed: seeds the canary/shadow/A-B draws (tests).
        on_batch: metrics hook, ``on_batch(model, version, rows)``.
        feature_store: a :class:`~loopml.features.FeatureStore` for enrichment.

    The constructor does no I/O; :meth:`start` loads and starts following.
    """

    def __init__(
        self,
        spec: DeploymentSpec,
        registry: Any,
        options: ServingOptions | None = None,
        *,
        seed: int | None = None,
        on_batch: Callable[[str, int, int], None] | None = None,
        feature_store: Any = None,
    ) -> None:
        self.spec = spec
        self.registry = registry
        self.options = options or ServingOptions()
        self.on_batch = on_batch
        self.feature_store = feature_store
        self._random = random.Random(seed)
        self._tracks: dict[str, Track] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._set(spec)

    @property
    def name(self) -> str:
        """The name clients use."""
        return self.spec.name

    @property
    def primary(self) -> ServedVersion | None:
        """The version serving the primary reference, if loaded."""
        return self._tracks[self.spec.model].current

    @property
    def ready(self) -> bool:
        """Whether the primary (and every A/B variant) is loaded."""
        refs = list(self.spec.ab.variants.values()) if self.spec.ab else [self.spec.model]
        return all(self._tracks[ref].current is not None for ref in refs)

    def tracks(self) -> dict[str, Track]:
        """Reference -> track, for status pages."""
        return dict(self._tracks)

    def update(self, spec: DeploymentSpec) -> None:
        """Change the traffic rules without restart.

        New references are loaded (and checked) before the rules change, so a
        request never finds a rule pointing at nothing.

        Raises:
            ConfigError: if the new primary (or an A/B variant) does not load; the
                old rules stay.
        """
        fresh = [Track(ref) for ref in spec.references() if ref not in self._tracks]
        for track in fresh:
            track.refresh(self.registry, self.options, self.on_batch)
        needed = list(spec.ab.variants.values()) if spec.ab else [spec.model]
        broken = [t for t in fresh if t.ref in needed and t.current is None]
        if broken:
            for track in fresh:
                if track.current is not None:
                    track.current.close()
            raise ConfigError(f"deployment {spec.name}: {broken[0].last_error}")
        self._set(spec, {t.ref: t for t in fresh})

    def _set(self, spec: DeploymentSpec, fresh: dict[str, Track] | None = None) -> None:
        with self._lock:
            known = {**self._tracks, **(fresh or {})}
            tracks = {ref: known.get(ref) or Track(ref) for ref in spec.references()}
            gone = [t for ref, t in self._tracks.items() if ref not in tracks]
            self._tracks, self.spec = tracks, spec
        for track in gone:
            if track.current is not None:
                track.current.retire(self.options.timeout + 1)
        self._wake.set()

    def refresh(self) -> bool:
        """Look at the registry once; load and swap what moved. Returns whether anything swapped."""
        swapped = False
        for track in list(self._tracks.values()):
            swapped |= track.refresh(self.registry, self.options, self.on_batch)
        return swapped

    def start(self) -> None:
        """Start the watcher thread (it loads at once, then polls)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._watch, name=f"loopml-deploy-{self.name}", daemon=True
            )
            self._thread.start()

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until every track was tried once (or ``timeout``); return :attr:`ready`."""
        deadline = _now() + timeout
        while not self._settled() and _now() < deadline and not self._stop.is_set():
            self._stop.wait(0.02)
        return self.ready

    def _settled(self) -> bool:
        # Loaded, or tried and failed: either way waiting longer only delays startup.
        return all(t.attempted for t in self._tracks.values())

    def close(self) -> None:
        """Stop following and stop every version's batcher (after queued requests)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)
        for track in self._tracks.values():
            if track.current is not None:
                track.current.close()

    def route(self, key: str | None = None) -> Route:
        """Pick the version for one request (A/B by ``key``, else canary by chance).

        Raises:
            ModelNotReadyError: if nothing is loaded yet.
        """
        spec = self.spec
        served, arm = self._pick(spec, key)
        if served is None:
            raise ModelNotReadyError(f"{self.name} is not loaded yet; retry shortly")
        shadow = None
        if spec.shadow and self._random.random() * 100 < spec.shadow.percent:
            shadow = self._tracks[spec.shadow.model].current
        return Route(served, arm, shadow)

    def _pick(self, spec: DeploymentSpec, key: str | None) -> tuple[ServedVersion | None, str]:
        if spec.ab is not None:
            arm = ab_variant(spec.ab.weights, key, self._random)
            return self._tracks[spec.ab.variants[arm]].current, arm
        if spec.canary is not None and self._random.random() * 100 < spec.canary.percent:
            canary = self._tracks[spec.canary.model].current
            if canary is not None:
                return canary, "canary"
        return self._tracks[spec.model].current, "primary"

    def enrich(self, columns: dict[str, Any], rows: int) -> dict[str, Any]:
        """Complete ``columns`` with the feature service's values for their entity keys."""
        features = self.spec.features
        if features is None or not all(k in columns for k in features.entity_keys):
            return columns
        if self.feature_store is None:
            from loopml.features import FeatureStore

            self.feature_store = FeatureStore(workspace=getattr(self.registry, "workspace", None))
        entity_rows = [
            {k: _plain(columns[k][i]) for k in features.entity_keys} for i in range(rows)
        ]
        found = self.feature_store.get_online_features(features.service, entity_rows)
        wanted = set(self.primary.signature.input_names) if self.primary else set(found)
        merged = {k: v for k, v in columns.items() if k in wanted}
        merged.update({k: v for k, v in found.items() if k in wanted and k not in columns})
        return merged

    def _watch(self) -> None:
        interval = self.spec.poll_interval or self.options.poll_interval
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:  # never let the watcher die
                logger.exception("refreshing %s failed", self.name)
            self._wake.wait(interval if self.ready else min(interval, 1.0))
            self._wake.clear()
            interval = self.spec.poll_interval or self.options.poll_interval


def ab_variant(weights: Mapping[str, float], key: str | None, rng: random.Random) -> str:
    """The A/B variant for ``key``: stable for a key (sha256), random without one."""
    names = sorted(weights)
    total = sum(weights[n] for n in names)
    if key is None:
        point = rng.random() * total
    else:
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64 * total
    for name in names:
        point -= weights[name]
        if point < 0:
            return name
    return names[-1]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _now() -> float:
    import time

    return time.monotonic()
