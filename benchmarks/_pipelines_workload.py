"""The pipelines workload, identical for every system: sizes and the step functions.

Plain functions, no loopml: ``pipelines.py`` makes them loopml steps, the Kedro
peer makes them Kedro nodes, and the limit calls them directly. Standard
library, NumPy and pandas only, so the Kedro peer imports this module from its
own virtualenv, and worker processes (spawned by loopml's process pool or
Kedro's ParallelRunner) import it by name: keep ``benchmarks/`` on their path.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

SEED = 20240611
CHAIN_START = 0


@dataclass(frozen=True)
class Sizes:
    """How much work each pipeline does."""

    chain_steps: int = 100  # trivial steps in a chain, int -> int + 1
    frame_rows: int = 1_000_000  # rows of the DataFrame pipeline
    frame_steps: int = 20  # steps of the DataFrame pipeline (make_frame included)
    cpu_steps: int = 8  # independent CPU-bound steps
    cpu_seconds: float = 0.5  # target seconds of one CPU-bound step (loops calibrated to it)
    cpu_loops: int = 0  # loop count of one CPU-bound step; 0 until calibrated
    workers: int = 2  # process pool size for the independent steps
    repeat: int = 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Sizes()
QUICK = Sizes(
    chain_steps=50, frame_rows=200_000, frame_steps=20, cpu_steps=4, cpu_seconds=0.25, repeat=2
)


# --- (a) the chain of trivial steps -------------------------------------------


def inc(x: int) -> int:
    """One trivial step: nothing to do but be orchestrated."""
    return x + 1


def chain_expected(sizes: Sizes) -> int:
    return CHAIN_START + sizes.chain_steps


# --- (b) the DataFrame pipeline -----------------------------------------------


def make_frame(rows: int, seed: int) -> pd.DataFrame:
    """The source: ids, a group key and three float columns."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "group": rng.integers(0, 1_000, rows, dtype=np.int32),
            "a": rng.normal(size=rows),
            "b": rng.normal(size=rows),
            "c": rng.exponential(size=rows),
        }
    )


def add_sum(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(ab=frame["a"] + frame["b"])


def add_ratio(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(ratio=frame["a"] / (frame["b"].abs() + 1.0))


def add_log_c(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(log_c=np.log1p(frame["c"]))


def clip_a(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(a=frame["a"].clip(-3.0, 3.0))


def zscore_c(frame: pd.DataFrame) -> pd.DataFrame:
    c = frame["c"]
    return frame.assign(z_c=(c - c.mean()) / c.std())


def drop_outliers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["z_c"].abs() < 4.0].reset_index(drop=True)


def add_flag(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(flag=((frame["a"] > 0) & (frame["b"] < 0)).astype("int8"))


def group_mean_b(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(group_mean_b=frame.groupby("group")["b"].transform("mean"))


def center_b(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(b_centered=frame["b"] - frame["group_mean_b"])


def rank_c(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(rank_c=frame["c"].rank(pct=True))


def group_size(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(group_size=frame.groupby("group")["id"].transform("size").astype("int32"))


def smooth_a(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(a_smooth=frame["a"].rolling(10, min_periods=1).mean())


def add_bucket(frame: pd.DataFrame) -> pd.DataFrame:
    bucket = np.floor(frame["rank_c"] * 10).clip(0, 9).astype("int8")
    return frame.assign(bucket=bucket)


def drop_temporary(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["ratio", "z_c"])


def add_interaction(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(ac=frame["a"] * frame["c"])


def drop_low_bucket(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["bucket"] != 0].reset_index(drop=True)


def scale_ab(frame: pd.DataFrame) -> pd.DataFrame:
    ab = frame["ab"]
    return frame.assign(ab=(ab - ab.mean()) / ab.std())


def to_float32(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({"log_c": "float32", "a_smooth": "float32"})


def sort_by_group(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["group", "id"]).reset_index(drop=True)


FRAME_STEPS: tuple[Callable[[pd.DataFrame], pd.DataFrame], ...] = (
    add_sum,
    add_ratio,
    add_log_c,
    clip_a,
    zscore_c,
    drop_outliers,
    add_flag,
    group_mean_b,
    center_b,
    rank_c,
    group_size,
    smooth_a,
    add_bucket,
    drop_temporary,
    add_interaction,
    drop_low_bucket,
    scale_ab,
    to_float32,
    sort_by_group,
)
"""The steps after ``make_frame``, in order; each takes the previous one's output."""


def frame_steps(sizes: Sizes) -> tuple[Callable[[pd.DataFrame], pd.DataFrame], ...]:
    """The ``frame_steps - 1`` transformations after ``make_frame``."""
    count = sizes.frame_steps - 1
    if not 1 <= count <= len(FRAME_STEPS):
        raise ValueError(f"frame_steps must be between 2 and {len(FRAME_STEPS) + 1}")
    return FRAME_STEPS[:count]


def frame_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """What a correct run ends with: shape, columns and each column's sum."""
    return {
        "rows": len(frame),
        "columns": list(frame.columns),
        "sums": {str(name): float(frame[name].sum()) for name in frame.columns},
    }


def same_summary(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Equal shape and columns, and sums equal to 1e-9 (relative)."""
    if got["rows"] != expected["rows"] or got["columns"] != expected["columns"]:
        return False
    return all(
        math.isclose(got["sums"][k], v, rel_tol=1e-9, abs_tol=1e-6)
        for k, v in expected["sums"].items()
    )


def run_frame_plainly(sizes: Sizes) -> pd.DataFrame:
    """The limit: the same functions as plain calls."""
    frame = make_frame(sizes.frame_rows, SEED)
    for function in frame_steps(sizes):
        frame = function(frame)
    return frame


# --- (c) independent CPU-bound steps -----------------------------------------------


def burn(seed: int, loops: int) -> int:
    """Pure-Python CPU work (holds the GIL): ``loops`` rounds of integer arithmetic."""
    total = seed
    for i in range(loops):
        total = (total * 31 + i) % 1_000_003
    return total


def calibrate_loops(seconds: float) -> int:
    """Loops of :func:`burn` that take about ``seconds`` here (best of three)."""
    probe = 200_000
    best = min(timed(lambda: burn(0, probe)) for _ in range(3))
    return max(1_000, int(probe * seconds / best))


def hold(until: float) -> int:
    """Sleep until the wall-clock time ``until``; return this process's id (pool warm-ups)."""
    time.sleep(max(0.0, until - time.time()))
    return os.getpid()


def cpu_seeds(sizes: Sizes) -> list[int]:
    return [SEED + index for index in range(sizes.cpu_steps)]


# --- timing ------------------------------------------------------------------


def timed(function: Callable[[], Any]) -> float:
    """Seconds ``function`` took."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start
