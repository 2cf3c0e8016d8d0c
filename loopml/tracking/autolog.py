"""scikit-learn autologging: every ``fit`` records its params, training metrics and model.

``loopml.autolog()`` wraps the ``fit`` method of every scikit-learn estimator
class. Only the outermost ``fit`` logs (a ``Pipeline`` fitting its steps logs
once). Without an active run, a run is started for the fit and ended after it.
The fitted model is stored with skops (never pickle) as the run's ``model``
output, and the training data as its ``training_data`` input, so lineage
answers which data made the model.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from loopml.tracking import runs

logger = logging.getLogger(__name__)

_state = threading.local()
_patched: dict[type, Callable[..., Any]] = {}
_options: dict[str, Any] = {"log_models": True, "log_datasets": True, "experiment": None}
_MAX_PARAM_LENGTH = 500


def autolog(
    *,
    log_models: bool = True,
    log_datasets: bool = True,
    experiment: str | None = None,
    disable: bool = False,
) -> None:
    """Turn scikit-learn autologging on (or off with ``disable=True``).

    Args:
        log_models: store each fitted estimator as the run's ``model`` artifact.
        log_datasets: store the training data as the run's ``training_data`` input.
        experiment: the experiment of runs started for a fit (the default one if omitted).
        disable: restore the original ``fit`` methods.
    """
    if disable:
        for cls, original in _patched.items():
            _restore(cls, original)
        _patched.clear()
        return
    _options.update(log_models=log_models, log_datasets=log_datasets, experiment=experiment)
    from sklearn.utils import all_estimators

    for _name, cls in all_estimators():
        fit = getattr(cls, "fit", None)
        if fit is None or cls in _patched or getattr(fit, "__loopml_autolog__", False):
            continue
        # Inherited fits are wrapped too (HistGradientBoosting*, forests): the
        # wrapper lands on the class itself and is removed again by disable.
        _patched[cls] = cls.__dict__.get("fit", _INHERITED)
        cls.fit = _wrap(fit)


_INHERITED = object()


def _restore(cls: type, original: Any) -> None:
    if original is _INHERITED:
        delattr(cls, "fit")
    else:
        cls.fit = original  # type: ignore[attr-defined]


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_state, "depth", 0) > 0:
            return original(self, *args, **kwargs)
        _state.depth = 1
        try:
            return _logged_fit(original, self, args, kwargs)
        finally:
            _state.depth = 0

    fit.__loopml_autolog__ = True  # type: ignore[attr-defined]
    return fit


def _training_data(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return X, y


def _logged_fit(
    original: Callable[..., Any], estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    run = runs.active_run()
    own_run = run is None
    if run is None:
        run = runs.start_run(_options["experiment"], name=type(estimator).__name__)
    try:
        started = time.perf_counter()
        result = original(estimator, *args, **kwargs)
        seconds = time.perf_counter() - started
        X, y = _training_data(args, kwargs)
        _log_fit(run, estimator, X, y, seconds)
    except BaseException:
        if own_run:
            run.__exit__(*sys.exc_info())
        raise
    if own_run:
        run.end()
    return result


def _log_fit(run: runs.ActiveRun, estimator: Any, X: Any, y: Any, seconds: float) -> None:
    params = {k: _short(v) for k, v in estimator.get_params(deep=True).items()}
    try:
        run.log_params(params)
    except Exception as exc:  # a second fit in one run with other params
        logger.warning("autolog kept the first params of run %s: %s", run.id, exc)
    run.set_tags({"estimator_class": f"{type(estimator).__module__}.{type(estimator).__name__}"})
    metrics = {"training_seconds": seconds, **training_metrics(estimator, X, y)}
    run.log_metrics(metrics)
    if _options["log_datasets"]:
        _log_dataset(run, X, y)
    if _options["log_models"]:
        run.log_object(estimator, "model")


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _MAX_PARAM_LENGTH else text[: _MAX_PARAM_LENGTH - 3] + "..."


def training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    """Metrics of a fitted estimator on its own training data, by its kind."""
    if y is None:
        return {}
    from sklearn.base import is_classifier, is_regressor

    try:
        if is_classifier(estimator):
            return _classifier_metrics(estimator, X, y)
        if is_regressor(estimator):
            return _regressor_metrics(estimator, X, y)
    except Exception as exc:  # metrics are a courtesy; a failing one must not fail the fit
        logger.warning("autolog could not compute training metrics: %s", exc)
    return {}


def _classifier_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    import numpy as np
    from sklearn import metrics

    predicted = estimator.predict(X)
    binary = len(np.unique(y)) == 2
    average = "binary" if binary else "weighted"
    scores = {
        "training_accuracy": metrics.accuracy_score(y, predicted),
        "training_precision": metrics.precision_score(
            y, predicted, average=average, zero_division=0
        ),
        "training_recall": metrics.recall_score(y, predicted, average=average, zero_division=0),
        "training_f1": metrics.f1_score(y, predicted, average=average, zero_division=0),
    }
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        scores["training_log_loss"] = metrics.log_loss(y, proba, labels=estimator.classes_)
        if binary:
            scores["training_roc_auc"] = metrics.roc_auc_score(y, proba[:, 1])
    return {k: float(v) for k, v in scores.items()}


def _regressor_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    from sklearn import metrics

    predicted = estimator.predict(X)
    mse = metrics.mean_squared_error(y, predicted)
    return {
        "training_mse": float(mse),
        "training_rmse": float(mse**0.5),
        "training_mae": float(metrics.mean_absolute_error(y, predicted)),
        "training_r2": float(metrics.r2_score(y, predicted)),
    }


def _log_dataset(run: runs.ActiveRun, X: Any, y: Any) -> None:
    import numpy as np
    import pandas as pd

    try:
        frame = X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        frame.columns = [str(c) for c in frame.columns]
        if y is not None:
            name = "__target__" if "__target__" not in frame.columns else "__target_y__"
            frame[name] = np.asarray(y)
        run.log_input(frame, "training_data")
    except Exception as exc:
        logger.warning("autolog could not store the training data: %s", exc)
