"""The drift workload on Evidently, run in Evidently's own virtualenv by ``_validation_drift.py``.

Reads ``{"folder", "repeat"}`` as JSON on stdin; the folder holds
``reference.parquet`` and ``current.parquet`` (read untimed). Times
``Report([DataDriftPreset()]).run(current, reference)`` (Evidently has no
separate fit: the whole run counts as fit + score), reports progress on
stderr and prints ``{"version", "times", "drifted"}`` as JSON on the last line
of stdout. Never imports loopml.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def say(text: str) -> None:
    print(f"  [evidently] {text}", file=sys.stderr, flush=True)


def drifted_columns(report: dict) -> list[str]:  # type: ignore[type-arg]
    """Columns whose ValueDrift value crosses its threshold (p-values below, distances above)."""
    found = []
    for metric in report["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        value, threshold = metric["value"], config["threshold"]
        # Evidently's rule: a p-value drifts below its threshold, a distance at or above it.
        drifted = value < threshold if "p_value" in config["method"] else value >= threshold
        if drifted:
            found.append(config["column"])
    return sorted(found)


def main() -> None:
    config = json.load(sys.stdin)
    import evidently
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    folder = Path(config["folder"])
    reference = pd.read_parquet(folder / "reference.parquet")
    current = pd.read_parquet(folder / "current.parquet")
    times: dict[str, list[float]] = {"fit_score": []}
    snapshot = None
    for index in range(int(config["repeat"])):
        say(f"DataDriftPreset, repeat {index + 1}/{config['repeat']}")
        start = time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
        times["fit_score"].append(time.perf_counter() - start)
    drifted = drifted_columns(snapshot.dict()) if snapshot is not None else []
    print(json.dumps({"version": evidently.__version__, "times": times, "drifted": drifted}))


if __name__ == "__main__":
    main()
