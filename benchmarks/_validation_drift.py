"""The drift part of the validation benchmark: loopml, NumPy/scipy alone (the limit), Evidently.

``run_drift(quick, repeat)`` builds a seeded reference and current batch
(100,000 rows x 20 columns: 12 numeric, 8 categorical; 5 columns drift),
times each system on the same pandas frames, checks that loopml flags
exactly the columns scipy flags (and that those are the 5 drifted ones), and
returns a JSON-safe dict: ``sizes``, ``samples``, ``medians``, ``goals``,
``drifted``, ``notes``, ``evidently``. ``rows()`` gives the table's rows for
``_report.print_table``. Run this file alone to print the drift table only.

The verdict rule is the same everywhere: a feature drifts when its test is
significant (KS or chi-square p < 0.05) and the change is material
(Wasserstein / reference std >= 0.1, or Jensen-Shannon distance >= 0.1).
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from _peers import PeerError, ensure_peer, run_peer
from _report import HERE, Row, Times, evaluate, say, summarise

ALPHA, THRESHOLD = 0.05, 0.1
NUMERIC, CATEGORICAL = 12, 8
DRIFTED = ("num_0", "num_1", "num_2", "cat_0", "cat_1")


@dataclasses.dataclass(frozen=True)
class DriftSizes:
    rows: int
    repeat: int


FULL = DriftSizes(rows=100_000, repeat=3)
QUICK = DriftSizes(rows=20_000, repeat=2)


# --- data --------------------------------------------------------------------------------------


def make_frames(rows: int, seed: int = 0) -> tuple[Any, Any]:
    """Reference and current frames; ``DRIFTED`` columns change, the others do not."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    reference, current = {}, {}
    for i in range(NUMERIC):
        reference[f"num_{i}"], current[f"num_{i}"] = _numeric_pair(rng, i, rows)
    for i in range(CATEGORICAL):
        reference[f"cat_{i}"], current[f"cat_{i}"] = _categorical_pair(rng, i, rows)
    return pd.DataFrame(reference), pd.DataFrame(current)


def _numeric_pair(rng: Any, i: int, rows: int) -> tuple[Any, Any]:
    import numpy as np

    draw = [
        lambda loc, scale: rng.normal(loc, scale, rows),
        lambda loc, scale: loc + rng.exponential(scale, rows),
        lambda loc, scale: np.round(rng.normal(loc, scale, rows) * 3).astype(float),  # ties
    ][i % 3]
    loc, scale = (
        (0.5, 1.0) if i == 0 else (0.0, 1.6) if i == 1 else (0.4, 1.0) if i == 2 else (0.0, 1.0)
    )
    ref, cur = draw(0.0, 1.0), draw(loc, scale)
    if i % 4 == 3:  # some missing values
        ref[rng.random(rows) < 0.05] = np.nan
        cur[rng.random(rows) < 0.05] = np.nan
    return ref, cur


def _categorical_pair(rng: Any, i: int, rows: int) -> tuple[Any, Any]:
    import numpy as np

    k = (4, 12, 30, 6)[i % 4]
    labels = np.array([f"c{i}_{j}" for j in range(k)], dtype=object)
    p = rng.dirichlet(np.full(k, 2.0))
    q = p[::-1].copy() if i < 2 else p  # reversing the probabilities: a large shift
    return rng.choice(labels, rows, p=p), rng.choice(labels, rows, p=q)


# --- the limit: scipy per column ---------------------------------------------------------------


def scipy_drift(reference: Any, current: Any, *, wasserstein: bool = True) -> list[str]:
    """Per column: ks_2samp + wasserstein_distance, or value counts + jensenshannon + chi2.

    ``wasserstein=False`` leaves the effect size of numbers out (so not the
    same verdict): the floor of the tests alone, reported in a note.
    """
    import numpy as np
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    drifted = []
    for name in reference.columns:
        ref, cur = reference[name], current[name]
        if ref.dtype.kind == "f":
            a, b = ref.to_numpy(), cur.to_numpy()
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            pvalue = stats.ks_2samp(a, b).pvalue
            effect = stats.wasserstein_distance(a, b) / a.std() if wasserstein else np.inf
        else:
            counts = (
                ref.value_counts()
                .to_frame("ref")
                .join(cur.value_counts().rename("cur"), how="outer")
            )
            table = counts.fillna(0).to_numpy().T
            pvalue = stats.chi2_contingency(table).pvalue
            effect = jensenshannon(table[0], table[1], base=2)
        if pvalue < ALPHA and effect >= THRESHOLD:
            drifted.append(name)
    return drifted


# --- runs ----------------------------------------------------------------------------------------


def timed(function: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def bench_limit(reference: Any, current: Any, repeat: int) -> tuple[Times, list[str]]:
    times: Times = defaultdict(list)
    drifted: list[str] = []
    for _ in range(repeat):
        elapsed, drifted = timed(lambda: scipy_drift(reference, current))
        times["fit_score"].append(elapsed)
        elapsed, _ = timed(lambda: scipy_drift(reference, current, wasserstein=False))
        times["tests_only"].append(elapsed)
    return times, drifted


def bench_loopml(reference: Any, current: Any, repeat: int) -> tuple[Times, list[str]]:
    from loopml.validation.drift import DriftDetector

    times: Times = defaultdict(list)
    report = None
    for _ in range(repeat):
        fit, detector = timed(lambda: DriftDetector().fit(reference))
        score, report = timed(lambda: detector.score(current))  # noqa: B023 - called at once
        times["fit"].append(fit)
        times["score"].append(score)
        times["fit_score"].append(fit + score)
    return times, list(report.drifted) if report else []


def bench_evidently(reference: Any, current: Any, repeat: int) -> dict[str, Any]:
    try:
        ensure_peer("evidently", log=say)
    except PeerError as error:
        say(f"Evidently left out: {error}")
        return {"unavailable": str(error)}
    with tempfile.TemporaryDirectory(prefix="bench-evidently-") as tmp:
        reference.to_parquet(Path(tmp) / "reference.parquet")
        current.to_parquet(Path(tmp) / "current.parquet")
        config = {"folder": tmp, "repeat": repeat}
        try:
            return run_peer("evidently", HERE / "_validation_evidently.py", config, cwd=Path(tmp))
        except PeerError as error:
            say(f"Evidently left out: {error}")
            return {"unavailable": str(error)}


def rows(sizes: DriftSizes = FULL) -> list[Row]:
    """The drift rows of the benchmark table."""
    shape = f"{sizes.rows:,} x {NUMERIC + CATEGORICAL}"
    return [
        Row("fit", f"drift {shape}: fit on the reference", ratio=False),
        Row("score", f"drift {shape}: score the current batch", ratio=False),
        Row(
            "fit_score",
            f"drift {shape}: fit + score ({len(DRIFTED)} drifted columns)",
            goal=lambda v, limit: v <= 2 * limit,
            goal_text="<= 2x NumPy/scipy",
        ),
        Row(
            "evidently_speedup",
            "drift: Evidently time / loopml time",
            ratio=False,
            speedup=True,
            goal=lambda v, _: v >= 30,
            goal_text=">= 30x",
        ),
    ]


def run_drift(quick: bool, repeat: int | None = None, *, evidently: bool = True) -> dict[str, Any]:
    """Time the three systems on the same data; see the module docstring.

    Raises:
        SystemExit: if loopml and scipy disagree on the drifted columns.
    """
    sizes = QUICK if quick else FULL
    if repeat is not None:
        sizes = dataclasses.replace(sizes, repeat=repeat)
    say(f"drift: {sizes.rows:,} rows x {NUMERIC + CATEGORICAL} columns, repeat {sizes.repeat}")
    reference, current = make_frames(sizes.rows)
    # Imports and first-call costs stay out of the timings.
    scipy_drift(reference.head(1000), current.head(1000))
    bench_loopml(reference.head(1000), current.head(1000), 1)
    say("  [numpy/scipy] ...")
    limit_times, limit_drifted = bench_limit(reference, current, sizes.repeat)
    say("  [loopml] ...")
    loopml_times, loopml_drifted = bench_loopml(reference, current, sizes.repeat)
    check(loopml_drifted, limit_drifted)
    peer = None
    if evidently:
        say("  [evidently] (own virtualenv) ...")
        peer = bench_evidently(reference, current, sizes.repeat)
    return result(sizes, limit_times, loopml_times, peer, loopml_drifted)


def check(loopml: list[str], limit: list[str]) -> None:
    if sorted(loopml) != sorted(limit) or sorted(limit) != sorted(DRIFTED):
        raise SystemExit(
            f"drift: loopml flags {sorted(loopml)}, scipy {sorted(limit)}, "
            f"expected {sorted(DRIFTED)}: the benchmark or loopml is wrong"
        )


def result(
    sizes: DriftSizes, limit: Times, loopml: Times, peer: dict[str, Any] | None, drifted: list[str]
) -> dict[str, Any]:
    medians = {"limit": summarise(limit), "loopml": summarise(loopml)}
    notes = [
        "drift limit: per column scipy.stats.ks_2samp + wasserstein_distance (numbers), "
        "pandas value_counts + jensenshannon + chi2_contingency (categories); same verdict rule.",
        f"drift: loopml and scipy both flag {', '.join(sorted(drifted))}.",
        f"drift: scipy without wasserstein_distance (the tests alone, not the same verdict): "
        f"{medians['limit']['tests_only'] * 1e3:.1f} ms.",
    ]
    if peer and "times" in peer:
        medians["evidently"] = summarise(peer["times"])
        medians["loopml"]["evidently_speedup"] = (
            medians["evidently"]["fit_score"] / medians["loopml"]["fit_score"]
        )
        notes.append(f"Evidently {peer['version']} DataDriftPreset flags {peer['drifted']}.")
    elif peer:
        notes.append(f"Evidently left out: {peer.get('unavailable')}")
    return {
        "sizes": dataclasses.asdict(sizes),
        "samples": {"limit": limit, "loopml": loopml},
        "medians": medians,
        "goals": evaluate(rows(sizes), medians["loopml"], medians["limit"], limit_key="limit"),
        "drifted": sorted(drifted),
        "notes": notes,
        "evidently": peer,
    }


def main(argv: list[str] | None = None) -> int:
    from _report import Columns, default_settings, print_table

    args = argv if argv is not None else sys.argv[1:]
    default_settings()
    outcome = run_drift("--quick" in args, evidently="--skip-evidently" not in args)
    sizes = DriftSizes(**outcome["sizes"])
    print_table(
        Columns(
            title=f"Drift, median of {sizes.repeat}",
            limit="NumPy/scipy",
            ratio="x NumPy",
            peer="Evidently",
            width=150,
        ),
        rows(sizes),
        outcome["medians"]["limit"],
        outcome["medians"]["loopml"],
        outcome["medians"].get("evidently", {}),
        outcome["goals"],
        outcome["notes"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
