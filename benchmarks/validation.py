"""Validation benchmark: NumPy/pyarrow and DuckDB (the limit), loopml, pandera, Great Expectations.

Run ``.venv/bin/python benchmarks/validation.py`` (``--quick`` for 100,000 rows,
``--skip-pandera``, ``--skip-gx``, ``--skip-evidently``, ``--repeat N``). Two
halves in one run, two tables:

* validation: one schema, inferred once by loopml from a reference batch, is
  checked on a 1,000,000 x 20 frame (and on a copy with anomalies in 5
  columns) by vectorised NumPy/pyarrow code, by one DuckDB query, by loopml's
  ``validate``, by pandera and by Great Expectations (each peer in its own
  virtualenv, reading the same data from Parquet), with the same checks;
  every system must flag the same columns. loopml's ``compute_statistics``
  is timed too, and loopml and DuckDB also on the Parquet file.
* drift: ``_validation_drift.run_drift`` (loopml, NumPy/scipy, Evidently).

The tables show the median of the repeats, each time's ratio to the limit,
and the goals loopml sets itself. Results are saved as JSON under
``benchmarks/results/``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _peers import PEERS, PeerError, ensure_peer, run_peer
from _report import (
    HERE,
    Columns,
    Row,
    Times,
    default_settings,
    evaluate,
    machine,
    peer_column,
    print_table,
    results_file,
    say,
    summarise,
    write_results,
)
from _validation_workload import (
    ANOMALIES,
    FULL,
    QUICK,
    REFERENCE_SEED,
    SEED,
    Sizes,
    check_spec,
    expected_flags,
    inject_anomalies,
    make_frame,
    same_data,
    sorted_names,
    timed,
)

Spec = dict[str, dict[str, Any]]
PARQUET_ROW_GROUP = 122_880  # DuckDB's own row group size: DuckDB reads row groups in parallel
GX_ENV = {"GX_ANALYTICS_ENABLED": "false"}
PEER_NAMES = {"pandera": "pandera", "gx": "Great Expectations"}
PEER_ENVS = {"pandera": "pandera", "gx": "great_expectations"}
PEER_SCRIPTS = {"pandera": "_validation_pandera.py", "gx": "_validation_gx.py"}
CHECK, CROSS = "\u2713", "\u2717"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows (drift: its quick size)")
    parser.add_argument("--skip-pandera", action="store_true", help="leave pandera out")
    parser.add_argument("--skip-gx", action="store_true", help="leave Great Expectations out")
    parser.add_argument("--skip-evidently", action="store_true", help="leave Evidently out (drift)")
    parser.add_argument(
        "--repeat",
        type=int,
        help="repeats per measurement, median shown (default 5; drift: its own default)",
    )
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


# --- the checks' outcome, the same shape for every system --------------------------------


def flagged(counts: dict[str, dict[str, int]], spec: Spec, rows: int) -> list[str]:
    """The columns that fail a check, from the counts of a limit implementation."""
    out = []
    for name, got in counts.items():
        share = got.get("missing", 0) / rows if rows else 0.0
        if (
            got.get("absent")
            or got.get("type")
            or share > spec[name]["max_missing"]
            or got.get("out_of_range")
            or got.get("out_of_domain")
        ):
            out.append(name)
    return sorted(out)


def loopml_flagged(report: Any) -> list[str]:
    """The columns loopml reports an anomaly for, at any severity."""
    return sorted_names(a.feature for a in report.anomalies if a.feature is not None)


# --- the limit (a): vectorised NumPy / pyarrow ------------------------------------------------


class NumpyLimit:
    """The tightest code for exactly these checks, the value sets built beforehand.

    Per column: present, dtype; numbers as the frame's own NumPy array
    (``np.isnan``, ``<``, ``>``, ``np.count_nonzero``); strings as the frame's
    Arrow array (``null_count``, ``pyarrow.compute.is_in`` then ``sum``).
    """

    def __init__(self, spec: Spec) -> None:
        import pyarrow as pa

        self.spec = spec
        self.value_sets = {
            name: pa.array(check["domain"], pa.large_string())
            for name, check in spec.items()
            if check["domain"] is not None
        }

    def __call__(self, frame: Any) -> dict[str, dict[str, int]]:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        counts: dict[str, dict[str, int]] = {}
        present = set(frame.columns)
        for name, check in self.spec.items():
            if name not in present:
                counts[name] = {"absent": 1}
                continue
            series = frame[name]
            if str(series.dtype) != check["dtype"]:
                counts[name] = {"type": 1}
                continue
            if check["domain"] is None:
                x = series.to_numpy()
                missing = int(np.count_nonzero(np.isnan(x))) if x.dtype.kind == "f" else 0
                outside = 0
                if check["min"] is not None:
                    outside += int(np.count_nonzero(x < check["min"]))
                if check["max"] is not None:
                    outside += int(np.count_nonzero(x > check["max"]))
                counts[name] = {"missing": missing, "out_of_range": outside}
            else:
                array = pa.array(series)
                value_set = self.value_sets[name]
                if array.type != value_set.type:
                    value_set = value_set.cast(array.type)
                inside = pc.sum(pc.is_in(array, value_set=value_set)).as_py() or 0
                missing = array.null_count
                counts[name] = {"missing": missing, "out_of_domain": len(array) - missing - inside}
        return counts


# --- the limit (b): one DuckDB query -----------------------------------------------------------

DUCKDB_TYPES = {"float": "DOUBLE", "int": "BIGINT", "string": "VARCHAR"}


def _literal(value: Any, kind: str) -> str:
    return f"CAST({value!r} AS DOUBLE)" if kind == "float" else repr(int(value))


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def duckdb_checks(
    connection: Any, source: str, spec: Spec
) -> tuple[int, dict[str, dict[str, int]]]:
    """The checks as one query over ``source``, after its column names and types.

    Returns:
        (rows, counts per column) as :class:`NumpyLimit` gives them.
    """
    described = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    types = {str(row[0]): str(row[1]) for row in described}
    counts: dict[str, dict[str, int]] = {}
    parts, keys = ["count(*)"], []
    for name, check in spec.items():
        if name not in types:
            counts[name] = {"absent": 1}
            continue
        if types[name] != DUCKDB_TYPES[check["type"]]:
            counts[name] = {"type": 1}
            continue
        column = '"' + name.replace('"', '""') + '"'
        parts.append(f"count(*) - count({column})")  # a frame's NaN is NULL to DuckDB
        keys.append((name, "missing"))
        if check["domain"] is not None:
            values = ", ".join(_text(v) for v in check["domain"])
            parts.append(f"count(*) FILTER (WHERE {column} NOT IN ({values}))")
            keys.append((name, "out_of_domain"))
            continue
        bounds = []
        if check["min"] is not None:
            bounds.append(f"{column} < {_literal(check['min'], check['type'])}")
        if check["max"] is not None:
            bounds.append(f"{column} > {_literal(check['max'], check['type'])}")
        if bounds:
            parts.append(f"count(*) FILTER (WHERE {' OR '.join(bounds)})")
            keys.append((name, "out_of_range"))
    row = connection.execute(f"SELECT {', '.join(parts)} FROM {source}").fetchall()[0]
    for (name, kind), value in zip(keys, row[1:], strict=True):
        counts.setdefault(name, {})[kind] = int(value)
    return int(row[0]), counts


class DuckdbLimit:
    """:func:`duckdb_checks` over a frame (registered in the timing) or a Parquet file."""

    def __init__(self, spec: Spec) -> None:
        import duckdb

        self.spec = spec
        self.connection = duckdb.connect()  # default threads: one per core, as loopml's

    def frame(self, frame: Any) -> tuple[int, dict[str, dict[str, int]]]:
        self.connection.register("frame", frame)
        try:
            return duckdb_checks(self.connection, "frame", self.spec)
        finally:
            self.connection.unregister("frame")

    def parquet(self, path: Path) -> tuple[int, dict[str, dict[str, int]]]:
        return duckdb_checks(self.connection, f"read_parquet({_text(str(path))})", self.spec)

    def close(self) -> None:
        self.connection.close()


# --- the measurements ----------------------------------------------------------------------------


@dataclasses.dataclass
class Data:
    """Everything the systems share, built untimed."""

    rows: int
    schema: Any
    spec: Spec
    frames: dict[str, Any]  # "clean", "anomalous"
    parquet: dict[str, Path]
    statistics_seconds: float


def prepare(sizes: Sizes, folder: Path) -> Data:
    from loopml.validation import compute_statistics, infer_schema

    say(f"  frames of {sizes.rows:,} rows x 20 columns (reference, current) ...")
    reference = make_frame(sizes.rows, REFERENCE_SEED)
    clean = make_frame(sizes.rows, SEED)
    say("  schema: loopml's compute_statistics + infer_schema on the reference (once) ...")
    start = time.perf_counter()
    schema = infer_schema(compute_statistics(reference))
    seconds = time.perf_counter() - start
    del reference
    spec = check_spec(schema.to_dict())
    anomalous = inject_anomalies(clean, spec)
    frames = {"clean": clean, "anomalous": anomalous}
    parquet = {}
    for kind, frame in frames.items():
        parquet[kind] = folder / f"{kind}.parquet"
        frame.to_parquet(parquet[kind], index=False, row_group_size=PARQUET_ROW_GROUP)
    return Data(sizes.rows, schema, spec, frames, parquet, seconds)


def agreement(data: Data, limit: NumpyLimit, duck: DuckdbLimit) -> dict[str, dict[str, list[str]]]:
    """What each local system flags on both frames (the untimed warm-up run, too)."""
    from loopml.validation import validate

    got: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for kind, frame in data.frames.items():
        got["NumPy/pyarrow"][kind] = flagged(limit(frame), data.spec, data.rows)
        rows, counts = duck.frame(frame)
        got["DuckDB"][kind] = flagged(counts, data.spec, rows)
        rows, counts = duck.parquet(data.parquet[kind])
        got["DuckDB, Parquet"][kind] = flagged(counts, data.spec, rows)
        got["loopml"][kind] = loopml_flagged(validate(frame, data.schema))
        got["loopml, Parquet"][kind] = loopml_flagged(validate(data.parquet[kind], data.schema))
    expected = {"clean": [], "anomalous": expected_flags()}
    for system in ("NumPy/pyarrow", "DuckDB", "DuckDB, Parquet"):
        if got[system] != expected:
            raise SystemExit(
                f"the limit ({system}) flags {got[system]}, expected {expected}: "
                "the benchmark is wrong"
            )
    return dict(got)


def bench_local(data: Data, sizes: Sizes, limit: NumpyLimit, duck: DuckdbLimit) -> dict[str, Times]:
    """Every local measurement, interleaved, ``sizes.repeat`` times."""
    from loopml.validation import compute_statistics, infer_schema, validate

    samples: dict[str, Times] = {
        "numpy": defaultdict(list),
        "duckdb": defaultdict(list),
        "loopml": defaultdict(list),
    }

    def record(system: str, key: str, function: Callable[[], Any]) -> Any:
        seconds, value = timed(function)
        samples[system][key].append(seconds)
        return value

    for index in range(sizes.repeat):
        say(f"  validation, repeat {index + 1}/{sizes.repeat}")
        for kind, frame in data.frames.items():
            record("numpy", f"validate_{kind}", lambda f=frame: limit(f))
            record("duckdb", f"validate_{kind}", lambda f=frame: duck.frame(f))
            record("loopml", f"validate_{kind}", lambda f=frame: validate(f, data.schema))
        path = data.parquet["clean"]
        record("duckdb", "parquet_validate", lambda p=path: duck.parquet(p))
        record("loopml", "parquet_validate", lambda p=path: validate(p, data.schema))
        clean = data.frames["clean"]
        statistics = record("loopml", "statistics_frame", lambda f=clean: compute_statistics(f))
        record("loopml", "statistics_parquet", lambda p=path: compute_statistics(p))
        record(
            "loopml",
            "statistics_validate",
            lambda f=clean: (compute_statistics(f), validate(f, data.schema)),
        )
        record("loopml", "infer_schema", lambda s=statistics: infer_schema(s))
    return samples


def bench_peer(key: str, data: Data, sizes: Sizes) -> dict[str, Any]:
    name = PEER_NAMES[key]
    try:
        ensure_peer(PEER_ENVS[key], log=say)
    except PeerError as error:
        say(f"{name} left out: {error}")
        return {"unavailable": str(error)}
    config = {
        "clean": str(data.parquet["clean"]),
        "anomalous": str(data.parquet["anomalous"]),
        "spec": data.spec,
        "data": {kind: same_data(frame) for kind, frame in data.frames.items()},
        "repeat": sizes.repeat,
    }
    try:
        return run_peer(
            PEER_ENVS[key],
            HERE / PEER_SCRIPTS[key],
            config,
            env=GX_ENV if key == "gx" else None,
            cwd=data.parquet["clean"].parent,
        )
    except PeerError as error:
        say(f"{name} left out: {error}")
        return {"unavailable": str(error)}


# --- the validation table ---------------------------------------------------------------------


def table_values(medians: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The limit, loopml and peer columns, row by row."""
    numpy, duck, loopml = medians["numpy"], medians["duckdb"], medians["loopml"]
    limit: dict[str, float] = {}
    ours: dict[str, float] = {}
    peer: dict[str, float] = {}
    for kind in ("clean", "anomalous"):
        key = f"validate_{kind}"
        for system in ("pandera", "gx"):
            limit[f"{kind}_{system}"] = numpy[key]
            ours[f"{kind}_{system}"] = loopml[key]
            if key in medians.get(system, {}):
                peer[f"{kind}_{system}"] = medians[system][key]
        limit[f"{kind}_duckdb"] = duck[key]
        ours[f"{kind}_duckdb"] = loopml[key]
    for system in ("pandera", "gx"):
        if "validate_clean" in medians.get(system, {}):
            ours[f"speedup_{system}"] = medians[system]["validate_clean"] / loopml["validate_clean"]
    limit["parquet_validate"] = duck["parquet_validate"]
    for key in (
        "parquet_validate",
        "statistics_frame",
        "statistics_parquet",
        "statistics_validate",
        "infer_schema",
    ):
        ours[key] = loopml[key]
    return {"limit": limit, "loopml": ours, "peer": peer}


def rows_for(sizes: Sizes, versions: dict[str, str]) -> list[Row]:
    shape = f"{sizes.rows:,} x 20"
    pandera = f"pandera {versions.get('pandera', '')}".strip()
    gx = f"Great Expectations {versions.get('gx', '')}".strip()
    return [
        Row(
            "clean_pandera",
            f"validate the frame ({shape}); peer: {pandera}",
            goal=lambda v, limit: v <= 1.3 * limit,
            goal_text="<= 1.3x NumPy",
        ),
        Row("clean_gx", f"  the same; peer: {gx}"),
        Row("clean_duckdb", "  the same; limit: one DuckDB query over the frame"),
        Row(
            "speedup_gx",
            "  Great Expectations time / loopml time",
            ratio=False,
            speedup=True,
            goal=lambda v, _: v >= 7,
            goal_text=">= 7x",
        ),
        Row("speedup_pandera", "  pandera time / loopml time", ratio=False, speedup=True),
        Row("anomalous_pandera", f"validate with {len(ANOMALIES)} bad columns; peer: {pandera}"),
        Row("anomalous_gx", f"  the same; peer: {gx}"),
        Row("anomalous_duckdb", "  the same; limit: one DuckDB query over the frame"),
        Row("parquet_validate", "validate the Parquet file; limit: one DuckDB query on it"),
        Row("statistics_frame", "compute_statistics of the frame", ratio=False),
        Row("statistics_parquet", "compute_statistics of the Parquet file", ratio=False),
        Row("statistics_validate", "compute_statistics + validate, the frame", ratio=False),
        Row("infer_schema", "infer_schema from the statistics", ratio=False),
    ]


def agreement_notes(found: dict[str, dict[str, list[str]]]) -> tuple[list[str], bool]:
    """One line per frame with a check mark per system, and whether all agree."""
    expected = {"clean": [], "anomalous": expected_flags()}
    notes, everyone = [], True
    for kind, title in (("clean", "the clean frame"), ("anomalous", "the frame with anomalies")):
        marks = []
        for system, got in found.items():
            ok = got.get(kind) == expected[kind]
            everyone &= ok
            wrong = ", ".join(got.get(kind) or []) or "none"
            marks.append(f"{system} {CHECK}" if ok else f"{system} {CROSS} (flags: {wrong})")
        flags = ", ".join(expected[kind]) or "none"
        notes.append(f"flagged columns on {title} (expected: {flags}): {'  '.join(marks)}")
    return notes, everyone


def validation_notes(data: Data, peers: dict[str, dict[str, Any] | None]) -> list[str]:
    notes = [
        "limit: NumPy/pyarrow (np.isnan and comparisons on series.to_numpy(), pyarrow.compute."
        "is_in on the Arrow strings, value sets built beforehand) unless the row says DuckDB "
        "(one query: DESCRIBE for presence and types, then count(*) FILTER per check; "
        "DuckDB's default threads).",
        "loopml: validate(data, schema) with the schema inferred once by loopml from a reference "
        f"batch (compute_statistics + infer_schema, {data.statistics_seconds:.2f} s, untimed); "
        "every system checks the same: presence, dtype, missing share <= max_missing, "
        "numbers between min and max, strings in the domain.",
        f"Parquet files: written by pandas/pyarrow with row groups of {PARQUET_ROW_GROUP:,} rows; "
        "the peers read them untimed and time only the validate call.",
    ]
    for key, result in peers.items():
        name = PEER_NAMES[key]
        if result is None:
            notes.append(f"{name} skipped (--skip-{key}).")
        elif "unavailable" in result:
            notes.append(f"{name} left out: {result['unavailable']}")
        else:
            extra = "; ".join(result.get("notes", {}).values())
            notes.append(f"{name} {result['version']}: {extra}.")
    return notes


# --- the drift half ------------------------------------------------------------------------------


def run_drift_half(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """(the drift module or None, its outcome or ``{"unavailable": why}``)."""
    try:
        import _validation_drift as drift
    except ImportError as error:
        return None, {"unavailable": f"benchmarks/_validation_drift.py cannot be imported: {error}"}
    try:
        outcome = drift.run_drift(args.quick, args.repeat, evidently=not args.skip_evidently)
    except SystemExit as error:  # a disagreement: say it, keep the validation table
        return drift, {"unavailable": f"the drift half stopped: {error}"}
    except Exception as error:  # the validation half must still print
        return drift, {"unavailable": f"the drift half failed: {type(error).__name__}: {error}"}
    return drift, outcome


def print_drift(drift: Any, outcome: dict[str, Any]) -> None:
    if drift is None or "unavailable" in outcome:
        print(f"\nDrift: not measured: {outcome.get('unavailable')}")
        return
    sizes = drift.DriftSizes(**outcome["sizes"])
    medians = outcome["medians"]
    print()
    print_table(
        Columns(
            title=f"Drift, median of {sizes.repeat}",
            limit="NumPy/scipy",
            ratio="x NumPy",
            peer=peer_column("Evidently", outcome.get("evidently")),
            width=150,
        ),
        drift.rows(sizes),
        medians["limit"],
        medians["loopml"],
        medians.get("evidently", {}),
        outcome["goals"],
        outcome["notes"],
    )


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    default_settings()
    sizes = QUICK if args.quick else FULL
    if args.repeat is not None:
        sizes = dataclasses.replace(sizes, repeat=args.repeat)
    started = time.time()
    load_before = os.getloadavg()[0]
    say(f"validation benchmark: {sizes.to_dict()}")
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        data = prepare(sizes, Path(tmp))
        limit, duck = NumpyLimit(data.spec), DuckdbLimit(data.spec)
        try:
            say("  agreement on both frames (also the untimed warm-up) ...")
            found = agreement(data, limit, duck)
            samples = bench_local(data, sizes, limit, duck)
        finally:
            duck.close()
        peers: dict[str, dict[str, Any] | None] = {}
        for key in ("pandera", "gx"):
            if getattr(args, f"skip_{key}"):
                peers[key] = None
                continue
            name = PEER_NAMES[key]
            say(f"{name} ({' '.join(PEERS[PEER_ENVS[key]])}, own virtualenv) ...")
            peers[key] = result = bench_peer(key, data, sizes)
            if result and "times" in result:
                samples[key] = defaultdict(list, result["times"])
                found[name] = result["flagged"]

    say("drift ...")
    drift, drift_outcome = run_drift_half(args)

    medians = {system: summarise(times) for system, times in samples.items()}
    values = table_values(medians)
    versions = {k: r["version"] for k, r in peers.items() if r and "version" in r}
    rows = rows_for(sizes, versions)
    goals = evaluate(rows, values["loopml"], values["limit"], limit_key="limit")
    agree_notes, everyone_agrees = agreement_notes(found)
    notes = [*agree_notes, *validation_notes(data, peers)]
    load_after = os.getloadavg()[0]
    notes.append(
        f"load average (1 min) {load_before:.2f} before, {load_after:.2f} after, "
        f"on {os.cpu_count()} CPUs."
    )
    stamp, path, saved = results_file("validation", started)
    notes.append(saved)
    print_table(
        Columns(
            title=f"Validation, median of {sizes.repeat}",
            limit="limit",
            ratio="x limit",
            peer="peer",
            width=170,
        ),
        rows,
        values["limit"],
        values["loopml"],
        values["peer"],
        goals,
        notes,
    )
    print_drift(drift, drift_outcome)

    document = {
        "benchmark": "validation",
        "when": stamp,
        "quick": args.quick,
        "sizes": sizes.to_dict(),
        "machine": machine(load_average={"before": load_before, "after": load_after}),
        "schema": data.schema.to_dict(),
        "anomalies": ANOMALIES,
        "flagged": found,
        "agree": everyone_agrees,
        "values": values,
        "medians": medians,
        "samples": samples,
        "goals": goals,
        "notes": notes,
        "peers": peers,
        "drift": drift_outcome,
    }
    write_results(path, document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
