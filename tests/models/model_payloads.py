"""Objects the model tests pickle; importable by name in the infra-check child process."""

from __future__ import annotations

import os
import time
from typing import Any


class Trap:
    """Creates a marker folder when unpickled (``__reduce__``) or rebuilt by skops
    (``__setstate__``): if the marker exists, code from the artifact ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (self.marker,))

    def __getstate__(self) -> dict[str, Any]:
        return {"marker": self.marker}

    def __setstate__(self, state: dict[str, Any]) -> None:
        os.mkdir(state["marker"])


class ConstantModel:
    """A model no safe flavor stores: predicts its constant for every row."""

    def __init__(self, value: float = 1.5) -> None:
        self.value = value

    def predict(self, frame: Any) -> Any:
        import numpy as np

        return np.full(len(frame), self.value)


class CrashModel(ConstantModel):
    """Kills its process on predict, as a segfaulting native library would."""

    def predict(self, frame: Any) -> Any:
        os._exit(3)


class SlowModel(ConstantModel):
    def predict(self, frame: Any) -> Any:
        time.sleep(60)
        return super().predict(frame)


class ShortModel(ConstantModel):
    """Predicts fewer rows than it was given (after saving, when ``short`` is set)."""

    short = False

    def predict(self, frame: Any) -> Any:
        out = super().predict(frame)
        return out[:-1] if self.short else out
