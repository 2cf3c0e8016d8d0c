"""The pipelines workload on Kedro, run inside Kedro's own virtualenv by ``pipelines.py``.

Reads ``{"sizes": ...}`` as JSON on stdin (the CPU step's loop count already
calibrated by the caller), reports progress on stderr and prints ``{"version",
"times", "results"}`` as JSON on the last line of stdout: every timing and
what each run produced, which ``pipelines.py`` checks against the plain
calls. Never imports loopml.

Kedro runs as a library, the way a script or a test drives it: pipelines of
``node()`` over the same functions as loopml, a ``DataCatalog`` of
``MemoryDataset`` inputs (intermediate datasets are created as Kedro's default
``MemoryDataset``, which copies DataFrames on save and load), the
``SequentialRunner``, and for the independent steps also the ``ParallelRunner``
(its default process start method, a new pool per run). Kedro's per-node INFO
log lines are turned off: loopml writes nothing per step either.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
import time
from collections import defaultdict
from typing import Any

from _pipelines_workload import (
    CHAIN_START,
    SEED,
    Sizes,
    burn,
    cpu_seeds,
    frame_steps,
    frame_summary,
    inc,
    make_frame,
)


def say(text: str) -> None:
    print(f"  [kedro] {text}", file=sys.stderr, flush=True)


def chain_pipeline(sizes: Sizes) -> Any:
    from kedro.pipeline import Pipeline, node

    return Pipeline(
        [node(inc, f"v{i}", f"v{i + 1}", name=f"inc_{i + 1}") for i in range(sizes.chain_steps)]
    )


def frame_pipeline(sizes: Sizes) -> Any:
    from kedro.pipeline import Pipeline, node

    nodes = [node(make_frame, ["params:rows", "params:seed"], "frame_0", name="make_frame")]
    for index, function in enumerate(frame_steps(sizes), start=1):
        nodes.append(node(function, f"frame_{index - 1}", f"frame_{index}", name=function.__name__))
    return Pipeline(nodes)


def cpu_pipeline(sizes: Sizes) -> Any:
    from kedro.pipeline import Pipeline, node

    return Pipeline(
        [
            node(burn, [f"params:seed_{i}", "params:loops"], f"burned_{i}", name=f"burn_{i}")
            for i in range(sizes.cpu_steps)
        ]
    )


def cpu_inputs(sizes: Sizes) -> dict[str, Any]:
    inputs: dict[str, Any] = {f"params:seed_{i}": s for i, s in enumerate(cpu_seeds(sizes))}
    inputs["params:loops"] = sizes.cpu_loops
    return inputs


def run_once(
    build: Any, inputs: dict[str, Any], runner: Any, *, shared: bool = False
) -> tuple[float, dict[str, Any]]:
    """Time defining the pipeline and catalog and running it; return the seconds and outputs."""
    from kedro.io import DataCatalog, MemoryDataset, SharedMemoryDataCatalog

    start = time.perf_counter()
    pipeline = build()
    catalog_type = SharedMemoryDataCatalog if shared else DataCatalog
    catalog = catalog_type(datasets={name: MemoryDataset(value) for name, value in inputs.items()})
    outputs = runner.run(pipeline, catalog)
    seconds = time.perf_counter() - start
    return seconds, {name: dataset.load() for name, dataset in outputs.items()}


def main() -> None:
    config = json.load(sys.stdin)
    sizes = Sizes(**config["sizes"])
    if sizes.cpu_loops < 1:
        raise SystemExit("cpu_loops is calibrated by pipelines.py")
    import kedro
    from kedro.runner import ParallelRunner, SequentialRunner

    # After the import, which configures Kedro's rich logging at INFO: no line per node.
    logging.getLogger("kedro").setLevel(logging.WARNING)
    times: dict[str, list[float]] = defaultdict(list)
    results: dict[str, list[Any]] = defaultdict(list)

    # Warm-up, untimed: first-call costs (imports inside Kedro, pandas kernels).
    run_once(lambda: chain_pipeline(Sizes(chain_steps=2)), {"v0": 0}, SequentialRunner())

    for index in range(sizes.repeat):
        say(f"chain of {sizes.chain_steps}, repeat {index + 1}/{sizes.repeat}")
        seconds, outputs = run_once(
            lambda: chain_pipeline(sizes), {"v0": CHAIN_START}, SequentialRunner()
        )
        times["chain_cold"].append(seconds)
        results["chain"].append(outputs[f"v{sizes.chain_steps}"])

    for index in range(sizes.repeat):
        say(f"{sizes.frame_steps} steps over {sizes.frame_rows:,} rows, repeat {index + 1}")
        inputs = {"params:rows": sizes.frame_rows, "params:seed": SEED}
        seconds, outputs = run_once(lambda: frame_pipeline(sizes), inputs, SequentialRunner())
        times["frame_cold"].append(seconds)
        results["frame"].append(frame_summary(outputs[f"frame_{sizes.frame_steps - 1}"]))
        del outputs

    for index in range(sizes.repeat):
        say(f"{sizes.cpu_steps} independent CPU steps, repeat {index + 1}/{sizes.repeat}")
        seconds, outputs = run_once(
            lambda: cpu_pipeline(sizes), cpu_inputs(sizes), SequentialRunner()
        )
        times["cpu_sequential"].append(seconds)
        results["cpu_sequential"].append([outputs[f"burned_{i}"] for i in range(sizes.cpu_steps)])
        runner = ParallelRunner(max_workers=sizes.workers)
        seconds, outputs = run_once(
            lambda: cpu_pipeline(sizes), cpu_inputs(sizes), runner, shared=True
        )
        times["cpu_pool_cold"].append(seconds)
        results["cpu_pool_cold"].append([outputs[f"burned_{i}"] for i in range(sizes.cpu_steps)])

    start_method = os.environ.get("KEDRO_MP_CONTEXT") or multiprocessing.get_start_method()
    print(
        json.dumps(
            {
                "version": kedro.__version__,
                "start_method": start_method,
                "times": times,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
