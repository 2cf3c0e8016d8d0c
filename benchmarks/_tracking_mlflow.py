"""The tracking workload on MLflow, run inside MLflow's own virtualenv by ``tracking.py``.

Reads the sizes as JSON on stdin, works in the current folder (a fresh temp
folder: SQLite backend ``sqlite:///...``, file artifact root), reports
progress on stderr and prints ``{"version", "times", "counts", "notes"}`` as
JSON on the last line of stdout. Never imports loopml.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _tracking_workload import (
    FILTER,
    METRIC_KEY,
    Sizes,
    batch_steps,
    command_time,
    import_time,
    metric_points,
    params_of_run,
    search_corpus,
    timed,
)

FRESH_STORE = """
import logging, sys, time
import mlflow
logging.getLogger("mlflow").setLevel(logging.WARNING)
from mlflow import MlflowClient
start = time.perf_counter()
MlflowClient(tracking_uri=sys.argv[1]).create_run("0")
print(time.perf_counter() - start)
"""


def say(text: str) -> None:
    print(f"  [mlflow] {text}", file=sys.stderr, flush=True)


def main() -> None:
    config = json.load(sys.stdin)
    sizes = Sizes(**config["sizes"])
    single_points = int(config["single_points"])
    import mlflow

    # After the import, which sets its own level: no "Creating initial tables..." lines.
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    times: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = {}
    notes: dict[str, str] = {}
    here = Path.cwd()

    say(f"imports x{sizes.import_repeat}")
    for _ in range(sizes.import_repeat):
        times["import"].append(import_time(sys.executable, "mlflow"))
        times["cli_help"].append(
            command_time([str(Path(sys.executable).parent / "mlflow"), "--help"])
        )

    say(f"fresh store x{sizes.repeat}")
    for _ in range(sizes.repeat):
        with tempfile.TemporaryDirectory(dir=here) as tmp:
            uri = f"sqlite:///{tmp}/mlflow.db"
            done = subprocess.run(
                [sys.executable, "-c", FRESH_STORE, uri],
                capture_output=True,
                text=True,
                check=True,
                cwd=tmp,
            )
            times["fresh_store"].append(float(done.stdout.strip().splitlines()[-1]))

    for index in range(sizes.repeat):
        with tempfile.TemporaryDirectory(dir=here) as tmp:
            say(f"writes, repeat {index + 1}/{sizes.repeat}")
            write_run(mlflow, Path(tmp), sizes, single_points, times, counts)
    if single_points != sizes.points:
        notes["single"] = f"measured {single_points:,} calls, extrapolated to {sizes.points:,}"

    with tempfile.TemporaryDirectory(dir=here) as tmp:
        search(mlflow, Path(tmp), sizes, times, counts)

    print(
        json.dumps(
            {"version": mlflow.__version__, "times": times, "counts": counts, "notes": notes}
        )
    )


def write_run(mlflow, tmp: Path, sizes: Sizes, single_points: int, times, counts) -> None:  # type: ignore[no-untyped-def]
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp}/mlflow.db")
    mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
    experiment = client.create_experiment("bench", artifact_location=(tmp / "artifacts").as_uri())
    params = params_of_run(sizes)
    single = list(metric_points(single_points))
    scale = sizes.points / single_points
    batch = list(batch_steps(sizes))

    with mlflow.start_run(experiment_id=experiment) as run:
        times["params"].append(timed(lambda: mlflow.log_params(params)))
        start = time.perf_counter()
        for step, value in single:
            mlflow.log_metric(METRIC_KEY, value, step=step)
        elapsed = (time.perf_counter() - start) * scale
        times["single_calls"].append(elapsed)
        times["single_durable"].append(elapsed)  # synchronous: durable when the call returns
    counts["single"] = len(client.get_metric_history(run.info.run_id, METRIC_KEY))

    with mlflow.start_run(experiment_id=experiment) as run:
        start = time.perf_counter()
        for step, value in single:
            mlflow.log_metric(METRIC_KEY, value, step=step, synchronous=False)
        calls = time.perf_counter() - start
        mlflow.flush_async_logging()
        durable = time.perf_counter() - start
        times["async_calls"].append(calls * scale)
        times["async_durable"].append(durable * scale)
    counts["async"] = len(client.get_metric_history(run.info.run_id, METRIC_KEY))

    with mlflow.start_run(experiment_id=experiment) as run:
        start = time.perf_counter()
        for step, metrics in batch:
            mlflow.log_metrics(metrics, step=step)
        times["batch_durable"].append(time.perf_counter() - start)
    counts["batch"] = sum(
        len(client.get_metric_history(run.info.run_id, key)) for key in batch[0][1]
    )


def search(mlflow, tmp: Path, sizes: Sizes, times, counts) -> None:  # type: ignore[no-untyped-def]
    from mlflow.entities import Metric, Param

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp}/mlflow.db")
    experiment = client.create_experiment("search", artifact_location=(tmp / "artifacts").as_uri())
    say(f"search setup: {sizes.runs:,} runs (untimed)")
    now = int(time.time() * 1000)
    for run in search_corpus(sizes):
        run_id = client.create_run(experiment).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(key, value, now + step, step) for key, value, step in run.metrics],
            params=[Param(key, value) for key, value in run.params.items()],
        )
        client.set_terminated(run_id)
    say(f"search x{sizes.repeat}")
    for _ in range(sizes.repeat):
        start = time.perf_counter()
        found = client.search_runs([experiment], FILTER, max_results=max(1000, sizes.runs))
        times["search"].append(time.perf_counter() - start)
        counts["search"] = len(found)


if __name__ == "__main__":
    main()
