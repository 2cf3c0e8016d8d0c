"""Model metrics and curves over NumPy arrays, with scikit-learn where it has them.

Classification works on class *indices* (the columns of ``predict_proba``):
``y`` and ``predicted`` are integer arrays, ``proba`` is ``(rows, classes)`` or
None. A metric that cannot be computed on the rows given (one class only, no
rows, no probabilities) is None, and ``notes[metric]`` says why: a slice
never raises. Every value is a finite float or None (JSON has no NaN).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

CLASSIFICATION_METRICS = (
    "accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier",
    "ece", "positive_rate",
)  # fmt: skip
REGRESSION_METRICS = ("rmse", "mae", "r2", "mape")
HIGHER_IS_BETTER = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "r2"})
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "rmse", "mae", "mape"})
CALIBRATION_BINS = 10
MAX_CURVE_POINTS = 200

Metrics = dict[str, float | None]
Notes = dict[str, str]


def finite(value: Any) -> float | None:
    """``value`` as a float, or None if it is None, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` with scikit-learn's warnings silenced: undefined cases are guarded here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def classification_metrics(
    y: Any, predicted: Any, proba: Any | None, classes: int, positive: int | None
) -> tuple[Metrics, Notes]:
    """The classification metrics of some rows.

    Args:
        y: true class indices.
        predicted: predicted class indices.
        proba: ``(rows, classes)`` probabilities, or None if the model gives none.
        classes: the number of classes.
        positive: the positive class index (binary), None for multiclass (macro averages).

    Returns:
        ``(metrics, notes)``: every name of :data:`CLASSIFICATION_METRICS`.
    """
    metrics: Metrics = dict.fromkeys(CLASSIFICATION_METRICS)
    notes: Notes = {}
    if len(y) == 0:
        return metrics, dict.fromkeys(CLASSIFICATION_METRICS, "no rows")
    metrics["accuracy"] = finite((y == predicted).mean())
    if positive is None:
        metrics.update(_macro_scores(y, predicted))
        notes["positive_rate"] = "multiclass: no positive class"
    else:
        _binary_scores(y == positive, predicted == positive, metrics, notes)
    if proba is None:
        for name in ("roc_auc", "log_loss", "brier", "ece"):
            notes[name] = "the model gives no probabilities (predict_proba)"
        return metrics, notes
    metrics["roc_auc"], auc_note = _roc_auc(y, proba, classes, positive)
    if auc_note:
        notes["roc_auc"] = auc_note
    metrics["log_loss"] = _log_loss(y, proba, classes)
    metrics["brier"] = _brier(y, proba, positive)
    confidence, correct = _calibration_inputs(y, proba, positive)
    metrics["ece"] = expected_calibration_error(confidence, correct)
    return metrics, notes


def _binary_scores(actual: Any, said: Any, metrics: Metrics, notes: Notes) -> None:
    true_pos = float((actual & said).sum())
    predicted_pos, actual_pos = float(said.sum()), float(actual.sum())
    metrics["positive_rate"] = finite(said.mean())
    if predicted_pos:
        metrics["precision"] = true_pos / predicted_pos
    else:
        notes["precision"] = "no row predicted positive"
    if actual_pos:
        metrics["recall"] = true_pos / actual_pos
    else:
        notes["recall"] = "no positive row in the target"
    if predicted_pos + actual_pos:
        metrics["f1"] = 2 * true_pos / (predicted_pos + actual_pos)
    else:
        notes["f1"] = "no positive row, predicted or actual"


def _macro_scores(y: Any, predicted: Any) -> Metrics:
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, f1, _ = _quiet(
        precision_recall_fscore_support, y, predicted, average="macro", zero_division=0
    )
    return {"precision": finite(precision), "recall": finite(recall), "f1": finite(f1)}


def _roc_auc(y: Any, proba: Any, classes: int, positive: int | None) -> tuple[float | None, str]:
    from sklearn.metrics import roc_auc_score

    if positive is not None:
        actual = y == positive
        if actual.all() or not actual.any():
            return None, "only one class in the target"
        return finite(_quiet(roc_auc_score, actual, proba[:, positive])), ""
    scores = []
    for index in range(classes):
        actual = y == index
        if actual.any() and not actual.all():
            scores.append(_quiet(roc_auc_score, actual, proba[:, index]))
    if not scores:
        return None, "only one class in the target"
    note = "" if len(scores) == classes else f"one-vs-rest over the {len(scores)} classes present"
    return finite(sum(scores) / len(scores)), note


def _log_loss(y: Any, proba: Any, classes: int) -> float | None:
    from sklearn.metrics import log_loss

    return finite(_quiet(log_loss, y, proba, labels=list(range(classes))))


def _brier(y: Any, proba: Any, positive: int | None) -> float | None:
    import numpy as np

    if positive is not None:
        return finite(np.mean((proba[:, positive] - (y == positive)) ** 2))
    onehot = np.eye(proba.shape[1])[y]
    return finite(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def _calibration_inputs(y: Any, proba: Any, positive: int | None) -> tuple[Any, Any]:
    """Binary: P(positive) and is-positive; multiclass: top-label confidence and is-right."""
    if positive is not None:
        return proba[:, positive], y == positive
    return proba.max(axis=1), proba.argmax(axis=1) == y


def calibration_bins(confidence: Any, outcome: Any) -> dict[str, list[float]]:
    """Per non-empty equal-width bin of ``[0, 1]``: mean predicted, observed share, rows."""
    import numpy as np

    bins = np.clip((confidence * CALIBRATION_BINS).astype(int), 0, CALIBRATION_BINS - 1)
    counts = np.bincount(bins, minlength=CALIBRATION_BINS)
    predicted = np.bincount(bins, weights=confidence, minlength=CALIBRATION_BINS)
    observed = np.bincount(bins, weights=outcome.astype(float), minlength=CALIBRATION_BINS)
    filled = counts > 0
    return {
        "predicted": (predicted[filled] / counts[filled]).tolist(),
        "observed": (observed[filled] / counts[filled]).tolist(),
        "rows": counts[filled].astype(float).tolist(),
    }


def expected_calibration_error(confidence: Any, outcome: Any) -> float | None:
    """Sum over 10 bins of |mean predicted - observed share| weighted by the bin's rows."""
    if len(confidence) == 0:
        return None
    table = calibration_bins(confidence, outcome)
    gaps = zip(table["predicted"], table["observed"], table["rows"], strict=True)
    return finite(sum(abs(p - o) * n for p, o, n in gaps) / len(confidence))


def regression_metrics(y: Any, predicted: Any) -> tuple[Metrics, Notes]:
    """RMSE, MAE, R2 and MAPE (rows whose target is 0 left out of MAPE)."""
    import numpy as np
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    metrics: Metrics = dict.fromkeys(REGRESSION_METRICS)
    if len(y) == 0:
        return metrics, dict.fromkeys(REGRESSION_METRICS, "no rows")
    notes: Notes = {}
    metrics["rmse"] = finite(root_mean_squared_error(y, predicted))
    metrics["mae"] = finite(mean_absolute_error(y, predicted))
    if len(y) < 2:
        notes["r2"] = "needs at least 2 rows"
    elif np.all(y == y[0]):
        notes["r2"] = "the target is constant"
    else:
        metrics["r2"] = finite(r2_score(y, predicted))
    nonzero = y != 0
    if not nonzero.any():
        notes["mape"] = "every target is 0"
    else:
        errors = np.abs(y[nonzero] - predicted[nonzero]) / np.abs(y[nonzero])
        metrics["mape"] = finite(errors.mean())
        if not nonzero.all():
            notes["mape"] = f"{int((~nonzero).sum()):,} rows whose target is 0 left out"
    return metrics, notes


def classification_curves(y: Any, proba: Any, positive: int | None) -> dict[str, Any]:
    """ROC and precision-recall points (at most 200 each) and calibration bins.

    Binary: of the positive class. Multiclass: ROC and PR micro-averaged over
    one-vs-rest, calibration of the top label. A curve that needs both classes
    is left out when the rows have one.
    """
    import numpy as np
    from sklearn.metrics import precision_recall_curve, roc_curve

    if positive is not None:
        actual, score = y == positive, proba[:, positive]
    else:
        actual, score = (np.eye(proba.shape[1])[y] == 1).ravel(), proba.ravel()
    curves: dict[str, Any] = {}
    if actual.any() and not actual.all():
        fpr, tpr, _ = roc_curve(actual, score)
        precision, recall, _ = precision_recall_curve(actual, score)
        curves["roc"] = dict(zip(("fpr", "tpr"), downsample(fpr, tpr), strict=True))
        curves["pr"] = dict(
            zip(("recall", "precision"), downsample(recall, precision), strict=True)
        )
    curves["calibration"] = calibration_bins(*_calibration_inputs(y, proba, positive))
    return curves


def downsample(*arrays: Any, limit: int = MAX_CURVE_POINTS) -> list[list[float]]:
    """The same evenly spaced points of each array (first and last kept), as lists."""
    import numpy as np

    size = len(arrays[0])
    keep = np.unique(np.linspace(0, size - 1, min(size, limit)).round().astype(int))
    return [[float(v) for v in np.asarray(array)[keep]] for array in arrays]


def confusion(y: Any, predicted: Any, classes: int) -> list[list[int]]:
    """Counts of (true class, predicted class), rows by true class."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y, predicted, labels=list(range(classes)))
    return [[int(v) for v in row] for row in matrix]
