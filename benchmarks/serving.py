"""The serving benchmark: loopml's model server against MLflow, FastAPI and the in-process limit.

Two models: a RandomForest (100 trees, 20 features), whose predict costs
milliseconds, and a LogisticRegression, whose predict is nearly free (so it
measures pure serving overhead). Each is served by loopml (``loopml serve``,
one worker, request log on), ``mlflow models serve`` (MLflow 3.17.2 in its own
virtualenv, one worker) and a minimal FastAPI app (one worker), all with the
same fitted model, one after the other on loopback; the limit is
``predict_proba`` on a ready DataFrame in this (persistent) process. A bounded
asyncio client (``_serving_load.py``: keep-alive connections, closed loop)
drives them at concurrency 1 and 8 with one-row and 100-row requests; the
same client against a bare asyncio server with a fixed answer gives the
floor (what the client and loopback cost, ~0.1 ms here). Then:
loopml with the request log off, and loopml answering ~200 requests/s while
the alias moves between two versions, counting failed requests.

    .venv/bin/python benchmarks/serving.py [--quick] [--skip-mlflow]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _peers import MLFLOW_ENV, PeerError, ensure_peer, run_peer
from _report import default_settings, machine, results_file, say, write_results
from _serving_load import Connection, closed_loop, paced
from _serving_systems import (
    Server,
    probabilities,
    request_for,
    start_fastapi,
    start_floor,
    start_loopml,
    start_mlflow,
    version_of,
)

HERE = Path(__file__).resolve().parent
MODELS = ("lr", "rf")
ROWS = (1, 100)
CONCURRENCY = (1, 8)
FEATURES = [f"f{i:02d}" for i in range(20)]
LABELS = {"lr": "LogReg", "rf": "RandomForest"}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s per measurement instead of 3")
    parser.add_argument("--skip-mlflow", action="store_true", help="leave MLflow out")
    return parser.parse_args(argv)


def train(folder: Path) -> dict[str, Any]:
    """The data, the fitted models (and a second forest for the alias move), pickled too."""
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=5000, n_features=20, n_informative=10, random_state=0)
    frame = pd.DataFrame(X, columns=FEATURES)
    models = {
        "lr": LogisticRegression(max_iter=1000).fit(frame, y),
        "rf": RandomForestClassifier(n_estimators=100, random_state=0).fit(frame, y),
        "rf2": RandomForestClassifier(n_estimators=100, random_state=1).fit(frame, y),
    }
    for key, model in models.items():
        (folder / f"{key}.pkl").write_bytes(pickle.dumps(model))
    frame.head(100).to_parquet(folder / "example.parquet")
    return {"frame": frame, "models": models}


def register(project: Path, data: dict[str, Any]) -> Path:
    """A loopml project serving ``lr@live`` and ``rf@live`` (rf version 2 waits for the move)."""
    from loopml.core import Settings
    from loopml.models import log_model
    from loopml.registry import ModelRegistry
    from loopml.workspace import Workspace

    project.mkdir()
    (project / "loopml.yaml").write_text("serving:\n  poll_interval: 0.5\n")
    workspace = Workspace(Settings.load(project))
    registry = ModelRegistry(workspace)
    example = data["frame"].head(100)
    for name, keys in (("lr", ["lr"]), ("rf", ["rf", "rf2"])):
        for key in keys:
            package = log_model(data["models"][key], example=example, workspace=workspace)
            registry.register_model(name, package)
        registry.set_alias(name, "live", 1)
    workspace.close()
    deployments = project / "deployments.yaml"
    deployments.write_text(
        "deployments:\n  - {name: lr, model: lr@live}\n  - {name: rf, model: rf@live}\n"
    )
    return deployments


def limit(data: dict[str, Any], seconds: float) -> dict[str, dict[str, float]]:
    """In-process ``predict_proba`` on a ready DataFrame: p50, p99, calls/s (one core)."""
    results = {}
    for key in MODELS:
        model = data["models"][key]
        for rows in ROWS:
            frame = data["frame"].iloc[200 : 200 + rows].reset_index(drop=True)
            for _ in range(20):
                model.predict_proba(frame)
            times: list[float] = []
            stop = time.perf_counter() + seconds
            while time.perf_counter() < stop or len(times) < 50:
                started = time.perf_counter()
                model.predict_proba(frame)
                times.append(time.perf_counter() - started)
            times.sort()
            results[f"{key}/{rows}"] = {
                "p50": statistics.median(times),
                "p99": times[int(len(times) * 0.99)],
                "rps": len(times) / sum(times),
            }
    return results


def check(system: str, server: Server, data: dict[str, Any]) -> None:
    """One request per model and size: the answer must be the in-process probabilities."""
    import numpy as np

    async def ask(raw: bytes) -> tuple[int, bytes]:
        conn = Connection(server.url)
        try:
            status, _, body = await conn.send(raw)
        finally:
            await conn.close()
        return status, body

    for key in MODELS:
        for rows in ROWS:
            frame = data["frame"].iloc[200 : 200 + rows].reset_index(drop=True)
            status, body = asyncio.run(ask(request_for(system, server, key, frame)))
            if status != 200:
                raise RuntimeError(f"{system} answered {status}: {body[:300]!r}")
            got = np.asarray(probabilities(system, body), dtype=float)
            want = data["models"][key].predict_proba(frame)
            if got.shape != want.shape or not np.allclose(got, want, atol=1e-9):
                raise RuntimeError(f"{system} gave other probabilities for {key}/{rows}")


def measure(
    system: str, server: Server, data: dict[str, Any], seconds: float, cells: list[tuple]
) -> dict[str, dict[str, Any]]:
    results = {}
    for key, rows, concurrency in cells:
        frame = data["frame"].iloc[200 : 200 + rows].reset_index(drop=True)
        raw = request_for(system, server, key, frame)
        load = asyncio.run(
            closed_loop(server.url, raw, concurrency=concurrency, seconds=seconds, warmup=0.5)
        )
        summary = load.summary()
        results[f"{key}/{rows}/c{concurrency}"] = summary
        say(
            f"  {system:8} {key}/{rows:<3} c={concurrency}: {summary['rps']:8.0f} req/s "
            f"p50 {summary['p50'] * 1e3:6.2f} ms p99 {summary['p99'] * 1e3:6.2f} ms"
            + (f"  ({summary['failures']} failed)" if summary["failures"] else "")
        )
    return results


def all_cells() -> list[tuple]:
    return [(k, r, c) for k in MODELS for r in ROWS for c in CONCURRENCY]


def alias_move(project: Path, server: Server, data: dict[str, Any], seconds: float) -> dict:
    """~200 one-row requests/s to ``rf`` while its alias flips between versions every second."""
    from loopml.core import Settings
    from loopml.registry import ModelRegistry
    from loopml.workspace import Workspace

    workspace = Workspace(Settings.load(project))
    registry = ModelRegistry(workspace)
    moves = []

    async def mover() -> None:
        version = 1
        end = time.perf_counter() + seconds - 1.0
        while time.perf_counter() < end:
            await asyncio.sleep(1.0)
            version = 2 if version == 1 else 1
            await asyncio.to_thread(registry.set_alias, "rf", "live", version)
            moves.append(version)

    frame = data["frame"].iloc[200:201].reset_index(drop=True)
    raw = request_for("loopml", server, "rf", frame)
    load = asyncio.run(
        paced(server.url, raw, rate=200, seconds=seconds, pick=version_of, during=mover)
    )
    workspace.close()
    return {**load.summary(), "moves": len(moves)}


def run_mlflow(folder: Path, data: dict[str, Any], seconds: float) -> dict[str, Any]:
    try:
        python = ensure_peer("mlflow", log=say)
    except PeerError as error:
        return {"unavailable": str(error)}
    config = {
        "models": {key: str(folder / f"{key}.pkl") for key in MODELS},
        "example": str(folder / "example.parquet"),
        "out": str(folder / "mlflow"),
    }
    saved = run_peer("mlflow", HERE / "_serving_mlflow.py", config, env=MLFLOW_ENV, cwd=folder)
    results: dict[str, Any] = {"version": saved["version"]}
    for key in MODELS:
        say(f"starting mlflow models serve ({key})")
        server = start_mlflow(python, saved["paths"][key], MLFLOW_ENV)
        try:
            check_one(server, data, key)
            cells = [(key, r, c) for r in ROWS for c in CONCURRENCY]
            results.update(measure("mlflow", server, data, seconds, cells))
        finally:
            server.stop()
    return results


def check_one(server: Server, data: dict[str, Any], key: str) -> None:
    import numpy as np

    frame = data["frame"].iloc[200:201].reset_index(drop=True)

    async def ask() -> tuple[int, bytes]:
        conn = Connection(server.url)
        try:
            status, _, body = await conn.send(request_for("mlflow", server, key, frame))
        finally:
            await conn.close()
        return status, body

    status, body = asyncio.run(ask())
    got = np.asarray(probabilities("mlflow", body), dtype=float)
    if status != 200 or not np.allclose(got, data["models"][key].predict_proba(frame)):
        raise RuntimeError(f"mlflow answered {status}: {body[:300]!r}")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    default_settings()
    seconds = 1.0 if args.quick else 3.0
    started = time.time()
    results: dict[str, Any] = {"seconds_per_cell": seconds}
    with tempfile.TemporaryDirectory(prefix="loopml-serving-bench-") as temp:
        folder = Path(temp)
        say("training the models")
        data = train(folder)
        deployments = register(folder / "project", data)
        say("floor: the load generator against a bare asyncio server (fixed answer)")
        server = start_floor()
        try:
            results["floor"] = measure("floor", server, data, seconds, all_cells()[:4])
        finally:
            server.stop()
        say("in-process limit")
        results["limit"] = limit(data, seconds)
        for key, value in results["limit"].items():
            say(f"  limit    {key:6}: {value['rps']:8.0f} calls/s p50 {value['p50'] * 1e3:6.2f} ms")
        say("loopml (request log on)")
        server = start_loopml(folder / "project", deployments, log_requests=True)
        try:
            check("loopml", server, data)
            results["loopml"] = measure("loopml", server, data, seconds, all_cells())
            say(f"loopml: ~200 req/s while the alias moves ({seconds * 3:.0f} s)")
            results["alias_move"] = alias_move(
                folder / "project", server, data, max(4.0, seconds * 3)
            )
        finally:
            server.stop()
        say("loopml (request log off)")
        server = start_loopml(folder / "project", deployments, log_requests=False)
        try:
            cells = [(k, 1, c) for k in MODELS for c in CONCURRENCY]
            results["loopml_nolog"] = measure("loopml", server, data, seconds, cells)
        finally:
            server.stop()
        say("plain FastAPI")
        server = start_fastapi({key: folder / f"{key}.pkl" for key in MODELS})
        try:
            check("fastapi", server, data)
            results["fastapi"] = measure("fastapi", server, data, seconds, all_cells())
        finally:
            server.stop()
        if args.skip_mlflow:
            results["mlflow"] = None
        else:
            say("MLflow")
            results["mlflow"] = run_mlflow(folder, data, seconds)
    results["goals"] = goals(results)
    print_tables(results)
    stamp, path, note = results_file("serving", started)
    write_results(path, {"stamp": stamp, "machine": machine(), **results})
    print(f"  {note}")


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's goals, each with its value and whether it is met."""
    lim, ours, off = results["limit"], results["loopml"], results["loopml_nolog"]
    mlflow = results.get("mlflow") or {}
    out = []

    def add(text: str, value: float, met: bool, shown: str) -> None:
        out.append({"goal": text, "value": value, "shown": shown, "met": bool(met)})

    for key in MODELS:
        over = ours[f"{key}/1/c1"]["p50"] - lim[f"{key}/1"]["p50"]
        add(
            f"{LABELS[key]} 1 row c=1: p50 over in-process <= 0.5 ms",
            over,
            over <= 0.5e-3,
            f"+{over * 1e3:.2f} ms",
        )
    ratio = ours["rf/1/c8"]["rps"] / lim["rf/1"]["rps"]
    add(
        "RandomForest 1 row c=8: req/s >= 3x the 1-row in-process limit",
        ratio,
        ratio >= 3,
        f"{ratio:.2f}x",
    )
    if "rf/1/c8" in mlflow:
        ratio = ours["rf/1/c8"]["rps"] / mlflow["rf/1/c8"]["rps"]
        add("RandomForest 1 row c=8: req/s >= 10x MLflow", ratio, ratio >= 10, f"{ratio:.1f}x")
    for key in MODELS:
        best = max(ours[f"{key}/100/c{c}"]["rps"] for c in CONCURRENCY)
        ratio = best / lim[f"{key}/100"]["rps"]
        add(
            f"{LABELS[key]} 100 rows: req/s >= 0.9x the in-process limit",
            ratio,
            ratio >= 0.9,
            f"{ratio:.2f}x",
        )
    for key in MODELS:
        cost = 1 - ours[f"{key}/1/c8"]["rps"] / off[f"{key}/1/c8"]["rps"]
        add(
            f"{LABELS[key]} 1 row c=8: request log costs < 10% req/s",
            cost,
            cost < 0.10,
            f"{cost * 100:+.1f}%",
        )
    move = results["alias_move"]
    add(
        f"alias moved {move['moves']}x under {move['rps']:.0f} req/s: 0 failed requests",
        move["failures"],
        move["failures"] == 0 and move["moves"] > 0 and len(move["seen"]) == 2,
        f"{move['failures']} failed of {move['requests']}, versions {move['seen']}",
    )
    return out


def cell(result: dict[str, Any] | None) -> str:
    if not result:
        return "-"
    return f"{result['rps']:,.0f}/s  {result['p50'] * 1e3:.2f} | {result['p99'] * 1e3:.1f} ms"


def print_tables(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    mlflow = results.get("mlflow") or {}
    title = "Serving: requests/s, p50 | p99 latency (one worker each, loopback)"
    table = Table(title=title)
    for name in (
        "case",
        "client floor",
        "in-process limit",
        "loopml",
        "x limit",
        "FastAPI",
        f"MLflow {mlflow.get('version', '')}".strip(),
        "loopml / MLflow",
    ):
        table.add_column(name, justify="left" if name == "case" else "right")
    for key in MODELS:
        for rows in ROWS:
            for concurrency in CONCURRENCY:
                name = f"{key}/{rows}/c{concurrency}"
                ours, peer = results["loopml"].get(name), mlflow.get(name)
                base = results["limit"][f"{key}/{rows}"]
                table.add_row(
                    f"{LABELS[key]} {rows} row{'s' if rows > 1 else ''} c={concurrency}",
                    cell(results["floor"].get(f"lr/{rows}/c{concurrency}")),
                    cell(base),
                    cell(ours),
                    f"{ours['rps'] / base['rps']:.2f}x" if ours else "-",
                    cell(results["fastapi"].get(name)),
                    cell(peer),
                    f"{ours['rps'] / peer['rps']:.1f}x" if ours and peer else "-",
                )
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    extra = Table(title="loopml: request log off, and the goals")
    extra.add_column("case")
    extra.add_column("log off", justify="right")
    extra.add_column("log on", justify="right")
    for name, value in results["loopml_nolog"].items():
        extra.add_row(name, cell(value), cell(results["loopml"][name]))
    console.print(extra)
    verdicts = Table(title="Goals (issue 7)")
    verdicts.add_column("goal")
    verdicts.add_column("value", justify="right")
    verdicts.add_column("met", justify="center")
    for goal in results["goals"]:
        verdicts.add_row(
            goal["goal"], goal["shown"], "[green]yes[/]" if goal["met"] else "[red]NO[/]"
        )
    console.print(verdicts)
    if results.get("mlflow") is None:
        console.print("  MLflow skipped (--skip-mlflow).")
    elif "unavailable" in mlflow:
        console.print(f"  MLflow left out: {mlflow['unavailable']}")
    if any(math.isnan(v.get("p50", 0.0)) for v in results["loopml"].values()):
        console.print("  [red]some loopml cells completed no request[/]")


if __name__ == "__main__":
    main()
