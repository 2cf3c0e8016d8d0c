"""Per-column work of the drift detector: read, fit, score, judge, save.

Arrow columns become float64 arrays (numbers) or category counts keyed by text
(categories); nothing goes through pandas. See :mod:`loopml.validation.drift`
for the rules these functions implement.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from loopml.validation import distances
from loopml.validation._drift_state import CategoricalState, NumericState
from loopml.validation.drift_report import (
    CATEGORICAL,
    CATEGORICAL_STATISTICS,
    DRIFT,
    INSUFFICIENT_DATA,
    NO_DRIFT,
    NOT_COMPARABLE,
    NUMERIC,
    NUMERIC_STATISTICS,
    TYPE_MISMATCH,
    VERDICT_STATISTICS,
    finite_or_none,
)
from loopml.validation.sources import opened

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    Floats = npt.NDArray[np.float64]
    Counts = npt.NDArray[np.int64]

PLOT_BINS = 30
TOP = 20
TIME = "time"
# Logical types whose values can be compared with each other.
FAMILIES = {
    "int": "number",
    "float": "number",
    "string": "text",
    "mixed": "text",
    "bool": "bool",
    "timestamp": TIME,
    "date": TIME,
}
EFFECT_NAMES = {NUMERIC: "Wasserstein/std", CATEGORICAL: "JS distance"}
TIME_UNITS = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}


def read(data: Any, columns: Any) -> tuple[pa.Table, dict[str, str]]:
    """The chosen columns that exist (all if None) as Arrow, and every column's logical type."""
    with opened(data) as source:
        types = source.column_types
        names = [name for name in (types if columns is None else columns) if name in types]
        return source.to_arrow(names), types


def sample(table: pa.Table, rows: int, seed: int) -> pa.Table:
    """A seeded uniform sample of ``rows`` rows (in their order), or the table if smaller."""
    if table.num_rows <= rows:
        return table
    import numpy as np

    chosen = np.random.default_rng(seed).choice(table.num_rows, size=rows, replace=False)
    return table.take(np.sort(chosen))


def kind_of(logical: str, *, categorical: bool, explicit: bool) -> str:
    """How a reference column is compared: numeric, categorical, or why not (null, time, other)."""
    if logical in ("null", "other"):
        return logical
    if categorical or FAMILIES[logical] in ("text", "bool"):
        return CATEGORICAL
    if FAMILIES[logical] == TIME and not explicit:
        return TIME
    return NUMERIC


def incomparable(kind: str, reference: str, current: str) -> tuple[str, str] | None:
    """``(status, reason)`` when the column cannot be compared, else None."""
    if kind == "other" or current == "other":
        return NOT_COMPARABLE, "columns of type 'other' (lists, structs, binary) are not compared"
    if kind == TIME:
        return NOT_COMPARABLE, (
            "a time column moves between any two batches: name it in columns= to "
            "compare it as seconds since the epoch"
        )
    if kind == "null":
        return INSUFFICIENT_DATA, "the reference has no value in this column"
    if current != "null" and FAMILIES[reference] != FAMILIES[current]:
        return TYPE_MISMATCH, f"{reference} in the reference, {current} in the current batch"
    return None


def verdict(
    kind: str, statistics: dict[str, Any], alpha: float, threshold: float
) -> tuple[str, str]:
    """Drift when significant (p < alpha) and material (effect >= threshold)."""
    pvalue, effect = (statistics[name] for name in VERDICT_STATISTICS[kind])
    if pvalue is None or effect is None:
        return NOT_COMPARABLE, "the statistics are not finite (values near the float64 limit)"
    significant, material = pvalue < alpha, effect >= threshold
    facts = (
        f"p={pvalue:.3g} {'<' if significant else '>='} {alpha}, {EFFECT_NAMES[kind]} "
        f"{effect:.3g} {'>=' if material else '<'} {threshold}"
    )
    if significant and material:
        return DRIFT, f"significant and material: {facts}"
    if significant:
        return NO_DRIFT, f"significant but not material: {facts}"
    if material:
        return NO_DRIFT, f"material but not significant: {facts}"
    return NO_DRIFT, f"neither significant nor material: {facts}"


# --- numbers ------------------------------------------------------------------------------


def floats(column: pa.ChunkedArray) -> Floats:
    """A column as float64 (nulls as NaN); times as seconds since the epoch."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    kind, scale = column.type, 1.0
    if pa.types.is_timestamp(kind):
        column, scale = column.cast(pa.int64()), TIME_UNITS[kind.unit]
    elif pa.types.is_date32(kind):
        column, scale = column.cast(pa.int32()), 1 / 86_400
    elif pa.types.is_date64(kind):
        column, scale = column.cast(pa.int64()), 1e3
    values: Floats = column.cast(pa.float64(), safe=False).to_numpy()
    return values / scale if scale != 1.0 else values


def split(values: Floats) -> tuple[Floats, int, int]:
    """``(finite values, missing, infinite)``: NaN counts as missing."""
    import numpy as np

    finite = np.isfinite(values)
    if finite.all():
        return values, 0, 0
    missing = int(np.isnan(values).sum())
    kept = values[finite]
    return kept, missing, values.size - missing - kept.size


def fit_numeric(column: pa.ChunkedArray) -> NumericState:
    """Sort the reference's finite values once, and bin them for PSI."""
    import numpy as np

    with np.errstate(all="ignore"):
        values, missing, infinite = split(floats(column))
        values = np.sort(values)
        std = float(np.std(values)) if values.size else 0.0
    edges = distances.quantile_edges(values) if values.size else np.empty(0)
    return NumericState(values, std, edges, distances.bin_counts(values, edges), missing, infinite)


def score_numeric(state: NumericState, column: pa.ChunkedArray) -> dict[str, Any]:
    """Counts, statistics and plot data of a current column against its reference."""
    import numpy as np

    with np.errstate(all="ignore"):
        values, missing, infinite = split(floats(column))
        current = np.sort(values)
        statistics = numeric_statistics(state, current)
    return {
        "reference_values": int(state.values.size),
        "current_values": int(current.size),
        "reference_missing": state.missing,
        "current_missing": missing,
        "reference_infinite": state.infinite,
        "current_infinite": infinite,
        "statistics": statistics,
        "plot": numeric_plot(state.values, current),
    }


def numeric_statistics(state: NumericState, current: Floats) -> dict[str, float | None]:
    """KS, its p-value, Wasserstein (raw and over the reference std) and PSI."""
    import numpy as np

    if not (state.values.size and current.size):
        return dict.fromkeys(NUMERIC_STATISTICS)
    ks, pvalue, wasserstein = distances.ks_test(state.values, current)
    scale = state.std
    if not scale > 0:
        scale = float(np.std(np.concatenate((state.values, current))))
    normalized = wasserstein / scale if scale > 0 else 0.0 if wasserstein == 0 else math.nan
    psi = distances.psi(state.counts, distances.bin_counts(current, state.edges))
    found = (ks, pvalue, wasserstein, normalized, psi)
    return {
        name: finite_or_none(value) for name, value in zip(NUMERIC_STATISTICS, found, strict=True)
    }


def numeric_plot(reference: Floats, current: Floats) -> dict[str, list[Any]] | None:
    if not (reference.size or current.size):
        return None
    edges, ref_counts, cur_counts = distances.histogram(reference, current, PLOT_BINS)
    return {
        "edges": edges.tolist(),
        "reference": ref_counts.tolist(),
        "current": cur_counts.tolist(),
    }


# --- categories ---------------------------------------------------------------------------


def category_counts(column: pa.ChunkedArray) -> tuple[pa.Array, Counts, int]:
    """``(categories as large strings, their counts, missing)``; NaN counts as missing."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_floating(column.type):
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
    counted = pc.value_counts(column)
    valid = counted.field("values").is_valid()
    keys = counted.field("values").filter(valid).cast(pa.large_string())
    counts = np.asarray(counted.field("counts").filter(valid).to_numpy(), dtype=np.int64)
    return keys, counts, column.null_count


def fit_categorical(column: pa.ChunkedArray) -> CategoricalState:
    """Count the reference's categories."""
    return CategoricalState(*category_counts(column))


def score_categorical(state: CategoricalState, column: pa.ChunkedArray) -> dict[str, Any]:
    """Counts, statistics, new and missing categories, plot data of a current column."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    keys, counts, missing = category_counts(column)
    where = np.asarray(pc.index_in(keys, value_set=state.keys).fill_null(-1).to_numpy())
    known = where >= 0
    cur = np.zeros(state.counts.size + int((~known).sum()), dtype=np.int64)
    cur[where[known]] = counts[known]
    cur[state.counts.size :] = counts[~known]
    ref = np.concatenate((state.counts, np.zeros(cur.size - state.counts.size, dtype=np.int64)))
    labels = pa.concat_arrays([state.keys, keys.filter(pa.array(~known))])
    return {
        "reference_values": int(ref.sum()),
        "current_values": int(cur.sum()),
        "reference_missing": state.missing,
        "current_missing": missing,
        "statistics": categorical_statistics(ref, cur, state.counts.size),
        "new_categories": _new_categories(labels, cur, state.counts.size),
        "missing_categories": _missing_categories(labels, ref, cur),
        "plot": categorical_plot(labels, ref, cur),
    }


def categorical_statistics(ref: Counts, cur: Counts, known: int) -> dict[str, float | None]:
    """JS distance, L-infinity, chi-square and its p-value, share of unseen categories."""
    if not (ref.sum() and cur.sum()):
        return dict.fromkeys(CATEGORICAL_STATISTICS)
    chi2, pvalue = distances.chi2_test(ref, cur)
    found = (
        distances.jensen_shannon(ref, cur),
        distances.l_infinity(ref, cur),
        chi2,
        pvalue,
        float(cur[known:].sum() / cur.sum()),
    )
    return {
        name: finite_or_none(value)
        for name, value in zip(CATEGORICAL_STATISTICS, found, strict=True)
    }


def _top(labels: pa.Array, weights: Any, positions: Any) -> tuple[list[str], Any]:
    """The labels at ``positions`` with the largest weights (ties: first position), and those."""
    import numpy as np

    order = positions[np.argsort(-weights[positions], kind="stable")[:TOP]]
    return labels.take(order).to_pylist(), order


def _new_categories(labels: pa.Array, cur: Counts, known: int) -> dict[str, float]:
    import numpy as np

    if cur.size == known:
        return {}
    names, order = _top(labels, cur, np.arange(known, cur.size))
    return {name: float(cur[i] / cur.sum()) for name, i in zip(names, order, strict=True)}


def _missing_categories(labels: pa.Array, ref: Counts, cur: Counts) -> tuple[str, ...]:
    import numpy as np

    if not cur.sum():
        return ()
    names, _ = _top(labels, ref, np.flatnonzero((cur == 0) & (ref > 0)))
    return tuple(names)


def categorical_plot(labels: pa.Array, ref: Counts, cur: Counts) -> dict[str, list[Any]] | None:
    """The top categories' frequencies on both sides, then ``"other"`` for the rest."""
    import numpy as np

    if not (ref.sum() or cur.sum()):
        return None
    ref_freq = ref / ref.sum() if ref.sum() else np.zeros(ref.size)
    cur_freq = cur / cur.sum() if cur.sum() else np.zeros(cur.size)
    names, order = _top(labels, ref_freq + cur_freq, np.arange(ref.size))
    plot = {
        "labels": names,
        "reference": ref_freq[order].tolist(),
        "current": cur_freq[order].tolist(),
    }
    if ref.size > TOP:
        plot["labels"].append("other")
        plot["reference"].append(max(0.0, 1.0 - float(ref_freq[order].sum())) if ref.sum() else 0.0)
        plot["current"].append(max(0.0, 1.0 - float(cur_freq[order].sum())) if cur.sum() else 0.0)
    return plot
