"""DriftDetector: verdicts that weigh significance and size, odd data, bytes, reports."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopml.core.errors import InvalidInputError
from loopml.validation.drift import DriftDetector, detect_drift
from loopml.validation.drift_report import (
    CATEGORICAL_STATISTICS,
    NUMERIC_STATISTICS,
    STATUSES,
    DriftReport,
)


def frames(n: int, *, drift: bool, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shift = 1.0 if drift else 0.0
    weights = [0.1, 0.2, 0.7] if drift else [0.5, 0.3, 0.2]
    return pd.DataFrame(
        {
            "steady": rng.normal(size=n),
            "moves": rng.normal(shift, 1.0, size=n),
            "count": rng.poisson(3, size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n, p=weights),
            "shape": rng.choice(["square", "circle"], size=n),
        }
    )


def test_clear_drift_is_found_and_the_rest_is_not() -> None:
    report = detect_drift(frames(3000, drift=False, seed=1), frames(3000, drift=True, seed=2))
    assert report.drifted == ("moves", "colour")
    assert report.statuses == {
        "steady": "no_drift",
        "moves": "drift",
        "count": "no_drift",
        "colour": "drift",
        "shape": "no_drift",
    }
    assert report.share == pytest.approx(2 / 5)
    assert report.dataset_drift is False
    assert detect_drift(
        frames(300, drift=False), frames(300, drift=True), drift_share=0.4
    ).dataset_drift
    moves = report.feature("moves")
    assert moves.kind == "numeric" and set(moves.statistics) == set(NUMERIC_STATISTICS)
    assert moves.pvalue is not None and moves.pvalue < 1e-10
    assert moves.effect == pytest.approx(1.0, abs=0.1)
    colour = report.feature("colour")
    assert colour.kind == "categorical" and set(colour.statistics) == set(CATEGORICAL_STATISTICS)


def test_large_sample_tiny_shift_is_significant_but_not_material() -> None:
    rng = np.random.default_rng(7)
    reference = pd.DataFrame({"x": rng.normal(size=200_000)})
    current = pd.DataFrame({"x": rng.normal(0.03, 1.0, size=200_000)})
    feature = detect_drift(reference, current).feature("x")
    assert feature.statistics["ks_pvalue"] is not None and feature.statistics["ks_pvalue"] < 1e-6
    assert feature.effect is not None and feature.effect < 0.1
    assert feature.status == "no_drift"
    assert feature.reason.startswith("significant but not material")


def test_small_sample_large_effect_is_not_significant() -> None:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(size=8), "c": list("aabbaabb")})
    current = pd.DataFrame({"x": rng.normal(0.5, 1.0, size=8), "c": list("aaabaabb")})
    report = detect_drift(reference, current, min_rows=5)
    for name in ("x", "c"):
        feature = report.feature(name)
        assert feature.effect is not None and feature.effect >= 0.1
        assert feature.pvalue is not None and feature.pvalue >= 0.05
        assert feature.status == "no_drift"
        assert feature.reason.startswith("material but not significant")
    assert detect_drift(reference, current).feature("x").status == "insufficient_data"


def test_bytes_round_trip_scores_identically() -> None:
    reference = frames(2000, drift=False, seed=4)
    reference["odd text"] = ["", "é", "a\x00b", "x" * 300] * 500
    current = frames(1500, drift=True, seed=5)
    current["odd text"] = ["é", "new", "a\x00b"] * 500
    detector = DriftDetector(categorical=["count"], max_reference_rows=1500).fit(reference)
    data = detector.to_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:  # never a pickled object
        assert all(stored[key].dtype != object for key in stored.files)
    again = DriftDetector.from_bytes(data)
    assert again.get_params() == detector.get_params()
    assert again.sampled_ and again.reference_rows_used_ == 1500 and again.reference_rows_ == 2000
    assert again.score(current).to_dict() == detector.score(current).to_dict()
    assert detector.score(current).feature("odd text").new_categories == {
        "new": pytest.approx(1 / 3)
    }


@pytest.mark.parametrize(
    "garbage", [b"", b"not an npz", DriftDetector().fit(frames(5, drift=False)).to_bytes()[:50]]
)
def test_from_bytes_refuses_garbage(garbage: bytes) -> None:
    with pytest.raises(InvalidInputError):
        DriftDetector.from_bytes(garbage)


def test_report_dict_round_trip_is_json_safe() -> None:
    reference = frames(200, drift=False).assign(empty=np.nan)
    report = detect_drift(reference, frames(200, drift=True).assign(empty=np.nan, extra=1))
    text = report.to_json()  # allow_nan=False: raises on NaN or inf
    assert DriftReport.from_dict(json.loads(text)) == report
    assert report.feature("empty").statistics == dict.fromkeys(NUMERIC_STATISTICS)
    rows = report.rows()
    assert [row["feature"] for row in rows] == [*frames(1, drift=False).columns, "empty", "extra"]
    assert rows[-1]["status"] == "new_in_current"


def test_plot_data_per_kind() -> None:
    report = detect_drift(frames(500, drift=False), frames(400, drift=True))
    plot = report.feature("moves").plot
    assert plot is not None
    assert (
        len(plot["edges"]) == 31 and sum(plot["reference"]) == 500 and sum(plot["current"]) == 400
    )
    many = pd.DataFrame({"c": [f"v{i % 40}" for i in range(400)]})
    bars = detect_drift(many, many).feature("c").plot
    assert bars is not None and len(bars["labels"]) == 21 and bars["labels"][-1] == "other"
    assert sum(bars["reference"]) == pytest.approx(1.0)


def test_sources_frame_table_parquet_csv_agree(tmp_path: Path) -> None:
    reference, current = frames(400, drift=False), frames(400, drift=True)
    expected = detect_drift(reference, current).to_dict()
    reference.to_parquet(tmp_path / "ref.parquet")
    current.to_csv(tmp_path / "cur.csv", index=False)
    table = pa.Table.from_pandas(current, preserve_index=False)
    assert detect_drift(tmp_path / "ref.parquet", table).to_dict() == expected
    from_files = detect_drift(str(tmp_path / "ref.parquet"), str(tmp_path / "cur.csv"))
    assert from_files.statuses == detect_drift(reference, current).statuses


def test_time_columns_are_skipped_unless_named() -> None:
    reference = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=100, freq="h"), "x": 1.0})
    current = pd.DataFrame({"when": pd.date_range("2024-03-01", periods=100, freq="h"), "x": 1.0})
    assert detect_drift(reference, current).feature("when").status == "not_comparable"
    named = detect_drift(reference, current, columns=["when"]).feature("when")
    assert named.status == "drift" and named.kind == "numeric"
    assert named.statistics["wasserstein"] == pytest.approx(60 * 86_400, rel=1e-6)


def test_constant_reference_that_moves_is_material() -> None:
    reference = pd.DataFrame({"k": np.full(100, 5.0)})
    same = detect_drift(reference, reference).feature("k")
    assert same.status == "no_drift" and same.statistics["wasserstein_normalized"] == 0.0
    moved = detect_drift(reference, pd.DataFrame({"k": np.full(100, 5.5)})).feature("k")
    assert moved.status == "drift" and moved.statistics["wasserstein_normalized"] == pytest.approx(
        2.0
    )


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": 0},
        {"alpha": 1.5},
        {"alpha": "0.05"},
        {"drift_share": 0},
        {"numeric_threshold": -1},
        {"categorical_threshold": float("nan")},
        {"min_rows": 0},
        {"max_reference_rows": 2.5},
        {"seed": True},
        {"columns": "x"},
        {"categorical": [1]},
        {"columns": ["nope"]},
        {"categorical": ["nope"]},
    ],
)
def test_bad_parameters_are_refused_clearly(params: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        DriftDetector(**params).fit(pd.DataFrame({"x": [1.0, 2.0]}))  # type: ignore[arg-type]


def test_misuse_is_refused_clearly() -> None:
    with pytest.raises(InvalidInputError, match="fit"):
        DriftDetector().score(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(InvalidInputError, match="fit"):
        DriftDetector().to_bytes()
    with pytest.raises(InvalidInputError):
        detect_drift(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"x": [1.0]}), colums=["x"])
    with pytest.raises(InvalidInputError):
        DriftDetector().fit([1, 2, 3])


# --- odd data: never an exception, an explicit status, the healthy columns still judged ------

ODD_KINDS = ["all_nan", "all_none", "constant", "with_inf", "mixed", "mixed_to_number",
             "unseen", "to_text", "only_reference", "only_current", "nested"]  # fmt: skip
EXPECTED = {
    "all_nan": {"insufficient_data"},
    "all_none": {"insufficient_data"},
    "constant": {"no_drift"},
    "with_inf": {"drift", "no_drift"},
    "mixed": {"drift", "no_drift"},
    "mixed_to_number": {"type_mismatch"},
    "unseen": {"drift", "no_drift"},
    "to_text": {"type_mismatch"},
    "only_reference": {"missing_in_current"},
    "only_current": {"new_in_current"},
    "nested": {"not_comparable"},
}


def odd_column(kind: str, side: str, n: int, rng: np.random.Generator) -> list[object] | None:
    first = side == "reference"
    columns: dict[str, object] = {
        "all_nan": [np.nan] * n,
        "all_none": [None] * n,
        "constant": [7] * n,
        "with_inf": [*rng.normal(size=n - 3), np.inf, -np.inf, np.nan],
        "mixed": [[1, "a", 2.5, None][i % 4] for i in range(n)],
        "mixed_to_number": [[1, "a"][i % 2] for i in range(n)] if first else list(range(n)),
        "unseen": list(rng.choice(["a", "b"] if first else ["a", "b", "zz"], size=n)),
        "to_text": list(rng.normal(size=n)) if first else ["x"] * n,
        "only_reference": list(range(n)) if first else None,
        "only_current": None if first else list(range(n)),
        "nested": [[i] for i in range(n)],
    }
    return columns[kind]  # type: ignore[return-value]


def odd_frame(kinds: list[str], side: str, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {
        "healthy_number": rng.normal(size=n),
        "healthy_category": rng.choice(["x", "y", "z"], size=n),
    }
    for index, kind in enumerate(kinds):
        column = odd_column(kind, side, n, rng)
        if column is not None:
            data[f"{kind}_{index}"] = pd.Series(
                column, dtype=object if kind != "with_inf" else float
            )
    return pd.DataFrame(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.sampled_from(ODD_KINDS), min_size=1, max_size=6),
    sizes=st.tuples(st.integers(40, 120), st.integers(40, 120)),
    seed=st.integers(0, 2**16),
)
def test_odd_columns_get_explicit_statuses_and_healthy_ones_are_judged(
    kinds: list[str], sizes: tuple[int, int], seed: int
) -> None:
    reference = odd_frame(kinds, "reference", sizes[0], seed)
    current = odd_frame(kinds, "current", sizes[1], seed + 1)
    report = detect_drift(reference, current)
    assert set(report.statuses.values()) <= set(STATUSES)
    for name in ("healthy_number", "healthy_category"):
        feature = report.feature(name)
        assert feature.status in {"drift", "no_drift"}
        assert all(value is not None for value in feature.statistics.values())
    for index, kind in enumerate(kinds):
        feature = report.feature(f"{kind}_{index}")
        assert feature.status in EXPECTED[kind], (kind, feature)
        if kind == "with_inf":
            assert (feature.reference_infinite, feature.current_infinite) == (2, 2)
            assert feature.reference_missing == 1
        if kind == "unseen" and "zz" in feature.new_categories:
            assert 0 < feature.new_categories["zz"] <= 1
    json.dumps(report.to_dict(), allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    reference=st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=12),
    current=st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=12),
    min_rows=st.integers(1, 3),
)
def test_any_floats_any_sizes_never_raise(
    reference: list[float], current: list[float], min_rows: int
) -> None:
    ref = pd.DataFrame({"x": pd.Series(reference, dtype=float)})
    cur = pd.DataFrame({"x": pd.Series(current, dtype=float)})
    feature = detect_drift(ref, cur, min_rows=min_rows).feature("x")
    finite = (np.isfinite(reference).sum(), np.isfinite(current).sum())
    assert (feature.reference_values, feature.current_values) == finite
    if min(finite) < min_rows:
        assert feature.status == "insufficient_data"
    else:
        assert feature.status in {"drift", "no_drift", "not_comparable"}
    json.dumps(feature.to_dict(), allow_nan=False)


@pytest.mark.parametrize("rows", [0, 1])
def test_empty_and_one_row_tables(rows: int) -> None:
    frame = frames(rows, drift=False)
    report = detect_drift(frame, frame)
    assert set(report.statuses.values()) == {"insufficient_data"}
    assert report.share == 0.0 and report.dataset_drift is False
    assert detect_drift(pd.DataFrame(), frames(10, drift=False)).drifted == ()
