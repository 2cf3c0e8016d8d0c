"""Tiny fitted models of every flavor, for the model tests."""

from __future__ import annotations

from typing import Any

import pandas as pd


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
