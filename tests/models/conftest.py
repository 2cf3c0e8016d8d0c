"""Model fixtures: tiny fitted models of every flavor on scikit-learn's bundled datasets."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = str(Path(__file__).parent)
# The infra-check child process unpickles model_payloads' classes by name.
if HERE not in sys.path:
    sys.path.insert(0, HERE)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [HERE, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != HERE]]
)


def _iris() -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = [c.replace(" (cm)", "").replace(" ", "_") for c in X.columns]
    return X, y


@pytest.fixture(scope="session")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    return _iris()


@pytest.fixture(scope="session")
def diabetes() -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X, y


def fit(kind: str, X: pd.DataFrame, y: pd.Series) -> Any:
    """A small fitted classifier of ``kind`` (a flavor name, or a variant of one)."""
    if kind == "sklearn":
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    if kind in {"xgboost", "xgboost-booster"}:
        import xgboost

        model = xgboost.XGBClassifier(n_estimators=4, max_depth=2, nthread=1).fit(X, y)
        return model.get_booster() if kind == "xgboost-booster" else model
    if kind in {"lightgbm", "lightgbm-booster"}:
        import lightgbm

        model = lightgbm.LGBMClassifier(n_estimators=4, num_leaves=4, n_jobs=1, verbose=-1)
        model.fit(X, y)
        return model.booster_ if kind == "lightgbm-booster" else model
    if kind == "onnx":
        from skl2onnx import to_onnx
        from sklearn.linear_model import LogisticRegression

        values = X.to_numpy(dtype="float32")
        lr = LogisticRegression(max_iter=500).fit(values, y)
        return to_onnx(lr, values[:1], options={"zipmap": False}, target_opset=17)
    raise ValueError(kind)


@pytest.fixture(scope="session")
def classifiers(iris: tuple[pd.DataFrame, pd.Series]) -> dict[str, Any]:
    X, y = iris
    kinds = ("sklearn", "xgboost", "xgboost-booster", "lightgbm", "lightgbm-booster", "onnx")
    return {kind: fit(kind, X, y) for kind in kinds}
