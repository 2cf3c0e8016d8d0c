"""Tracking benchmark: raw sqlite3 (the limit), loopml and MLflow, side by side.

Run ``.venv/bin/python benchmarks/tracking.py`` (``--quick`` for a smaller
size, ``--skip-mlflow`` to leave MLflow out, ``--repeat N``). Each system works
in fresh temp folders; the table shows the median of the repeats and each
time's ratio to raw sqlite3, and the goals loopml sets itself. Results are
saved as JSON under ``benchmarks/results/``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from _peers import MLFLOW_ENV, PEERS, PeerError, ensure_peer, run_peer
from _report import (
    HERE,
    Columns,
    Row,
    Times,
    default_settings,
    evaluate,
    machine,
    parse_args,
    peer_column,
    peer_left_out,
    print_table,
    results_file,
    say,
    summarise,
    write_results,
)
from _tracking_workload import (
    FILTER,
    FULL,
    METRIC_KEY,
    QUICK,
    Sizes,
    batch_steps,
    command_time,
    expected_matches,
    import_time,
    metric_points,
    params_of_run,
    search_corpus,
    timed,
)

PYTHON = sys.executable
MLFLOW_QUICK_CALLS = 1_000


# --- raw sqlite3: the limit ----------------------------------------------------------

RAW_SCHEMA = """
CREATE TABLE params (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                     PRIMARY KEY (run_id, key));
CREATE TABLE metrics (run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL,
                      step INTEGER NOT NULL, timestamp REAL NOT NULL);
CREATE INDEX ix_metrics ON metrics (run_id, key, step);
"""
# Run ids whose param ``p`` matches and whose latest ``m`` (highest step) is below the
# bound: one index lookup per candidate run (faster here than a GROUP BY over metrics).
RAW_SEARCH = """
SELECT p.run_id FROM params AS p
WHERE p.key = 'p' AND p.value = 'x'
  AND (SELECT m.value FROM metrics AS m WHERE m.run_id = p.run_id AND m.key = 'm'
       ORDER BY m.step DESC LIMIT 1) < 0.5
"""
# The latest point of every series of the matches: SQLite takes the bare ``value``
# from the row holding MAX(step).
RAW_LATEST = (
    "SELECT run_id, key, value, MAX(step) FROM metrics WHERE run_id IN ({}) GROUP BY run_id, key"
)


def raw_connect(path: Path) -> sqlite3.Connection:
    """A connection as durable as loopml's: WAL, synchronous=FULL, explicit transactions."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def raw_write(db: sqlite3.Connection, params: list[tuple], metrics: list[tuple]) -> None:
    db.execute("BEGIN IMMEDIATE")
    if params:
        db.executemany("INSERT INTO params VALUES (?, ?, ?)", params)
    if metrics:
        db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)", metrics)
    db.execute("COMMIT")


def raw_fresh(path: Path) -> sqlite3.Connection:
    db = raw_connect(path)
    db.executescript(RAW_SCHEMA)
    raw_write(db, [(uuid.uuid4().hex, "first", "1")], [])
    return db


def raw_search(db: sqlite3.Connection) -> dict[str, tuple[dict, dict]]:
    ids = [row[0] for row in db.execute(RAW_SEARCH)]
    marks = ", ".join("?" * len(ids))
    runs: dict[str, tuple[dict, dict]] = {run_id: ({}, {}) for run_id in ids}
    for run_id, key, value in db.execute(
        f"SELECT run_id, key, value FROM params WHERE run_id IN ({marks})", ids
    ):
        runs[run_id][0][key] = value
    for run_id, key, value, _ in db.execute(RAW_LATEST.format(marks), ids):
        runs[run_id][1][key] = value
    return runs


def time_write(db: sqlite3.Connection, params: list[tuple], metrics: list[tuple]) -> float:
    start = time.perf_counter()
    raw_write(db, params, metrics)
    return time.perf_counter() - start


def metric_rows(run_id: str, points: list[tuple[int, str, float]]) -> list[tuple]:
    now = time.time()
    return [(run_id, key, value, step, now) for step, key, value in points]


def bench_raw(sizes: Sizes) -> Times:
    times: Times = defaultdict(list)
    params = list(params_of_run(sizes).items())
    single = [(step, METRIC_KEY, value) for step, value in metric_points(sizes.points)]
    batch = [(step, key, v) for step, ms in batch_steps(sizes) for key, v in ms.items()]
    for index in range(sizes.repeat):
        say(f"  [raw] writes, repeat {index + 1}/{sizes.repeat}")
        with tempfile.TemporaryDirectory(prefix="bench-raw-") as tmp:
            start = time.perf_counter()
            db = raw_fresh(Path(tmp) / "raw.db")
            times["fresh_store"].append(time.perf_counter() - start)
            run_id = uuid.uuid4().hex
            params_rows = [(run_id, key, value) for key, value in params]
            times["params"].append(time_write(db, params_rows, []))
            rows = metric_rows(uuid.uuid4().hex, single)
            times["single_durable"].append(time_write(db, [], rows))
            rows = metric_rows(uuid.uuid4().hex, batch)
            times["batch_durable"].append(time_write(db, [], rows))
            run_id = uuid.uuid4().hex
            params_rows = [(run_id, key, value) for key, value in params]
            times["run_total"].append(time_write(db, params_rows, metric_rows(run_id, single)))
            db.close()
    times["single_calls"] = times["single_durable"]
    times["per_call"] = [t / sizes.points for t in times["single_durable"]]

    times["search"] = raw_search_times(sizes)
    for _ in range(sizes.import_repeat):
        times["import"].append(import_time(PYTHON, "sqlite3"))
        times["cli_help"].append(command_time([PYTHON, "-c", "pass"]))
    return times


def raw_search_times(sizes: Sizes) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory(prefix="bench-raw-") as tmp:
        db = raw_fresh(Path(tmp) / "raw.db")
        params: list[tuple] = []
        metrics: list[tuple] = []
        now = time.time()
        for run in search_corpus(sizes):
            run_id = uuid.uuid4().hex
            params += [(run_id, k, v) for k, v in run.params.items()]
            metrics += [(run_id, k, v, step, now + step) for k, v, step in run.metrics]
        raw_write(db, params, metrics)
        for _ in range(sizes.repeat):
            start = time.perf_counter()
            found = raw_search(db)
            times.append(time.perf_counter() - start)
            check("raw search", len(found), expected_matches(sizes))
        db.close()
    return times


# --- loopml ---------------------------------------------------------------------------

LOOPML_FRESH_STORE = """
import sys, time
from loopml.metadata import SqlMetadataStore
start = time.perf_counter()
SqlMetadataStore(sys.argv[1]).create_execution("run")
print(time.perf_counter() - start)
"""


def bench_loopml(sizes: Sizes) -> tuple[Times, dict[str, str]]:
    import loopml
    from loopml.workspace import reset_workspace

    times: Times = defaultdict(list)
    notes: dict[str, str] = {}
    params = params_of_run(sizes)
    single = list(metric_points(sizes.points))
    batch = list(batch_steps(sizes))
    for index in range(sizes.repeat):
        say(f"  [loopml] writes, repeat {index + 1}/{sizes.repeat}")
        with tempfile.TemporaryDirectory(prefix="bench-loopml-") as tmp:
            os.environ["LOOPML_PROJECT_DIR"] = tmp
            reset_workspace()
            run = loopml.start_run("bench")  # creates the store: untimed here
            times["params"].append(timed(lambda: loopml.log_params(params)))
            start = time.perf_counter()
            for step, value in single:
                loopml.log_metric(METRIC_KEY, value, step=step)
            calls = time.perf_counter() - start
            loopml.flush()
            durable = time.perf_counter() - start
            loopml.end_run()
            times["single_calls"].append(calls)
            times["single_durable"].append(durable)
            times["per_call"].append(calls / sizes.points)
            times["run_total"].append(times["params"][-1] + durable)
            history = loopml.get_metric_history(run.id, METRIC_KEY)
            check("loopml log_metric", len(history), sizes.points)

            run = loopml.start_run("bench")
            start = time.perf_counter()
            for step, metrics in batch:
                loopml.log_metrics(metrics, step=step)
            calls = time.perf_counter() - start
            loopml.flush()
            times["batch_calls"].append(calls)
            times["batch_durable"].append(time.perf_counter() - start)
            loopml.end_run()
            stored = sum(len(loopml.get_metric_history(run.id, key)) for key in batch[0][1])
            check("loopml log_metrics", stored, sizes.points)
            reset_workspace()

    with tempfile.TemporaryDirectory(prefix="bench-loopml-") as tmp:
        os.environ["LOOPML_PROJECT_DIR"] = tmp
        reset_workspace()
        say(f"  [loopml] search setup: {sizes.runs:,} runs (untimed)")
        setup_loopml_corpus(sizes)
        for _ in range(sizes.repeat):
            start = time.perf_counter()
            found = loopml.search_runs(FILTER, limit=None)
            times["search"].append(time.perf_counter() - start)
            check("loopml search_runs", len(found), expected_matches(sizes))
        reset_workspace()

    say(f"  [loopml] fresh store x{sizes.repeat}, imports x{sizes.import_repeat}")
    for _ in range(sizes.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-loopml-") as tmp:
            uri = f"sqlite:///{tmp}/metadata.db"
            done = subprocess.run(
                [PYTHON, "-c", LOOPML_FRESH_STORE, uri], capture_output=True, text=True, check=True
            )
            times["fresh_store"].append(float(done.stdout.split()[-1]))
    for _ in range(sizes.import_repeat):
        times["import"].append(import_time(PYTHON, "loopml"))
        times["import_tracking"].append(import_time(PYTHON, "loopml.tracking"))
    cli = Path(PYTHON).parent / "loopml"
    probe = subprocess.run([str(cli), "--help"], capture_output=True, text=True, check=False)
    if probe.returncode == 0:
        times["cli_help"] = [command_time([str(cli), "--help"]) for _ in range(sizes.import_repeat)]
    else:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        notes["cli_help"] = f"`loopml --help` skipped: exit {probe.returncode}, {last}"
    return times, notes


def setup_loopml_corpus(sizes: Sizes) -> None:
    """Store the search corpus fast through the store's own APIs."""
    from loopml.metadata import ContextType, ExecutionStatus
    from loopml.workspace import get_workspace

    store = get_workspace().metadata
    context = store.get_or_create_context(ContextType.EXPERIMENT, "search")
    rows = []
    now = time.time()
    for run in search_corpus(sizes):
        execution = store.create_execution(
            "run", context_ids=[context.id], params=run.params, status=ExecutionStatus.COMPLETED
        )
        rows += [(execution.id, key, value, step, now + step) for key, value, step in run.metrics]
    store.log_metrics(rows)


# --- MLflow -----------------------------------------------------------------------------


def bench_mlflow(sizes: Sizes, quick: bool) -> dict[str, Any]:
    try:
        ensure_peer("mlflow", log=say)
    except PeerError as error:
        say(f"MLflow left out: {error}")
        return {"unavailable": str(error)}
    single_points = min(sizes.points, MLFLOW_QUICK_CALLS) if quick else sizes.points
    config = {"sizes": dataclasses.asdict(sizes), "single_points": single_points}
    with tempfile.TemporaryDirectory(prefix="bench-mlflow-") as tmp:
        try:
            result = run_peer(
                "mlflow", HERE / "_tracking_mlflow.py", config, env=MLFLOW_ENV, cwd=Path(tmp)
            )
        except PeerError as error:
            say(f"MLflow left out: {error}")
            return {"unavailable": str(error)}
    times = result["times"]
    times["per_call"] = [t / sizes.points for t in times["single_calls"]]
    times["run_total"] = [
        p + s for p, s in zip(times["params"], times["single_durable"], strict=True)
    ]
    check("MLflow log_metric", result["counts"]["single"], single_points)
    check("MLflow log_metrics", result["counts"]["batch"], sizes.points)
    check("MLflow search_runs", result["counts"]["search"], expected_matches(sizes))
    return result


def check(what: str, got: int, expected: int) -> None:
    if got != expected:
        raise SystemExit(f"{what}: found {got} rows, expected {expected}: the benchmark is wrong")


# --- the table ------------------------------------------------------------------------------


def rows_for(sizes: Sizes) -> list[Row]:
    n = f"{sizes.points:,}"
    steps = sizes.points // sizes.batch_keys
    return [
        Row("params", f"log_params: {sizes.params} params"),
        Row("single_calls", f"{n} x log_metric: the calls"),
        Row(
            "single_durable",
            f"{n} x log_metric: until durable",
            goal=lambda v, raw: v <= 3 * raw,
            goal_text="<= 3x raw",
        ),
        Row(
            "per_call",
            "log_metric: one call",
            goal=lambda v, raw: v <= 15e-6,
            goal_text="<= 15 us",
        ),
        Row("async_calls", f"{n} x log_metric async (MLflow): the calls"),
        Row("async_durable", f"{n} x log_metric async (MLflow): until durable"),
        Row("run_total", f"params + {n} points (raw: one transaction)"),
        Row(
            "batch_durable",
            f"log_metrics: {steps} calls x {sizes.batch_keys} keys, until durable",
            goal=lambda v, raw: v <= 3 * raw,
            goal_text="<= 3x raw",
        ),
        Row(
            "search",
            f"search_runs over {sizes.runs:,} runs",
            goal=lambda v, raw: v <= 3 * raw,
            goal_text="<= 3x raw",
        ),
        Row(
            "fresh_store",
            "fresh store: first write to a new file",
            ratio=False,
            goal=lambda v, raw: v < 0.5,
            goal_text="< 0.5 s",
        ),
        Row(
            "import",
            "import loopml (raw: sqlite3, MLflow: mlflow)",
            ratio=False,
            goal=lambda v, raw: v < 0.15,
            goal_text="< 0.15 s",
        ),
        Row("import_tracking", "import loopml.tracking", ratio=False),
        Row("cli_help", "CLI --help (raw: python -c pass)"),
    ]


def extrapolated_keys(rows: list[Row], mlflow: dict[str, Any] | None) -> set[str]:
    """The rows whose MLflow values are extrapolated from fewer calls (``--quick``)."""
    if not (mlflow and mlflow.get("notes", {}).get("single")):
        return set()
    single = {"single_calls", "single_durable", "per_call", "run_total"}
    return {row.key for row in rows if row.key in single or row.key.startswith("async")}


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        __doc__,
        argv,
        peer="MLflow",
        quick_help="a smaller size (a minute or two)",
        repeat_help="repeats per operation (median is shown)",
    )
    default_settings()  # in a temp project
    sizes = QUICK if args.quick else FULL
    if args.repeat is not None:
        sizes = dataclasses.replace(
            sizes, repeat=args.repeat, import_repeat=max(args.repeat, sizes.import_repeat)
        )
    say(f"tracking benchmark: {json.dumps(sizes.to_dict())}")

    started = time.time()
    say("raw sqlite3 ...")
    raw_times = bench_raw(sizes)
    say("loopml ...")
    loopml_times, loopml_notes = bench_loopml(sizes)
    mlflow: dict[str, Any] | None = None
    if not args.skip_mlflow:
        say(f"MLflow ({' '.join(PEERS['mlflow'])}, own virtualenv) ...")
        mlflow = bench_mlflow(sizes, args.quick)

    medians = {"raw": summarise(raw_times), "loopml": summarise(loopml_times)}
    if mlflow and "times" in mlflow:
        medians["mlflow"] = summarise(mlflow["times"])
    rows = rows_for(sizes)
    goals = evaluate(rows, medians["loopml"], medians["raw"])

    notes = list(loopml_notes.values())
    left_out = peer_left_out("MLflow", mlflow)
    if left_out:
        notes.append(left_out)
    elif mlflow and mlflow["notes"].get("single"):
        notes.append(f"* MLflow log_metric {mlflow['notes']['single']}.")
    notes.append(
        f"search: {FILTER!r}, {expected_matches(sizes)} of {sizes.runs:,} runs match, "
        f"each run {sizes.run_params} params and {sizes.run_metrics} metrics x "
        f"{sizes.run_steps} steps; all matches with their params and latest metrics."
    )
    notes.append(
        "raw sqlite3: WAL + synchronous=FULL like loopml, executemany in one transaction, "
        "rows built before the clock starts; its CLI row is bare interpreter start."
    )
    stamp, path, saved = results_file("tracking", started)
    notes.append(saved)
    print_table(
        Columns(
            title=f"Tracking, median of {sizes.repeat} (imports/CLI: {sizes.import_repeat})",
            limit="raw sqlite3",
            ratio="x raw",
            peer=peer_column("MLflow", mlflow),
            width=150,
        ),
        rows,
        medians["raw"],
        medians["loopml"],
        medians.get("mlflow", {}),
        goals,
        notes,
        peer_marked=extrapolated_keys(rows, mlflow),
    )

    document = {
        "benchmark": "tracking",
        "when": stamp,
        "quick": args.quick,
        "sizes": sizes.to_dict(),
        "machine": machine(),
        "medians": medians,
        "samples": {"raw": raw_times, "loopml": loopml_times},
        "goals": goals,
        "notes": notes,
        "mlflow": mlflow,
    }
    write_results(path, document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
