"""Evaluate a model on a test set: metrics overall and per slice, curves, a confusion matrix.

.. code-block:: python

    from loopml.validation import Slice, evaluate

    result = evaluate(model, march, target="delayed", slices=[
        Slice.by_values("origin"), Slice.by_ranges("distance", [0, 500, 1500, None]),
    ])
    result.metric("roc_auc"), result.metric("roc_auc", slice="origin=JFK")
    Path("evaluation.html").write_text(result.to_html())

``model`` is anything with ``predict`` (and ``predict_proba`` for the
probability metrics): a scikit-learn estimator, or a model loaded by
:func:`loopml.models.load_model`. :class:`Evaluation` holds plain values only
(no NumPy), so reading a stored one is cheap; ``to_dict()`` is JSON-safe.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from loopml.core.errors import InvalidInputError
from loopml.validation.slices import Slice

BINARY = "binary"
MULTICLASS = "multiclass"
REGRESSION = "regression"
TASKS = (BINARY, MULTICLASS, REGRESSION)
OK = "ok"
INSUFFICIENT_DATA = "insufficient_data"


@dataclasses.dataclass(frozen=True)
class SliceMetrics:
    """The metrics of one group of a slice.

    Attributes:
        slice: the slice's name (``"origin"``).
        value: the group's label (``"JFK"``, ``"[0, 500)"``); None for a ``where`` slice.
        rows: rows in the group.
        status: ``"ok"``, or ``"insufficient_data"`` below the evaluation's ``min_rows``
            (metrics are still given where they can be computed; blessing skips the group).
        metrics: the same metrics as overall; None where undefined.
        notes: metric -> why it is None (or how it was computed on these rows).
    """

    slice: str
    value: str | None
    rows: int
    status: str
    metrics: dict[str, float | None]
    notes: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def key(self) -> str:
        """``slice=value``, or the slice's name for a ``where`` slice."""
        return self.slice if self.value is None else f"{self.slice}={self.value}"

    def to_dict(self) -> dict[str, Any]:
        """The group as JSON-safe plain values."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SliceMetrics:
        """The inverse of :meth:`to_dict`."""
        return cls(**_known(cls, data))


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """How a model did on a test set: metrics overall and per slice, curves, confusion matrix.

    Attributes:
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        target: the target column.
        rows: rows evaluated.
        metrics: classification: accuracy, precision, recall, f1 (macro for
            multiclass), roc_auc, log_loss, brier, ece, positive_rate (binary);
            regression: rmse, mae, r2, mape. None where undefined.
        notes: metric -> why it is None, or a remark on how it was computed.
        slices: one :class:`SliceMetrics` per group of every slice, in order.
        name: what was evaluated (a model name or version), for reports.
        classes: the class labels, in the order of the model's probabilities.
        positive_label: the positive class (binary).
        curves: ``roc`` (``fpr``, ``tpr``), ``pr`` (``recall``, ``precision``),
            ``calibration`` (``predicted``, ``observed``, ``rows`` per bin).
        confusion: rows by true class, columns by predicted class (``classes``' order).
        slice_definitions: the slices, as :meth:`Slice.to_dict` gives them.
        min_rows: groups with fewer rows are ``insufficient_data``.
        data_fingerprint: a hash of the evaluated rows (None if not hashable):
            equal fingerprints mean two evaluations saw the same data.
    """

    task: str
    target: str
    rows: int
    metrics: dict[str, float | None]
    notes: dict[str, str] = dataclasses.field(default_factory=dict)
    slices: tuple[SliceMetrics, ...] = ()
    name: str | None = None
    classes: tuple[str, ...] = ()
    positive_label: str | None = None
    curves: dict[str, dict[str, list[float]]] = dataclasses.field(default_factory=dict)
    confusion: tuple[tuple[int, ...], ...] = ()
    slice_definitions: tuple[dict[str, Any], ...] = ()
    min_rows: int = 30
    data_fingerprint: str | None = None

    def metric(self, name: str, slice: str | tuple[str, str | None] | None = None) -> float | None:
        """A metric overall, or of one slice group (``"origin=JFK"`` or ``("origin", "JFK")``).

        Returns:
            The value, or None if it is undefined on those rows (see ``notes``).

        Raises:
            KeyError: if the metric is not one of this evaluation's, or the group is unknown.
        """
        if name not in self.metrics:
            raise KeyError(f"no metric {name!r}; this evaluation has {', '.join(self.metrics)}")
        if slice is None:
            return self.metrics[name]
        return self.group(slice).metrics.get(name)

    def group(self, slice: str | tuple[str, str | None]) -> SliceMetrics:
        """The slice group ``"slice=value"`` (or ``(slice, value)``; a ``where`` slice: its name).

        Raises:
            KeyError: if there is none.
        """
        key = slice if isinstance(slice, str) else SliceMetrics(slice[0], slice[1], 0, OK, {}).key
        for group in self.slices:
            if group.key == key:
                return group
        known = ", ".join(g.key for g in self.slices) or "none"
        raise KeyError(f"no slice group {key!r} (groups: {known})")

    def summary(self) -> dict[str, Any]:
        """Name, task, target, rows and overall metrics: what a blessing keeps of a baseline."""
        return {
            "name": self.name,
            "task": self.task,
            "target": self.target,
            "rows": self.rows,
            "metrics": dict(self.metrics),
            "data_fingerprint": self.data_fingerprint,
        }

    def to_dict(self) -> dict[str, Any]:
        """The evaluation as JSON-safe plain values."""
        data = dataclasses.asdict(self)
        data["slices"] = [group.to_dict() for group in self.slices]
        data["classes"] = list(self.classes)
        data["confusion"] = [list(row) for row in self.confusion]
        data["slice_definitions"] = [dict(d) for d in self.slice_definitions]
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (NaN and infinities never appear)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        """The inverse of :meth:`to_dict`.

        Raises:
            ValueError: if ``data`` is not an evaluation's dict.
        """
        try:
            values = _known(cls, data)
            values["slices"] = tuple(SliceMetrics.from_dict(s) for s in data.get("slices", ()))
            values["classes"] = tuple(values.get("classes", ()))
            values["confusion"] = tuple(tuple(row) for row in values.get("confusion", ()))
            values["slice_definitions"] = tuple(values.get("slice_definitions", ()))
            evaluation = cls(**values)
        except (TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"not an evaluation: {exc}") from None
        if evaluation.task not in TASKS:
            raise ValueError(f"not an evaluation: unknown task {evaluation.task!r}")
        return evaluation

    def to_html(self, *, title: str | None = None) -> str:
        """A self-contained HTML page: metrics, slices, ROC/PR/calibration curves, confusion."""
        from loopml.validation.model_reports import evaluation_html

        return evaluation_html(self, title=title)


def _known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    fields = {field.name for field in dataclasses.fields(cls)}
    return {key: value for key, value in data.items() if key in fields}


def evaluate(
    model: Any,
    data: Any,
    *,
    target: str,
    task: str | None = None,
    slices: Sequence[Slice | Mapping[str, Any]] | None = None,
    name: str | None = None,
    features: Sequence[str] | None = None,
    min_rows: int = 30,
    positive_label: Any = None,
) -> Evaluation:
    """Evaluate ``model`` on ``data``, overall and per slice.

    Args:
        model: has ``predict``; ``predict_proba`` too for the probability metrics
            of a classifier (its columns in the order of ``model.classes_``, or of
            the frame's columns if it returns a frame, else of the sorted labels).
        data: a pandas DataFrame with the features and the target.
        target: the target column (no missing value).
        task: ``"binary"``, ``"multiclass"``, ``"classification"`` (either) or
            ``"regression"``; None: classification if the target holds labels
            (booleans, strings, categories) or the model has ``classes_``.
        slices: :class:`Slice` objects or their dicts; slice columns may be any
            column of ``data``, model features or not.
        name: what is evaluated, for reports.
        features: the columns given to the model (default: all but the target).
        min_rows: slice groups with fewer rows are marked ``insufficient_data``.
        positive_label: the positive class of a binary task (default: the second class).

    Returns:
        The :class:`Evaluation`.

    Raises:
        InvalidInputError: if the data, target or task is wrong, the model predicts
            NaN or a label it does not know, or a slice cannot be computed.
    """
    from loopml.validation import _scoring

    frame = _checked_frame(data, target)
    chosen = [Slice.from_dict(s) if isinstance(s, Mapping) else s for s in (slices or ())]
    scored = _scoring.score(model, frame, target, task, features, positive_label)
    groups = [
        _scoring.group_metrics(scored, piece.name, label, mask, min_rows)
        for piece in chosen
        for label, mask in piece.groups(frame)
    ]
    return Evaluation(
        task=scored.task,
        target=target,
        rows=len(frame),
        metrics=scored.metrics,
        notes=scored.notes,
        slices=tuple(groups),
        name=name,
        classes=scored.labels,
        positive_label=scored.positive_label,
        curves=scored.curves(),
        confusion=scored.confusion(),
        slice_definitions=tuple(piece.to_dict() for piece in chosen),
        min_rows=min_rows,
        data_fingerprint=_scoring.fingerprint(frame),
    )


def _checked_frame(data: Any, target: str) -> Any:
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise InvalidInputError(f"evaluate takes a pandas DataFrame, not {type(data).__name__}")
    if target not in data.columns:
        raise InvalidInputError(
            f"no target column {target!r} (columns: {', '.join(map(str, data.columns))})"
        )
    if len(data) == 0:
        raise InvalidInputError("no rows to evaluate")
    missing = int(data[target].isna().sum())
    if missing:
        raise InvalidInputError(
            f"the target {target!r} is missing in {missing:,} of {len(data):,} rows: "
            "drop or fill them before evaluating"
        )
    return data.reset_index(drop=True)
