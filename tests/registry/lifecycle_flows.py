"""A small training pipeline that packages, blesses and registers (imported by name by workers)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from loopml.pipelines import pipeline, step
from loopml.registry import steps as reg
from loopml.validation import steps as dv

FEATURES = ["mean radius", "mean texture", "mean smoothness", "mean symmetry"]
POLICY: dict[str, Any] = {"roc_auc": {">=": 0.7, "max_drop": 0.02}, "require_infra_check": False}


@step(outputs=("train", "test"))
def cancer(noise: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The breast cancer set (bundled with scikit-learn); ``noise``: share of random labels."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame[[*FEATURES, "target"]]
    train, test = frame.iloc[::2].reset_index(drop=True), frame.iloc[1::2].reset_index(drop=True)
    rng = np.random.default_rng(0)
    scrambled = rng.random(len(train)) < noise
    train["target"] = np.where(scrambled, rng.integers(0, 2, len(train)), train["target"])
    return train, test


@step
def fit(train: pd.DataFrame) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=500).fit(train[FEATURES], train["target"])


@pipeline
def lifecycle(noise: float = 0.0):
    train, test = cancer(noise=noise)
    package = reg.package_model(fit(train), test, features=FEATURES)
    candidate = dv.evaluate_model(package, test, "target", features=FEATURES)
    production = dv.evaluate_baseline(
        reg.production_model("cancer"), test, "target", features=FEATURES
    )
    blessing = dv.bless_model(candidate, POLICY, baseline=production)
    reg.register_version("cancer", package, blessing)


class Threshold:
    """A hand-written model no safe flavor can store: it needs pickle."""

    def __init__(self, column: str, cut: float) -> None:
        self.column, self.cut = column, cut

    def predict(self, frame: pd.DataFrame) -> Any:
        return (frame[self.column] > self.cut).astype(int).to_numpy()
