"""Small models for the serving tests (imported by name, so pickled ones load back)."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pandas as pd

from loopml.registry import ModelRegistry

IRIS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
ROW = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def iris_frame() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True).frame
    data.columns = [*IRIS, "target"]
    return data


class Switchable:
    """A hand-written regressor that can be made to fail or to sleep after it was saved."""

    explode: ClassVar[bool] = False
    delay: ClassVar[float] = 0.0
    broken: ClassVar[set[str]] = set()

    def __init__(self, tag: str = "", factor: float = 2.0) -> None:
        self.tag, self.factor = tag, factor

    def predict(self, frame: pd.DataFrame) -> Any:
        if Switchable.explode or self.tag in Switchable.broken:
            raise RuntimeError("this version is broken")
        if Switchable.delay:
            time.sleep(Switchable.delay)
        return (frame["x"] * self.factor).to_numpy()


def register_iris(registry: ModelRegistry, *, c: float = 1.0, alias: str = "live") -> int:
    """Fit and register a LogisticRegression on iris; point ``alias`` at it."""
    from sklearn.linear_model import LogisticRegression

    from loopml.models import log_model

    data = iris_frame()
    model = LogisticRegression(C=c, max_iter=500).fit(data[IRIS], data["target"])
    artifact = log_model(model, example=data[IRIS].head(5), workspace=registry.workspace)
    version = registry.register_model("iris", artifact).version
    registry.set_alias("iris", alias, version)
    return version


def register_switchable(
    registry: ModelRegistry,
    *,
    trust: bool = True,
    alias: str = "live",
    tag: str = "",
    factor: float = 2.0,
) -> int:
    """Register the hand-written model (pickle); ``trust=False`` makes it unloadable."""
    import pandas as pd

    from loopml.models import log_model

    example = pd.DataFrame({"x": [1.0, 2.0]})
    artifact = log_model(
        Switchable(tag, factor), example=example, workspace=registry.workspace, allow_pickle=True,
        task="regression",
    )  # fmt: skip
    version = registry.register_model("switch", artifact).version
    if trust:
        registry.trust_pickle("switch", version, "test model")
    registry.set_alias("switch", alias, version)
    return version
