"""Micro-batching: concurrent requests share one predict call; each gets its own slice."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pandas as pd
import pytest

from loopml.serving.batching import MicroBatcher


class Recorder:
    """A model that records the size of each call, and waits for a gate on its first call."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.gate = threading.Event()

    def __call__(self, frame: pd.DataFrame, kind: str) -> Any:
        if not self.calls:
            self.gate.wait(5)
        self.calls.append(len(frame))
        if (frame["x"] < 0).any():
            raise ValueError("negative x")
        return (frame["x"] * 10).to_numpy()


async def _burst(batcher: MicroBatcher, model: Recorder, values: list[float]) -> list[Any]:
    first = asyncio.ensure_future(batcher.submit(pd.DataFrame({"x": [0.5]})))
    await asyncio.sleep(0.05)  # the first call is now inside predict, holding the worker
    rest = [asyncio.ensure_future(batcher.submit(pd.DataFrame({"x": [v, v]}))) for v in values]
    await asyncio.sleep(0.05)
    model.gate.set()
    return await asyncio.gather(first, *rest, return_exceptions=True)


def test_requests_waiting_together_run_as_one_batch() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch_size=100, max_wait=0.0)
    try:
        results = asyncio.run(_burst(batcher, model, [1.0, 2.0, 3.0, 4.0]))
    finally:
        batcher.close()
    assert model.calls == [1, 8]
    assert [r.tolist() for r in results] == [[5.0], [10.0, 10.0], [20.0, 20.0], [30.0, 30.0],
                                             [40.0, 40.0]]  # fmt: skip


def test_batches_respect_the_row_bound() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch_size=4, max_wait=0.0)
    try:
        asyncio.run(_burst(batcher, model, [1.0, 2.0, 3.0, 4.0]))
    finally:
        batcher.close()
    assert model.calls == [1, 4, 4]


def test_one_bad_request_does_not_fail_its_batch() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch_size=100, max_wait=0.0)
    try:
        results = asyncio.run(_burst(batcher, model, [1.0, -1.0, 3.0]))
    finally:
        batcher.close()
    assert isinstance(results[2], ValueError)
    assert results[1].tolist() == [10.0, 10.0] and results[3].tolist() == [30.0, 30.0]


def test_a_lone_request_is_answered_and_a_closed_batcher_refuses() -> None:
    model = Recorder()
    model.gate.set()
    sizes: list[int] = []
    batcher = MicroBatcher(model, max_wait=0.002, on_batch=sizes.append)
    result = asyncio.run(batcher.submit(pd.DataFrame({"x": [1.0]})))
    batcher.close()
    assert result.tolist() == [10.0] and sizes == [1]
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(batcher.submit(pd.DataFrame({"x": [1.0]})))


def test_categoricals_with_different_categories_stay_categorical() -> None:
    seen: list[str] = []

    def predict(frame: pd.DataFrame, kind: str) -> Any:
        seen.append(frame["c"].dtype.name)
        return frame["c"].astype(str).to_numpy()

    async def run() -> list[Any]:
        batcher = MicroBatcher(predict, max_wait=0.05)
        batcher._expect = 2  # as after concurrent traffic: wait for company
        try:
            frames = [pd.DataFrame({"c": pd.Categorical([v])}) for v in ("a", "b")]
            return await asyncio.gather(*(batcher.submit(f) for f in frames))
        finally:
            batcher.close()

    results = asyncio.run(run())
    assert [r.tolist() for r in results] == [["a"], ["b"]]
    assert set(seen) == {"category"}
