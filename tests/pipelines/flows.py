"""Pipelines used by the pipeline tests; importable by worker processes (see conftest)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from loopml.pipelines import StepRejectedError, current_step, dataset, pipeline, save, step

CALLS_FILE = "LOOPML_TEST_CALLS"


def _count(name: str) -> None:
    """Append a step's name to the file named by LOOPML_TEST_CALLS (counts real runs)."""
    path = os.environ.get(CALLS_FILE)
    if path:
        with open(path, "a") as out:
            out.write(name + "\n")


def calls(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


@step
def make_data(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    _count("make_data")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.3, size=rows) > 0).astype(int)
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["label"] = y
    return frame


@step(outputs=("train", "test"))
def split(data: pd.DataFrame, test_fraction: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame]:
    _count("split")
    cut = int(len(data) * (1 - test_fraction))
    return data.iloc[:cut].reset_index(drop=True), data.iloc[cut:].reset_index(drop=True)


def _scale(frame: pd.DataFrame) -> pd.DataFrame:
    features = frame.drop(columns=["label"])
    return (features - features.mean()) / features.std()


@step
def featurize(data: pd.DataFrame) -> pd.DataFrame:
    _count("featurize")
    scaled = _scale(data)
    scaled["label"] = data["label"].to_numpy()
    return scaled


@step
def train(data: pd.DataFrame, c: float = 1.0) -> object:
    _count("train")
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c).fit(data.drop(columns=["label"]), data["label"])


@step
def evaluate(model: object, data: pd.DataFrame) -> dict:
    _count("evaluate")
    from sklearn.metrics import accuracy_score

    predicted = model.predict(data.drop(columns=["label"]))  # type: ignore[attr-defined]
    return {"accuracy": float(accuracy_score(data["label"], predicted))}


@pipeline
def training(rows: int = 200, c: float = 1.0):
    data = make_data(rows=rows)
    train_rows, test_rows = split(data)
    model = train(featurize(train_rows), c=c)
    evaluate(model, featurize(test_rows))


@step
def slow_square(x: int, seconds: float = 0.0) -> int:
    _count(f"slow_square:{x}")
    time.sleep(seconds)
    return x * x


@step
def total(a: int, b: int) -> int:
    return a + b


@pipeline
def fan(seconds: float = 0.0):
    total(slow_square(x=2, seconds=seconds), slow_square(x=3, seconds=seconds))


@pipeline
def hanging(seconds: float = 600):
    total(slow_square(x=2), slow_square(x=3, seconds=seconds))


FLAKY_FILE = "LOOPML_TEST_FLAKY"


@step(retries=2, retry_delay=0.01)
def flaky(x: int = 1) -> int:
    """Fails until the file named by LOOPML_TEST_FLAKY holds 2 lines."""
    path = Path(os.environ[FLAKY_FILE])
    seen = path.read_text().count("\n") if path.exists() else 0
    with open(path, "a") as out:
        out.write("try\n")
    if seen < 2:
        raise RuntimeError(f"flaky failure {seen + 1}")
    return x


@pipeline
def flaky_pipeline():
    total(flaky(), slow_square(x=1))


@step
def boom(x: int) -> int:
    raise ValueError("the step blew up")


@pipeline
def failing():
    data = slow_square(x=4)
    total(boom(data), data)


@step(retries=2, retry_delay=0.01)
def gate(x: int) -> int:
    """Rejects odd numbers with a report as evidence (a rejection is never retried)."""
    _count("gate")
    if x % 2:
        raise StepRejectedError(f"{x} is odd", evidence={"report": {"value": x, "odd": True}})
    return x


@pipeline
def gated(x: int = 3):
    total(gate(slow_square(x=x)), 1)


@step
def introspect(data: int, label: str = "x") -> dict:
    """Tells what current_step() says inside a step."""
    context = current_step()
    return {
        "run_id": context.run_id,
        "step": context.step,
        "attempt": context.attempt,
        "execution_id": context.execution_id,
        "inputs": dict(context.inputs),
        "metadata_uri": context.settings.metadata_uri,
    }


@step
def side_output(data: int) -> int:
    """Stores an extra artifact and records it as its own output, as package_model does."""
    context = current_step()
    workspace = context.workspace()
    extra = workspace.save({"doubled": data * 2})
    assert context.execution_id is not None
    workspace.record_events(context.execution_id, outputs={"extra": extra.id})
    _count("side_output")
    return data + 1


@pipeline
def with_side_output():
    side_output(slow_square(x=3))


@pipeline
def introspecting(timeout: float = 0.0):
    step_ = introspect.with_options(timeout=timeout) if timeout else introspect
    step_(slow_square(x=2))


@step
def optional(value: str = "") -> int | None:
    """Returns None for "", the length of anything else, or a str for "bad" (a wrong type)."""
    if value == "bad":
        return value  # type: ignore[return-value]
    return len(value) or None


@pipeline
def optional_pipeline(value: str = ""):
    optional(value=value)


@step
def wrong_type() -> int:
    return "not an int"  # type: ignore[return-value]


@pipeline
def wrong():
    wrong_type()


@step
def kill_me_once(x: int, marker: str) -> int:
    """Kills its own process the first time: the file ``marker`` remembers it happened.

    The path is a parameter, not an environment variable: pooled workers outlive tests.
    """
    path = Path(marker)
    if not path.exists():
        path.write_text("killed\n")
        os.kill(os.getpid(), 9)
    return x + 1


@pipeline
def crashing(marker: str):
    total(kill_me_once(slow_square(x=3), marker=marker), slow_square(x=5))


@step
def row_count(data: pd.DataFrame) -> int:
    return len(data)


@step
def double(data: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([data, data], ignore_index=True)


@pipeline
def catalog_flow():
    raw = dataset("numbers")
    save(double(raw), "doubled")
    row_count(raw)


@pipeline
def features(data: object):
    return featurize(data)


@pipeline
def composed():
    train_rows, test_rows = split(make_data())
    train(features(train_rows))
    features(test_rows)


@step(timeout=0.5)
def sleepy(seconds: float = 5.0) -> int:
    time.sleep(seconds)
    return 1


@pipeline
def too_slow():
    sleepy()


@step
def text_one() -> str:
    return "1"


@step
def int_one() -> int:
    return 1


@step
def double_it(value: object) -> object:
    return value * 2  # type: ignore[operator]


@pipeline
def same_bytes():
    """Text "1" and JSON 1 are the same bytes; they must stay two artifacts."""
    double_it(text_one())
    double_it(int_one())


def _pair() -> tuple[int, str]:
    return 1, "a"


# A step made inline, not by decorating: its outputs must survive the trip to a worker.
pair = step(_pair, outputs=("n", "s"), retries=1)


@pipeline
def inline_pair():
    pair()


@step
def declare_dead(x: int = 1) -> int:
    """Marks its own run failed from 'another process', as a stale check would."""
    from loopml.core import Settings
    from loopml.pipelines import fail_stale_runs
    from loopml.workspace import Workspace

    other = Workspace(Settings.load(os.environ["LOOPML_TEST_PROJECT"]))
    fail_stale_runs(other, older_than=0)
    other.close()
    return x


@pipeline
def fenced():
    total(declare_dead(), slow_square(x=1))
