"""The tracking workload, identical for every system: sizes, data and the search filter.

Standard library only: the MLflow peer imports it from its own virtualenv.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

SEED = 20240611
PARAM_KEY = "p"
PARAM_MATCH = "x"
METRIC_KEY = "m"
METRIC_BELOW = 0.5
FILTER = f"metrics.{METRIC_KEY} < {METRIC_BELOW} and params.{PARAM_KEY} = '{PARAM_MATCH}'"


@dataclass(frozen=True)
class Sizes:
    """How much work each operation does."""

    params: int = 100
    points: int = 10_000  # metric points of one run, one call per point
    batch_keys: int = 100  # log_metrics: this many keys per call, points // batch_keys steps
    runs: int = 1_000  # runs to search over
    run_params: int = 10  # params of each searched run (one is PARAM_KEY)
    run_metrics: int = 5  # metric keys of each searched run (one is METRIC_KEY)
    run_steps: int = 10  # points per metric key of each searched run
    repeat: int = 3
    import_repeat: int = 5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Sizes()
QUICK = Sizes(points=2_000, batch_keys=20, runs=200, repeat=3, import_repeat=3)


def params_of_run(sizes: Sizes) -> dict[str, str]:
    """The params of the one benchmarked run."""
    return {f"param_{i:03d}": f"value-{i}" for i in range(sizes.params)}


def metric_points(points: int) -> Iterator[tuple[int, float]]:
    """(step, value) of the single-series run: a loss going down."""
    for step in range(points):
        yield step, 1.0 / (1.0 + step)


def batch_steps(sizes: Sizes) -> Iterator[tuple[int, dict[str, float]]]:
    """(step, {key: value}) of the batched run: ``batch_keys`` keys per step."""
    keys = [f"metric_{k:03d}" for k in range(sizes.batch_keys)]
    for step in range(sizes.points // sizes.batch_keys):
        yield step, {key: (step + k) / sizes.points for k, key in enumerate(keys)}


@dataclass(frozen=True)
class SearchRun:
    """One run of the search corpus."""

    index: int
    params: dict[str, str]
    metrics: list[tuple[str, float, int]]  # (key, value, step)

    @property
    def matches(self) -> bool:
        latest = {key: value for key, value, _ in sorted(self.metrics, key=lambda m: m[2])}
        return latest[METRIC_KEY] < METRIC_BELOW and self.params[PARAM_KEY] == PARAM_MATCH


def search_corpus(sizes: Sizes) -> list[SearchRun]:
    """The runs to search over; about a quarter match :data:`FILTER`."""
    rng = random.Random(SEED)
    runs = []
    for index in range(sizes.runs):
        params = {PARAM_KEY: rng.choice((PARAM_MATCH, "y"))}
        params.update({f"p{j}": str(rng.randint(0, 9)) for j in range(1, sizes.run_params)})
        keys = [METRIC_KEY, *(f"m{j}" for j in range(1, sizes.run_metrics))]
        metrics = [(key, rng.random(), step) for step in range(sizes.run_steps) for key in keys]
        runs.append(SearchRun(index, params, metrics))
    return runs


def expected_matches(sizes: Sizes) -> int:
    """How many runs of the corpus a correct search returns."""
    return sum(run.matches for run in search_corpus(sizes))


# --- timing ---------------------------------------------------------------------


def timed(function: Callable[[], Any]) -> float:
    """Seconds ``function`` took."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def import_time(python: str, module: str, env: dict[str, str] | None = None) -> float:
    """Seconds ``import module`` takes in a fresh interpreter (measured inside it)."""
    code = (
        "import time; t = time.perf_counter(); import "
        + module
        + "; print(time.perf_counter() - t)"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def command_time(command: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of a command; raises CalledProcessError if it fails."""
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, env=env, check=True)
    return time.perf_counter() - start
