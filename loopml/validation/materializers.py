"""Materializers of the validation objects: statistics, schemas, reports, evaluations and
blessings as JSON; detectors as NPZ.

They are registered when :mod:`loopml.validation` is imported, and declared as
entry points (group ``loopml.materializers``) so a worker process that has not
imported loopml.validation yet can still load them. Loading builds only the
types listed here, never code from the bytes.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from typing import Any

from loopml.artifacts import Materializer, MaterializerError, register_materializer

_JSON_TYPES = {
    "loopml.validation.statistics.DatasetStatistics": "loopml.validation.statistics",
    "loopml.validation.schema.Schema": "loopml.validation.schema",
    "loopml.validation.anomalies.ValidationReport": "loopml.validation.anomalies",
    "loopml.validation.drift_report.DriftReport": "loopml.validation.drift_report",
    "loopml.validation.evaluation.Evaluation": "loopml.validation.evaluation",
    "loopml.validation.blessing.Blessing": "loopml.validation.blessing",
}


def _class(type_name: str, allowed: dict[str, str]) -> Any:
    module = allowed.get(type_name)
    if module is None:
        raise MaterializerError(f"{type_name} is not a loopml validation type")
    return getattr(importlib.import_module(module), type_name.rsplit(".", 1)[1])


class ValidationMaterializer(Materializer):
    """Statistics, schemas, validation and drift reports, evaluations and blessings as JSON."""

    name = "loopml-validation"
    types = tuple(_JSON_TYPES)
    extension = ".json"

    def dump(self, obj: Any) -> bytes:
        text = json.dumps(obj.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8")

    def load(self, data: bytes, type_name: str, *, trusted: Sequence[str] | None = None) -> Any:
        cls = _class(type_name, _JSON_TYPES)
        try:
            return cls.from_dict(json.loads(data))
        except ValueError as exc:
            raise MaterializerError(f"not a stored {type_name}: {exc}") from None


class DetectorMaterializer(Materializer):
    """A fitted :class:`~loopml.validation.drift.DriftDetector` as NumPy ``.npz`` (no pickle)."""

    name = "loopml-drift-detector"
    types = ("loopml.validation.drift.DriftDetector",)
    extension = ".npz"

    def dump(self, obj: Any) -> bytes:
        return bytes(obj.to_bytes())

    def load(self, data: bytes, type_name: str, *, trusted: Sequence[str] | None = None) -> Any:
        cls = _class(type_name, {self.types[0]: "loopml.validation.drift"})
        return cls.from_bytes(data)


def register() -> None:
    """Register both materializers (again: a no-op)."""
    from loopml.artifacts import get_materializer
    from loopml.artifacts.errors import MaterializerNotFoundError

    for materializer in (ValidationMaterializer(), DetectorMaterializer()):
        try:
            get_materializer(materializer.name)
        except MaterializerNotFoundError:
            register_materializer(materializer)
