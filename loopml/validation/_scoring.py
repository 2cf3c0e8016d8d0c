"""Run a model over a test frame once; turn labels into class indices; metrics of any rows.

The predictions are made once for the whole frame; slices reuse them through
boolean masks. Bad output of the model (NaN, labels it does not know, a
probability matrix of the wrong shape) is refused here with a message that
says what came back.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

from loopml.core.errors import InvalidInputError
from loopml.validation import metrics as m
from loopml.validation.evaluation import (
    BINARY,
    INSUFFICIENT_DATA,
    MULTICLASS,
    OK,
    REGRESSION,
    SliceMetrics,
)

TASK_NAMES = (BINARY, MULTICLASS, REGRESSION, "classification")


@dataclasses.dataclass
class Scored:
    """The model's output on the whole frame, ready for metrics of any subset of rows."""

    task: str
    y: Any
    predicted: Any
    proba: Any | None = None
    labels: tuple[str, ...] = ()
    positive: int | None = None
    metrics: dict[str, float | None] = dataclasses.field(default_factory=dict)
    notes: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def positive_label(self) -> str | None:
        return None if self.positive is None else self.labels[self.positive]

    def measure(self, mask: Any | None = None) -> tuple[dict[str, float | None], dict[str, str]]:
        """The metrics of the rows in ``mask`` (all rows if None)."""
        y = self.y if mask is None else self.y[mask]
        predicted = self.predicted if mask is None else self.predicted[mask]
        if self.task == REGRESSION:
            return m.regression_metrics(y, predicted)
        proba = self.proba if mask is None or self.proba is None else self.proba[mask]
        return m.classification_metrics(y, predicted, proba, len(self.labels), self.positive)

    def curves(self) -> dict[str, dict[str, list[float]]]:
        if self.task == REGRESSION or self.proba is None:
            return {}
        return m.classification_curves(self.y, self.proba, self.positive)

    def confusion(self) -> tuple[tuple[int, ...], ...]:
        if self.task == REGRESSION:
            return ()
        return tuple(map(tuple, m.confusion(self.y, self.predicted, len(self.labels))))


def score(
    model: Any,
    frame: Any,
    target: str,
    task: str | None,
    features: Sequence[str] | None,
    positive_label: Any,
) -> Scored:
    """Predict once and compute the overall metrics."""
    import numpy as np

    if task is not None and task not in TASK_NAMES:
        raise InvalidInputError(f"task {task!r} is not one of {', '.join(TASK_NAMES)}")
    X = _features(frame, target, features)
    y = frame[target]
    kind = task or _infer_task(model, y)
    predicted = _one_column(_call(model, "predict", X), len(frame), "predict")
    if kind == REGRESSION:
        values = _numbers(predicted, "predict")
        scored = Scored(REGRESSION, np.asarray(y, dtype="float64"), values)
    else:
        scored = _classification(model, X, y, predicted, kind, positive_label)
    scored.metrics, scored.notes = scored.measure()
    return scored


def group_metrics(
    scored: Scored, slice_name: str, label: str | None, mask: Any, min_rows: int
) -> SliceMetrics:
    """The metrics of one slice group."""
    rows = int(mask.sum())
    metrics, notes = scored.measure(mask)
    status = OK if rows >= min_rows else INSUFFICIENT_DATA
    return SliceMetrics(slice_name, label, rows, status, metrics, notes)


def fingerprint(frame: Any) -> str | None:
    """A hash of the frame's values and column names; None if pandas cannot hash them."""
    import pandas as pd

    try:
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    except TypeError:
        return None
    digest = hashlib.sha256(hashed.tobytes())
    digest.update("\0".join(map(str, frame.columns)).encode())
    return digest.hexdigest()[:32]


def _features(frame: Any, target: str, features: Sequence[str] | None) -> Any:
    if features is None:
        return frame.drop(columns=[target])
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"feature columns not in the data: {', '.join(missing)}")
    return frame[list(features)]


def _declared_classes(model: Any) -> Any | None:
    """The classes in ``predict_proba``'s column order: ``classes_`` or a package's manifest."""
    known = getattr(model, "classes_", None)
    if known is None:
        known = getattr(getattr(model, "manifest", None), "classes", None)
    return known


def _infer_task(model: Any, y: Any) -> str:
    import pandas as pd

    declared = getattr(getattr(model, "manifest", None), "task", None)
    if declared in ("classification", REGRESSION):
        return str(declared)
    dtype = y.dtype
    labels = (
        pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )
    if labels or _declared_classes(model) is not None:
        return "classification"
    if pd.api.types.is_integer_dtype(dtype) and callable(getattr(model, "predict_proba", None)):
        return "classification"
    return REGRESSION


def _call(model: Any, method: str, X: Any) -> Any:
    fn = getattr(model, method, None)
    if not callable(fn):
        raise InvalidInputError(f"the model has no {method}() ({type(model).__name__})")
    return fn(X)


def _one_column(output: Any, rows: int, method: str) -> Any:
    import numpy as np

    values = np.asarray(output)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or len(values) != rows:
        raise InvalidInputError(
            f"{method}() returned shape {values.shape} for {rows:,} rows; expected ({rows},)"
        )
    return values


def _numbers(values: Any, method: str) -> Any:
    import numpy as np

    try:
        numbers = np.asarray(values, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{method}() returned values that are not numbers: {exc}") from None
    bad = ~np.isfinite(numbers)
    if bad.any():
        raise InvalidInputError(
            f"{method}() returned NaN or infinite values for {int(bad.sum()):,} of "
            f"{bad.size:,} values (first at row {int(np.argwhere(bad)[0][0])}): "
            "a model must predict every row"
        )
    return numbers


def _classification(
    model: Any, X: Any, y: Any, predicted: Any, task: str, positive_label: Any
) -> Scored:
    _refuse_missing(predicted)
    proba, columns = _probabilities(model, X, len(X))
    classes = _classes(model, columns, y, predicted, proba)
    y_index = _indices(classes, y.to_numpy(), "the target")
    predicted_index = _indices(classes, predicted, "predict()")
    labels = tuple(str(c) for c in classes)
    if task == "classification":
        task = BINARY if len(labels) == 2 else MULTICLASS
    if task == BINARY and len(labels) != 2:
        raise InvalidInputError(f"a binary task needs 2 classes, the model has {len(labels)}")
    positive = None
    if task == BINARY:
        chosen = 1 if positive_label is None else _indices(classes, [positive_label], "positive")[0]
        positive = int(chosen)
    return Scored(task, y_index, predicted_index, proba, labels, positive)


def _probabilities(model: Any, X: Any, rows: int) -> tuple[Any | None, list[Any] | None]:
    import numpy as np
    import pandas as pd

    if not callable(getattr(model, "predict_proba", None)):
        return None, None
    output = model.predict_proba(X)
    columns = list(output.columns) if isinstance(output, pd.DataFrame) else None
    proba = _numbers(np.asarray(output), "predict_proba")
    if proba.ndim != 2 or proba.shape[0] != rows:
        raise InvalidInputError(
            f"predict_proba() returned shape {proba.shape} for {rows:,} rows; "
            "expected (rows, classes)"
        )
    return proba, columns


def _classes(
    model: Any, columns: list[Any] | None, y: Any, predicted: Any, proba: Any
) -> list[Any]:
    import numpy as np
    import pandas as pd

    known = _declared_classes(model)
    if known is not None:
        classes = list(np.asarray(known, dtype=object))
    elif columns is not None:
        classes = columns
    else:
        seen = pd.unique(np.concatenate([y.to_numpy(dtype=object), predicted.astype(object)]))
        classes = sorted(seen, key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise InvalidInputError(
            f"a classifier needs at least 2 classes; found {classes}: pass classes_ on the model"
        )
    if proba is not None and proba.shape[1] != len(classes):
        raise InvalidInputError(
            f"predict_proba() gives {proba.shape[1]} columns for {len(classes)} classes "
            f"({', '.join(map(str, classes[:10]))})"
        )
    return classes


def _refuse_missing(predicted: Any) -> None:
    import pandas as pd

    missing = pd.isna(pd.Series(predicted))
    if missing.any():
        raise InvalidInputError(
            f"predict() returned no label (NaN or None) for {int(missing.sum()):,} of "
            f"{len(predicted):,} rows: a model must predict every row"
        )


def _indices(classes: list[Any], values: Any, what: str) -> Any:
    """Class indices of ``values``, matching by value, then by text ("1" is the class 1)."""
    import numpy as np
    import pandas as pd

    values = np.asarray(values, dtype=object)
    found = pd.Index(classes, dtype=object).get_indexer(values)
    if (found < 0).any():
        as_text = pd.Index([str(c) for c in classes]).get_indexer([str(v) for v in values])
        found = np.where(found < 0, as_text, found)
    if (found < 0).any():
        unknown = sorted({str(v) for v in values[found < 0]})
        raise InvalidInputError(
            f"{what} has labels the model does not know: {', '.join(unknown[:10])} "
            f"(its classes: {', '.join(map(str, classes[:10]))})"
        )
    return found.astype("int64")
