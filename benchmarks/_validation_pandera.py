"""The validation workload on pandera, run inside pandera's own virtualenv by ``validation.py``.

Reads ``{"clean", "anomalous", "spec", "data", "repeat"}`` as JSON on stdin:
the two Parquet files ``validation.py`` wrote, the checks
(``_validation_workload.check_spec``), what each frame must look like once
read, and the repeats. Builds one ``pandera.pandas.DataFrameSchema`` with the
same checks (column present with its dtype; ``nullable`` and a missing-share
check; ``Check.in_range``; ``Check.isin``), reads both files (untimed), and
times only ``schema.validate(frame, lazy=True)``: lazy, so that every failure
is collected, as loopml reports every anomaly. Reports progress on stderr and
prints ``{"version", "times", "flagged", "notes"}`` as JSON on the last line
of stdout. Never imports loopml.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from typing import Any

from _validation_workload import same_data, sorted_names


def say(text: str) -> None:
    print(f"  [pandera] {text}", file=sys.stderr, flush=True)


def build_schema(spec: dict[str, dict[str, Any]]) -> Any:
    import pandera.pandas as pa

    columns = {}
    for name, check in spec.items():
        checks = []
        bound = check["max_missing"]
        if bound > 0:
            checks.append(
                pa.Check(
                    lambda series, bound=bound: float(series.isna().mean()) <= bound,
                    element_wise=False,
                    ignore_na=False,  # the check sees the missing values
                    name="max_missing",
                    error=f"missing share above {bound}",
                )
            )
        low, high = check["min"], check["max"]
        if low is not None and high is not None:
            checks.append(pa.Check.in_range(low, high))
        elif low is not None:
            checks.append(pa.Check.ge(low))
        elif high is not None:
            checks.append(pa.Check.le(high))
        if check["domain"] is not None:
            checks.append(pa.Check.isin(check["domain"]))
        columns[name] = pa.Column(check["dtype"], checks, nullable=bound > 0, required=True)
    return pa.DataFrameSchema(columns)


def validate(schema: Any, frame: Any) -> list[str]:
    """The columns with a failure (none when the frame passes)."""
    import pandera.errors

    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        # A missing column is reported by the frame's schema: its name is the failure case.
        columns = [
            case if column is None or column != column else column
            for column, case in zip(cases["column"], cases["failure_case"], strict=True)
        ]
        return sorted_names(columns)
    return []


def main() -> None:
    config = json.load(sys.stdin)
    import pandas as pd
    import pandera

    times: dict[str, list[float]] = defaultdict(list)
    notes: dict[str, str] = {}
    frames = {kind: pd.read_parquet(config[kind]) for kind in ("clean", "anomalous")}
    for kind, frame in frames.items():
        if same_data(frame) != config["data"][kind]:
            raise SystemExit(f"pandera: the {kind} frame read from Parquet is not the one written")
    start = time.perf_counter()
    schema = build_schema(config["spec"])
    notes["build"] = f"building the DataFrameSchema: {(time.perf_counter() - start) * 1e3:.1f} ms"
    flagged = {kind: validate(schema, frame) for kind, frame in frames.items()}  # warm-up
    repeat = int(config["repeat"])
    for index in range(repeat):
        say(f"validate, repeat {index + 1}/{repeat}")
        for kind, frame in frames.items():
            start = time.perf_counter()
            got = validate(schema, frame)
            times[f"validate_{kind}"].append(time.perf_counter() - start)
            if got != flagged[kind]:
                raise SystemExit(f"pandera: {kind} frame flagged {got}, then {flagged[kind]}")
    print(
        json.dumps(
            {"version": pandera.__version__, "times": times, "flagged": flagged, "notes": notes}
        )
    )


if __name__ == "__main__":
    main()
