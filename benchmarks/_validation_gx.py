"""The validation workload on Great Expectations, in its own virtualenv, run by ``validation.py``.

Reads ``{"clean", "anomalous", "spec", "data", "repeat"}`` as JSON on stdin
(see ``_validation_pandera.py``). Builds an ephemeral Great Expectations 1.x
context with a pandas data source, a whole-dataframe batch definition and an
expectation suite with the same checks (``ExpectColumnToExist``,
``ExpectColumnValuesToBeOfType``, ``ExpectColumnValuesToNotBeNull`` with
``mostly = 1 - max_missing``, ``ExpectColumnValuesToBeBetween``,
``ExpectColumnValuesToBeInSet``), reads both files (untimed), and times only
``batch.validate(suite)`` (the default ``BASIC`` result format) on a batch
got untimed. Progress bars and analytics are off. Reports progress on stderr
and prints ``{"version", "times", "flagged", "notes"}`` as JSON on the last
line of stdout. Never imports loopml.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import defaultdict
from typing import Any

from _validation_workload import same_data, sorted_names

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def say(text: str) -> None:
    print(f"  [gx] {text}", file=sys.stderr, flush=True)


def expectations(spec: dict[str, dict[str, Any]]) -> list[Any]:
    import great_expectations.expectations as gxe

    out: list[Any] = []
    for name, check in spec.items():
        out.append(gxe.ExpectColumnToExist(column=name))
        out.append(gxe.ExpectColumnValuesToBeOfType(column=name, type_=check["dtype"]))
        bound = check["max_missing"]
        if bound > 0:
            out.append(gxe.ExpectColumnValuesToNotBeNull(column=name, mostly=1.0 - bound))
        else:
            out.append(gxe.ExpectColumnValuesToNotBeNull(column=name))
        if check["min"] is not None or check["max"] is not None:
            out.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=name, min_value=check["min"], max_value=check["max"]
                )
            )
        if check["domain"] is not None:
            out.append(gxe.ExpectColumnValuesToBeInSet(column=name, value_set=check["domain"]))
    return out


def setup(spec: dict[str, dict[str, Any]]) -> tuple[Any, Any]:
    """(batch definition, suite) in a fresh ephemeral context."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except (ImportError, AttributeError, TypeError):
        pass  # progress bars on stderr only
    source = context.data_sources.add_pandas("bench")
    asset = source.add_dataframe_asset("frame")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(gx.ExpectationSuite(name="bench"))
    for expectation in expectations(spec):
        suite.add_expectation(expectation)
    return batch_definition, suite


def flagged_columns(result: Any) -> tuple[list[str], list[str]]:
    """(columns with a failed expectation, the expectations that raised instead)."""
    failed, raised = [], []
    for outcome in result.results:
        if outcome.success:
            continue
        column = outcome.expectation_config.kwargs.get("column")
        failed.append(column)
        info = outcome.exception_info or {}
        if info.get("raised_exception"):
            raised.append(f"{outcome.expectation_config.type}({column})")
    return sorted_names(failed), raised


def main() -> None:
    config = json.load(sys.stdin)
    import great_expectations as gx
    import pandas as pd

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    times: dict[str, list[float]] = defaultdict(list)
    notes: dict[str, str] = {}
    frames = {kind: pd.read_parquet(config[kind]) for kind in ("clean", "anomalous")}
    for kind, frame in frames.items():
        if same_data(frame) != config["data"][kind]:
            raise SystemExit(f"gx: the {kind} frame read from Parquet is not the one written")
    start = time.perf_counter()
    batch_definition, suite = setup(config["spec"])
    notes["build"] = (
        f"context, data source and suite of {len(suite.expectations)} expectations: "
        f"{(time.perf_counter() - start) * 1e3:.0f} ms"
    )
    flagged: dict[str, list[str]] = {}
    for kind, frame in frames.items():  # warm-up
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        flagged[kind], raised = flagged_columns(batch.validate(suite))
        if raised:
            notes[f"raised_{kind}"] = f"expectations that raised: {', '.join(raised)}"
    repeat = int(config["repeat"])
    for index in range(repeat):
        say(f"validate, repeat {index + 1}/{repeat}")
        for kind, frame in frames.items():
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
            start = time.perf_counter()
            result = batch.validate(suite)
            times[f"validate_{kind}"].append(time.perf_counter() - start)
            got, _ = flagged_columns(result)
            if got != flagged[kind]:
                raise SystemExit(f"gx: {kind} frame flagged {got}, then {flagged[kind]}")
    print(
        json.dumps({"version": gx.__version__, "times": times, "flagged": flagged, "notes": notes})
    )


if __name__ == "__main__":
    main()
