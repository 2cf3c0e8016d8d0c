"""Pipelines benchmark: plain function calls (the limit), loopml and Kedro, side by side.

Run ``.venv/bin/python benchmarks/pipelines.py`` (``--quick`` for a smaller
size, ``--skip-kedro`` to leave Kedro out, ``--repeat N``). Three workloads on
the same functions (``_pipelines_workload.py``): a chain of trivial steps, a
chain of pandas steps over a DataFrame, and independent CPU-bound steps on a
process pool. loopml runs in fresh temp projects (SQLite + a local artifact
folder); the table shows the median of the repeats, each time's ratio to the
plain calls, and the goals loopml sets itself. Results are saved as JSON under
``benchmarks/results/``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import importlib.metadata
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _peers import PEERS, PeerError, ensure_peer, run_peer
from _pipelines_workload import (
    CHAIN_START,
    FULL,
    QUICK,
    SEED,
    Sizes,
    burn,
    calibrate_loops,
    chain_expected,
    cpu_seeds,
    frame_steps,
    frame_summary,
    hold,
    inc,
    make_frame,
    run_frame_plainly,
    same_summary,
)
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

# Kedro gets loopml's NumPy and pandas, so both run the same kernels.
KEDRO_REQUIREMENTS = [
    "kedro==1.7.0",
    f"pandas=={importlib.metadata.version('pandas')}",
    f"numpy=={importlib.metadata.version('numpy')}",
]
PEERS.setdefault("kedro", KEDRO_REQUIREMENTS)


def check(what: str, ok: bool, detail: str) -> None:
    if not ok:
        raise SystemExit(f"{what}: {detail}: the benchmark is wrong")


# --- loopml's pipelines over the workload's functions -----------------------------------
#
# The steps wrap the workload's plain functions: a worker process finds them by
# module and name (``_pipelines_workload``), which is why ``benchmarks/`` must be on
# its path (``main`` puts it on PYTHONPATH).


def _steps() -> dict[str, Any]:
    from loopml.pipelines import Step

    return {
        "inc": Step(inc, name="inc"),
        "make_frame": Step(make_frame, name="make_frame"),
        "burn": Step(burn, name="burn"),
        **{f.__name__: Step(f, name=f.__name__) for f in frame_steps(Sizes())},
    }


def _pipelines() -> dict[str, Any]:
    from loopml.pipelines import Pipeline

    steps = _steps()

    def chain(steps_count: int = 100) -> None:
        value = steps["inc"](CHAIN_START)
        for _ in range(steps_count - 1):
            value = steps["inc"](value)

    def frame(rows: int = 1_000_000, seed: int = SEED, steps_count: int = 20) -> None:
        data = steps["make_frame"](rows=rows, seed=seed)
        for function in frame_steps(Sizes(frame_steps=steps_count)):
            data = steps[function.__name__](data)

    def cpu(seeds: list[int], loops: int) -> None:
        for seed in seeds:
            steps["burn"](seed=seed, loops=loops)

    return {
        "chain": Pipeline(chain, name="bench_chain"),
        "frame": Pipeline(frame, name="bench_frame"),
        "cpu": Pipeline(cpu, name="bench_cpu"),
    }


PIPELINES: dict[str, Any] = {}


def pipelines() -> dict[str, Any]:
    if not PIPELINES:
        PIPELINES.update(_pipelines())
    return PIPELINES


@contextlib.contextmanager
def fresh_workspace() -> Iterator[Any]:
    """A new project in a temp folder: SQLite metadata and a local artifact folder, created."""
    from loopml.core import Settings
    from loopml.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="bench-pipelines-") as tmp:
        workspace = Workspace(Settings.load(tmp, environ={}))
        workspace.metadata.list_contexts()  # creates the store: untimed
        _ = workspace.artifacts
        try:
            yield workspace
        finally:
            workspace.close()


def timed_run(
    name: str, params: dict[str, Any], workspace: Any, executor: Any = "local"
) -> tuple[float, Any]:
    from loopml.pipelines import run

    start = time.perf_counter()
    result = run(pipelines()[name], params, executor=executor, workspace=workspace)
    return time.perf_counter() - start, result


def check_statuses(what: str, result: Any, count: int, status: str) -> None:
    statuses = [str(s) for s in result.steps.values()]
    check(
        what,
        len(statuses) == count and set(statuses) == {status},
        f"expected {count} steps {status}, got {sorted(statuses)}",
    )


def tries_seconds(workspace: Any, result: Any) -> float:
    """Seconds the run's step tries spent on the worker: load inputs, call, store outputs."""
    executions = workspace.metadata.list_executions(type="step", parent_id=result.id, limit=None)
    return sum(float(e.properties.get("seconds", 0.0)) for e in executions)


def chain_params(steps: int) -> dict[str, Any]:
    return {"steps_count": steps}


def frame_params(sizes: Sizes) -> dict[str, Any]:
    return {"rows": sizes.frame_rows, "seed": SEED, "steps_count": sizes.frame_steps}


def cpu_params(sizes: Sizes) -> dict[str, Any]:
    return {"seeds": cpu_seeds(sizes), "loops": sizes.cpu_loops}


def node_name(step: str, number: int) -> str:
    """The plan's name of the ``number``-th call of ``step`` (``inc``, ``inc_2``, ...)."""
    return step if number == 1 else f"{step}_{number}"


def warm_up(sizes: Sizes) -> None:
    """Untimed: the first call of everything (imports, pandas and pyarrow first uses)."""
    small = dataclasses.replace(sizes, frame_rows=1_000, cpu_steps=2, cpu_loops=1_000)
    run_frame_plainly(small)
    with fresh_workspace() as workspace:
        timed_run("chain", chain_params(2), workspace)
        timed_run("frame", frame_params(small), workspace)
        timed_run("cpu", cpu_params(small), workspace)


# --- (a) the chain of trivial steps ---------------------------------------------------------


def plain_chain(steps: int) -> tuple[float, int]:
    start = time.perf_counter()
    value = CHAIN_START
    for _ in range(steps):
        value = inc(value)
    return time.perf_counter() - start, value


def bench_chain(sizes: Sizes) -> Times:
    times: Times = defaultdict(list)
    n = sizes.chain_steps
    expected = chain_expected(sizes)
    for index in range(sizes.repeat):
        say(f"  chain of {n} trivial steps, repeat {index + 1}/{sizes.repeat}")
        seconds, value = plain_chain(n)
        check("plain chain", value == expected, f"ended at {value}, expected {expected}")
        times["chain_plain"].append(seconds)
        with fresh_workspace() as workspace:
            seconds, result = timed_run("chain", chain_params(n), workspace)
            check_statuses("loopml chain, cold", result, n, "completed")
            value = workspace.load(result.artifact(node_name("inc", n)))
            check("loopml chain, cold", value == expected, f"ended at {value}, expected {expected}")
            times["chain_cold"].append(seconds)
            times["chain_tries"].append(tries_seconds(workspace, result))
            seconds, cached = timed_run("chain", chain_params(n), workspace)
            check_statuses("loopml chain, cached", cached, n, "cached")
            check(
                "loopml chain, cached",
                cached.outputs == result.outputs,
                "cached outputs differ from the cold run's",
            )
            times["chain_cached"].append(seconds)
        with fresh_workspace() as workspace:  # what every run pays, whatever its steps
            seconds, result = timed_run("chain", chain_params(1), workspace)
            check_statuses("loopml 1-step run, cold", result, 1, "completed")
            times["run_fixed_cold"].append(seconds)
            seconds, result = timed_run("chain", chain_params(1), workspace)
            check_statuses("loopml 1-step run, cached", result, 1, "cached")
            times["run_fixed_cached"].append(seconds)
    return times


# --- (b) the DataFrame pipeline ------------------------------------------------------------


def plain_frame(sizes: Sizes) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    frame = run_frame_plainly(sizes)
    seconds = time.perf_counter() - start
    return seconds, frame_summary(frame)


def materialization(sizes: Sizes) -> dict[str, float]:
    """What loopml's workers do with the data of a cold run, without the orchestration.

    Every output is dumped to Parquet and put in a content store (sha256, file
    write, fsync); every step's input is got back (read, sha256 check) and
    loaded. The plain steps themselves are not timed here.
    """
    from loopml.artifacts import ContentStore, artifact_store_from_uri, materializer_for

    spent = {"serialize": 0.0, "store": 0.0}

    def clock(kind: str, function: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = function()
        spent[kind] += time.perf_counter() - start
        return value

    with tempfile.TemporaryDirectory(prefix="bench-pipelines-") as tmp:
        store = ContentStore(artifact_store_from_uri(str(Path(tmp) / "artifacts"), {}))
        frame = make_frame(sizes.frame_rows, SEED)
        steps = frame_steps(sizes)
        for index in range(len(steps) + 1):
            materializer = materializer_for(frame)
            data = clock("serialize", lambda f=frame, m=materializer: m.dump(f))
            blob = clock("store", lambda d=data: store.put_bytes(d))
            del data
            if index == len(steps):
                break  # the last output is stored, never read by a step
            data = clock("store", lambda b=blob: store.get_bytes(b.digest))
            type_name = materializer.type_name(frame)
            clock("serialize", lambda d=data, m=materializer, t=type_name: m.load(d, t))
            del data
            frame = steps[index](frame)
    return spent


def bench_frame(sizes: Sizes) -> tuple[Times, dict[str, Any]]:
    times: Times = defaultdict(list)
    n = sizes.frame_steps
    say(f"  {n} steps over {sizes.frame_rows:,} rows: the plain calls' result (untimed)")
    expected = frame_summary(run_frame_plainly(sizes))
    for index in range(sizes.repeat):
        say(f"  {n} steps over {sizes.frame_rows:,} rows, repeat {index + 1}/{sizes.repeat}")
        seconds, summary = plain_frame(sizes)
        check("plain frame", same_summary(summary, expected), "not the same result twice")
        times["frame_plain"].append(seconds)
        with fresh_workspace() as workspace:
            seconds, result = timed_run("frame", frame_params(sizes), workspace)
            check_statuses("loopml frame, cold", result, n, "completed")
            last = frame_steps(sizes)[-1].__name__
            summary = frame_summary(workspace.load(result.artifact(last)))
            check("loopml frame, cold", same_summary(summary, expected), "another final frame")
            times["frame_cold"].append(seconds)
            times["frame_tries"].append(tries_seconds(workspace, result))
            seconds, cached = timed_run("frame", frame_params(sizes), workspace)
            check_statuses("loopml frame, cached", cached, n, "cached")
            check(
                "loopml frame, cached",
                cached.outputs == result.outputs,
                "cached outputs differ from the cold run's",
            )
            times["frame_cached"].append(seconds)
        spent = materialization(sizes)
        times["frame_serialize"].append(spent["serialize"])
        times["frame_store"].append(spent["store"])
    return times, expected


# --- (c) independent CPU-bound steps ---------------------------------------------------------


def raw_pool(sizes: Sizes, expected: list[int]) -> tuple[float, float]:
    """A bare spawn ProcessPoolExecutor: (seconds including its start, seconds once warm)."""
    seeds = cpu_seeds(sizes)
    loops = [sizes.cpu_loops] * len(seeds)
    context = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(sizes.workers, mp_context=context) as pool:
        got = list(pool.map(burn, seeds, loops))
        cold = time.perf_counter() - start
        check("raw pool", got == expected, "other results than the plain calls")
        start = time.perf_counter()
        got = list(pool.map(burn, seeds, loops))
        warm = time.perf_counter() - start
        check("raw pool, warm", got == expected, "other results than the plain calls")
    return cold, warm


def warm_up_pool(pool: Any, sizes: Sizes, workspace: Any) -> None:
    """Untimed: every worker of ``pool`` started, and through loopml's step path once."""
    for _ in range(5):
        until = time.time() + 3.0
        futures = [pool.submit(hold, until) for _ in range(sizes.workers)]
        if len({future.result() for future in futures}) == sizes.workers:
            break
    else:
        raise SystemExit(f"the process pool did not start {sizes.workers} workers")
    # As many independent steps as workers, each long enough that every worker takes one.
    params = {"seeds": list(range(sizes.workers)), "loops": max(1_000, sizes.cpu_loops // 5)}
    timed_run("cpu", params, workspace, pool)


def check_cpu(what: str, workspace: Any, result: Any, expected: list[int]) -> None:
    check_statuses(what, result, len(expected), "completed")
    got = [workspace.load(result.artifact(node_name("burn", i + 1))) for i in range(len(expected))]
    check(what, got == expected, f"results {got} instead of {expected}")


def bench_cpu(sizes: Sizes) -> tuple[Times, list[int]]:
    from loopml.pipelines.executors import ProcessExecutor

    times: Times = defaultdict(list)
    seeds = cpu_seeds(sizes)
    expected = [burn(seed, sizes.cpu_loops) for seed in seeds]
    process_uri = f"process://?workers={sizes.workers}"
    warm_pool = ProcessExecutor(max_workers=sizes.workers).start()
    try:
        for index in range(sizes.repeat):
            say(
                f"  {sizes.cpu_steps} independent CPU steps of ~{sizes.cpu_seconds:g} s, "
                f"repeat {index + 1}/{sizes.repeat}"
            )
            start = time.perf_counter()
            got = [burn(seed, sizes.cpu_loops) for seed in seeds]
            times["cpu_plain_sequential"].append(time.perf_counter() - start)
            check("plain calls", got == expected, "not the same results twice")
            cold, warm = raw_pool(sizes, expected)
            times["cpu_plain_pool_cold"].append(cold)
            times["cpu_plain_pool_warm"].append(warm)

            with fresh_workspace() as workspace:
                seconds, result = timed_run("cpu", cpu_params(sizes), workspace, "local")
                check_cpu("loopml local executor", workspace, result, expected)
                times["cpu_sequential"].append(seconds)
            with fresh_workspace() as workspace:
                seconds, result = timed_run("cpu", cpu_params(sizes), workspace, process_uri)
                check_cpu("loopml process pool (started by the run)", workspace, result, expected)
                times["cpu_pool_cold"].append(seconds)
            with fresh_workspace() as workspace:
                warm_up_pool(warm_pool, sizes, workspace)
                seconds, result = timed_run("cpu", cpu_params(sizes), workspace, warm_pool)
                check_cpu("loopml process pool (started before)", workspace, result, expected)
                times["cpu_pool_warm"].append(seconds)
    finally:
        warm_pool.shutdown()
    return times, expected


def add_speedups(times: Times, prefix: str = "cpu_") -> None:
    """Per-repeat speedups of the pools over one at a time, each system against its own times.

    The table shows their median (not the ratio of the median times).
    """
    sequential = times.get(f"{prefix}sequential", [])
    for kind in ("warm", "cold"):
        pool = times.get(f"{prefix}pool_{kind}", [])
        if sequential and pool:
            times[f"cpu_speedup_{kind}"] = [s / p for s, p in zip(sequential, pool, strict=True)]


# --- Kedro -------------------------------------------------------------------------------------


def bench_kedro(sizes: Sizes) -> dict[str, Any]:
    try:
        ensure_peer("kedro", log=say)
    except PeerError as error:
        say(f"Kedro left out: {error}")
        return {"unavailable": str(error)}
    with tempfile.TemporaryDirectory(prefix="bench-kedro-") as tmp:
        try:
            return run_peer(
                "kedro",
                HERE / "_pipelines_kedro.py",
                {"sizes": dataclasses.asdict(sizes)},
                env={"PYTHONPATH": str(HERE)},
                cwd=Path(tmp),
            )
        except PeerError as error:
            say(f"Kedro left out: {error}")
            return {"unavailable": str(error)}


def check_kedro(
    kedro: dict[str, Any], sizes: Sizes, frame_expected: dict[str, Any], cpu_expected: list[int]
) -> None:
    results = kedro["results"]
    for value in results["chain"]:
        check("Kedro chain", value == chain_expected(sizes), f"ended at {value}")
    for summary in results["frame"]:
        check("Kedro frame", same_summary(summary, frame_expected), "another final frame")
    for key in ("cpu_sequential", "cpu_pool_cold"):
        for got in results[key]:
            check(f"Kedro {key}", got == cpu_expected, f"results {got}")


# --- the table ----------------------------------------------------------------------------------


def derive(
    sizes: Sizes, plain: dict[str, float], system: dict[str, float], *, loopml: bool
) -> dict[str, float]:
    """Table values of one system from its medians: rename, per-step overheads, speedups."""
    out: dict[str, float] = {}
    chain, frame = sizes.chain_steps, sizes.frame_steps
    names = {
        "chain_cold": "chain_run",
        "chain_cached": "chain_cached",
        "chain_tries": "chain_tries",
        "frame_tries": "frame_tries",
        "frame_cold": "frame_run",
        "frame_cached": "frame_cached",
        "frame_serialize": "frame_serialize",
        "frame_store": "frame_store",
        "run_fixed_cold": "run_fixed_cold",
        "run_fixed_cached": "run_fixed_cached",
        "cpu_sequential": "cpu_sequential",
        "cpu_pool_warm": "cpu_pool_warm",
        "cpu_pool_cold": "cpu_pool_cold",
        "cpu_speedup_warm": "cpu_speedup_warm",
        "cpu_speedup_cold": "cpu_speedup_cold",
    }
    for key, row in names.items():
        if key in system:
            out[row] = system[key]
    if "chain_cold" in system:
        out["chain_step_cold"] = (system["chain_cold"] - plain["chain_plain"]) / chain
    if "chain_tries" in system:
        out["chain_step_orchestration"] = (system["chain_cold"] - system["chain_tries"]) / chain
    if "chain_cached" in system:
        out["chain_step_cached"] = system["chain_cached"] / chain
    if "frame_cold" in system:
        out["frame_step_cold"] = (system["frame_cold"] - plain["frame_plain"]) / frame
    if "frame_tries" in system:
        out["frame_step_orchestration"] = (system["frame_cold"] - system["frame_tries"]) / frame
    if "frame_cached" in system:
        out["frame_step_cached"] = system["frame_cached"] / frame
    return out


def plain_values(plain: dict[str, float]) -> dict[str, float]:
    """The limit's column: the same work as plain calls (and a bare process pool)."""
    values = {
        "chain_run": plain["chain_plain"],
        "chain_cached": plain["chain_plain"],
        "chain_tries": plain["chain_plain"],
        "frame_tries": plain["frame_plain"],
        "frame_run": plain["frame_plain"],
        "frame_cached": plain["frame_plain"],
        "cpu_sequential": plain["cpu_plain_sequential"],
        "cpu_pool_warm": plain["cpu_plain_pool_warm"],
        "cpu_pool_cold": plain["cpu_plain_pool_cold"],
    }
    values["cpu_speedup_warm"] = plain["cpu_speedup_warm"]
    values["cpu_speedup_cold"] = plain["cpu_speedup_cold"]
    return values


def rows_for(sizes: Sizes) -> list[Row]:
    chain, frame, rows = sizes.chain_steps, sizes.frame_steps, f"{sizes.frame_rows:,}"
    cpu = f"{sizes.cpu_steps} x {sizes.cpu_seconds:g} s CPU steps"
    pool = f"{sizes.workers} processes"
    return [
        Row("chain_run", f"chain of {chain} trivial steps: cold run"),
        Row("chain_cached", f"chain of {chain}: fully cached run"),
        Row("chain_tries", "  of the cold run: inside the steps (load, call, store)"),
        Row(
            "chain_step_cold",
            "  overhead per step, cold: (run - plain) / steps",
            ratio=False,
            goal=lambda v, _: v < 10e-3,
            goal_text="< 10 ms",
        ),
        Row(
            "chain_step_orchestration",
            "  of which outside the steps: (run - inside) / steps",
            ratio=False,
        ),
        Row(
            "chain_step_cached",
            "  overhead per step, cached: run / steps",
            ratio=False,
            goal=lambda v, _: v < 2e-3,
            goal_text="< 2 ms",
        ),
        Row("run_fixed_cold", "  a 1-step run, cold (fixed cost of a run)", ratio=False),
        Row("run_fixed_cached", "  a 1-step run, cached", ratio=False),
        Row("frame_run", f"{frame} pandas steps over {rows} rows: cold run"),
        Row("frame_cached", f"{frame} pandas steps: fully cached run"),
        Row("frame_tries", "  of the cold run: inside the steps (load, call, store)"),
        Row("frame_serialize", "    Parquet dump + load of the data (measured apart)", ratio=False),
        Row("frame_store", "    artifact put + verified get (measured apart)", ratio=False),
        Row("frame_step_cold", "  overhead per step, cold: (run - plain) / steps", ratio=False),
        Row(
            "frame_step_orchestration",
            "  of which outside the steps: (run - inside) / steps",
            ratio=False,
            goal=lambda v, _: v < 10e-3,
            goal_text="< 10 ms",
        ),
        Row(
            "frame_step_cached",
            "  overhead per step, cached: run / steps",
            ratio=False,
            goal=lambda v, _: v < 2e-3,
            goal_text="< 2 ms",
        ),
        Row("cpu_sequential", f"{cpu}: one at a time (loopml: local executor)"),
        Row("cpu_pool_warm", f"  on {pool}, pool started before (plain: bare pool)"),
        Row("cpu_pool_cold", f"  on {pool}, pool started by the run (incl. spawn)"),
        Row(
            "cpu_speedup_warm",
            "  speedup of the warm pool over one at a time",
            ratio=False,
            speedup=True,
            goal=lambda v, _: v >= 1.7,
            goal_text=">= 1.7x",
        ),
        Row(
            "cpu_speedup_cold",
            "  speedup of the pool started by the run",
            ratio=False,
            speedup=True,
            goal=lambda v, _: v >= 1.7,
            goal_text=">= 1.7x",
        ),
    ]


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        __doc__,
        argv,
        peer="Kedro",
        quick_help="a smaller size (a few minutes)",
        repeat_help="repeats per measurement (median is shown)",
    )
    default_settings()  # in temp projects
    # Spawned workers import the steps' module (_pipelines_workload) from here.
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), *(p for p in path if p != str(HERE))])
    sizes = QUICK if args.quick else FULL
    if args.repeat is not None:
        sizes = dataclasses.replace(sizes, repeat=args.repeat)
    started = time.time()
    load_before = os.getloadavg()[0]
    say("calibrating the CPU-bound step ...")
    sizes = dataclasses.replace(sizes, cpu_loops=calibrate_loops(sizes.cpu_seconds))
    say(f"pipelines benchmark: {json.dumps(sizes.to_dict())}")
    say("warm-up (untimed) ...")
    warm_up(sizes)

    samples: dict[str, Times] = {"plain": defaultdict(list), "loopml": defaultdict(list)}
    say("chain of trivial steps: plain calls and loopml ...")
    for key, values in bench_chain(sizes).items():
        samples["plain" if key.endswith("_plain") else "loopml"][key] = values
    say("DataFrame pipeline: plain calls and loopml ...")
    frame_times, frame_expected = bench_frame(sizes)
    for key, values in frame_times.items():
        samples["plain" if key.endswith("_plain") else "loopml"][key] = values
    say("independent CPU-bound steps: plain calls, a bare pool and loopml ...")
    cpu_times, cpu_expected = bench_cpu(sizes)
    for key, values in cpu_times.items():
        samples["plain" if key.startswith("cpu_plain") else "loopml"][key] = values
    add_speedups(samples["plain"], prefix="cpu_plain_")
    add_speedups(samples["loopml"])

    kedro: dict[str, Any] | None = None
    if not args.skip_kedro:
        say(f"Kedro ({' '.join(PEERS['kedro'])}, own virtualenv) ...")
        kedro = bench_kedro(sizes)
        if "results" in kedro:
            check_kedro(kedro, sizes, frame_expected, cpu_expected)
            samples["kedro"] = defaultdict(list, kedro["times"])
            add_speedups(samples["kedro"])

    medians = {system: summarise(times) for system, times in samples.items()}
    plain = medians["plain"]
    values = {
        "plain": plain_values(plain),
        "loopml": derive(sizes, plain, medians["loopml"], loopml=True),
    }
    if "kedro" in medians:
        values["kedro"] = derive(sizes, plain, medians["kedro"], loopml=False)
    rows = rows_for(sizes)
    goals = evaluate(rows, values["loopml"])

    notes = []
    left_out = peer_left_out("Kedro", kedro)
    if left_out:
        notes.append(left_out)
    elif kedro is not None:
        notes.append(
            "Kedro: SequentialRunner (ParallelRunner for the pools: its default start method, "
            f"{kedro.get('start_method', '?')}, a new pool per run), MemoryDataset everywhere "
            "(copies DataFrames on save and load), per-node INFO logs off; defining the "
            "pipeline and catalog is timed, as loopml's compile is."
        )
    notes.append(
        "loopml: run(pipeline, executor=...) in a fresh temp project (SQLite + local "
        "artifact folder, created untimed); cold = first run, cached = the same run again."
    )
    notes.append(
        f"CPU step: {sizes.cpu_loops:,} loops of pure Python (~{sizes.cpu_seconds:g} s here); "
        "pools use spawn; the plain column's pools are a bare ProcessPoolExecutor.map."
    )
    load_after = os.getloadavg()[0]
    notes.append(
        f"load average (1 min) {load_before:.2f} before, {load_after:.2f} after, on "
        f"{os.cpu_count()} CPUs: other work on the machine slows the pools most."
    )
    stamp, path, saved = results_file("pipelines", started)
    notes.append(saved)
    print_table(
        Columns(
            title=f"Pipelines, median of {sizes.repeat}",
            limit="plain calls",
            ratio="x plain",
            peer=peer_column("Kedro", kedro),
            width=160,
        ),
        rows,
        values["plain"],
        values["loopml"],
        values.get("kedro", {}),
        goals,
        notes,
        whole_ratio_from=100,
    )

    document = {
        "benchmark": "pipelines",
        "when": stamp,
        "quick": args.quick,
        "sizes": sizes.to_dict(),
        "machine": machine(load_average={"before": load_before, "after": load_after}),
        "values": values,
        "medians": medians,
        "samples": samples,
        "goals": goals,
        "notes": notes,
        "kedro": kedro,
    }
    write_results(path, document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
