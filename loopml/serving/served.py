"""One loaded model version, checked on its example input and fed through a micro-batcher."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loopml.models import get_flavor
from loopml.serving.batching import MicroBatcher

if TYPE_CHECKING:
    from loopml.metadata import ModelVersion
    from loopml.models import LoadedModel
    from loopml.serving.spec import ServingOptions

logger = logging.getLogger(__name__)


class ServedVersion:
    """A model version ready to answer: loaded, checked, with its own batcher.

    Attributes:
        model: the registered model's name.
        version: the version number.
        artifact_id: the model package's artifact id.
        loaded: the :class:`~loopml.models.LoadedModel`.
    """

    def __init__(
        self,
        version: ModelVersion,
        loaded: LoadedModel,
        options: ServingOptions,
        on_batch: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.model = version.model
        self.version = version.version
        self.artifact_id = version.artifact_id
        self.loaded = loaded
        self.signature = loaded.signature
        self.classes = list(loaded.manifest.classes or [])
        self.is_classifier = loaded.manifest.task == "classification"
        self._flavor = get_flavor(loaded.flavor)
        report = (
            None if on_batch is None else (lambda rows: on_batch(self.model, self.version, rows))
        )
        self._batcher = MicroBatcher(
            self.run,
            max_batch_size=options.max_batch_size,
            max_wait=options.max_batch_wait_ms / 1000,
            on_batch=report,
            name=f"loopml-batcher-{self.model}-{self.version}",
        )

    def __repr__(self) -> str:
        return f"<ServedVersion {self.model}:{self.version}>"

    def run(self, frame: Any, kind: str = "predict") -> Any:
        """Predict in this thread (``kind``: ``predict`` or ``proba``).

        ``frame`` was built column by column from the signature (``codec.to_frame``),
        so the flavor is called directly: checking it again would cost as much as
        a small model's predict.
        """
        import numpy as np

        loaded = self.loaded
        if kind == "proba":
            raw = self._flavor.predict_proba(loaded.native, frame, loaded.manifest)
            return np.asarray(raw, dtype=float)
        result = np.asarray(self._flavor.predict(loaded.native, frame, loaded.manifest))
        return result.ravel() if result.ndim == 2 and result.shape[1] == 1 else result

    async def predict(self, frame: Any, kind: str = "predict") -> Any:
        """Predict through the micro-batcher (a retired version predicts in a thread)."""
        try:
            return await self._batcher.submit(frame, kind)
        except RuntimeError as exc:
            if "closed" not in str(exc):
                raise
            return await asyncio.to_thread(self.run, frame, kind)

    def check(self) -> None:
        """Answer the package's example input, as a request would, before taking traffic.

        Raises:
            Exception: whatever loading or predicting raised.
        """
        example = self.loaded.example()
        result = self.loaded.predict(example)  # with the signature check, as a request would
        if len(result) != len(example):
            raise ValueError(f"{len(result)} predictions for {len(example)} example rows")
        if self.is_classifier:
            self.loaded.predict_proba(example)

    def retire(self, grace: float) -> None:
        """Stop the batcher after ``grace`` seconds (requests in flight finish first)."""
        timer = threading.Timer(grace, self._batcher.close)
        timer.daemon = True
        timer.start()

    def close(self) -> None:
        """Finish the queued requests and stop the batcher now."""
        self._batcher.close()


def load_version(
    registry: Any,
    version: ModelVersion,
    options: ServingOptions,
    on_batch: Callable[[str, int, int], None] | None = None,
) -> ServedVersion:
    """Load ``version`` from the registry and check it on its example input.

    Raises:
        Exception: if the package does not load or does not answer its example.
    """
    loaded = registry.load_model(version.ref)
    served = ServedVersion(version, loaded, options, on_batch)
    try:
        served.check()
    except BaseException:
        served.close()
        raise
    return served
