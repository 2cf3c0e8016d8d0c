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

from model_kit import fit  # noqa: E402


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


@pytest.fixture(scope="session")
def classifiers(iris: tuple[pd.DataFrame, pd.Series]) -> dict[str, Any]:
    X, y = iris
    kinds = ("sklearn", "xgboost", "xgboost-booster", "lightgbm", "lightgbm-booster", "onnx")
    return {kind: fit(kind, X, y) for kind in kinds}
