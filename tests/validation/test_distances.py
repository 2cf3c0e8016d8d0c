"""Distances agree with scipy to 1e-9 on the same data: KS (both p-value methods), W1, JS, chi2."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from loopml.validation import distances

TOL = 1e-9


def samples(
    n: int, m: int, *, ties: bool, shift: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(shift, 1.0, size=m)
    if ties:
        a, b = np.round(a, 1), np.round(b, 1)
    return np.sort(a), np.sort(b)


CASES = [
    # (n, m, ties, shift): exact p-value (both sizes <= 10,000), equal and unequal sizes
    (50, 50, False, 0.0),
    (80, 100, True, 0.3),
    (1_000, 700, False, 0.1),
    (3_000, 3_000, True, 0.05),
    (7, 9_999, False, 0.5),
    # asymptotic p-value (a size above 10,000)
    (12_000, 15_000, False, 0.02),
    (40, 20_000, True, 0.4),
    (50_000, 30_000, True, 0.0),
]


@pytest.mark.parametrize(("n", "m", "ties", "shift"), CASES)
def test_ks_and_wasserstein_agree_with_scipy(n: int, m: int, ties: bool, shift: float) -> None:
    a, b = samples(n, m, ties=ties, shift=shift, seed=n + m)
    ks, pvalue, wasserstein = distances.ks_test(a, b)
    expected = stats.ks_2samp(a, b)
    assert ks == pytest.approx(expected.statistic, abs=TOL)
    assert pvalue == pytest.approx(expected.pvalue, abs=TOL)
    assert wasserstein == pytest.approx(stats.wasserstein_distance(a, b), rel=TOL, abs=TOL)
    assert distances.ks_wasserstein(b, a)[0] == pytest.approx(expected.statistic, abs=TOL)


def test_asymptotic_pvalue_is_significant_for_a_clear_shift() -> None:
    a, b = samples(20_000, 20_000, ties=False, shift=0.1, seed=1)
    ks, pvalue, _ = distances.ks_test(a, b)
    assert pvalue == pytest.approx(distances.ks_pvalue(ks, a.size, b.size), abs=TOL)
    assert pvalue < 1e-6


# scipy itself warns when its exact p-value fails on tiny tied samples and falls back.
@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful:RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(
    a=st.lists(st.integers(-20, 20), min_size=1, max_size=40),
    b=st.lists(st.integers(-20, 20), min_size=1, max_size=40),
    scale=st.sampled_from([1e-3, 1.0, 1e6]),
)
def test_ks_and_wasserstein_laws_on_tied_samples(a: list[int], b: list[int], scale: float) -> None:
    x, y = np.sort(np.array(a) * scale), np.sort(np.array(b) * scale)
    ks, pvalue, wasserstein = distances.ks_test(x, y)
    expected = stats.ks_2samp(x, y)
    assert ks == pytest.approx(expected.statistic, abs=TOL)
    assert pvalue == pytest.approx(expected.pvalue, abs=TOL)
    assert wasserstein == pytest.approx(stats.wasserstein_distance(x, y), rel=TOL, abs=TOL * scale)
    assert distances.ks_wasserstein(x, x) == (0.0, 0.0)


@pytest.mark.parametrize("seed", range(5))
def test_jensen_shannon_and_chi2_agree_with_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 12))
    p = rng.integers(0, 500, size=k)
    q = rng.integers(0, 500, size=k)
    p[0], q[-1] = 0, 0  # a category absent on one side
    p[1] = max(p[1], 1)
    q[0] = max(q[0], 1)
    assert distances.jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q, base=2), abs=TOL)
    chi2, pvalue = distances.chi2_test(p, q)
    expected = stats.chi2_contingency(np.array([p, q]))
    assert chi2 == pytest.approx(expected.statistic, rel=TOL, abs=TOL)
    assert pvalue == pytest.approx(expected.pvalue, abs=TOL)


@pytest.mark.parametrize(
    ("p", "q"),
    [([10, 3], [4, 9]), ([100, 0], [90, 10]), ([1, 1], [1, 1]), ([5000, 4000], [5100, 3900])],
)
def test_chi2_two_categories_uses_yates_like_scipy(p: list[int], q: list[int]) -> None:
    chi2, pvalue = distances.chi2_test(np.array(p), np.array(q))
    expected = stats.chi2_contingency(np.array([p, q]))
    assert chi2 == pytest.approx(expected.statistic, abs=TOL)
    assert pvalue == pytest.approx(expected.pvalue, abs=TOL)


def test_chi2_degenerate_tables() -> None:
    assert distances.chi2_test(np.array([3, 0]), np.array([4, 0])) == (0.0, 1.0)
    chi2, pvalue = distances.chi2_test(np.array([0, 0]), np.array([4, 1]))
    assert math.isnan(chi2) and math.isnan(pvalue)
    with_empty = distances.chi2_test(np.array([5, 0, 3, 7]), np.array([2, 0, 6, 1]))
    expected = stats.chi2_contingency(np.array([[5, 3, 7], [2, 6, 1]]))
    assert with_empty == pytest.approx((expected.statistic, expected.pvalue), abs=TOL)


def test_jensen_shannon_bounds() -> None:
    assert distances.jensen_shannon(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)
    assert distances.jensen_shannon(np.array([3, 5]), np.array([6, 10])) == pytest.approx(0.0)


def test_l_infinity_is_the_largest_frequency_gap() -> None:
    assert distances.l_infinity(np.array([50, 50, 0]), np.array([20, 40, 40])) == pytest.approx(0.4)
    assert distances.l_infinity(np.array([7]), np.array([3])) == 0.0


def test_psi_formula_with_epsilon_for_empty_bins() -> None:
    ref, cur = np.array([25, 25, 50]), np.array([50, 50, 0])
    expected = sum(
        (c - r) * math.log(c / r)
        for r, c in zip([0.25, 0.25, 0.5], [0.5, 0.5, distances.PSI_EPSILON], strict=True)
    )
    assert distances.psi(ref, cur) == pytest.approx(expected, rel=1e-12)
    assert distances.psi(ref, ref * 3) == 0.0


def test_quantile_edges_and_bin_counts() -> None:
    values = np.arange(1000, dtype=float)
    edges = distances.quantile_edges(values)
    assert edges.size == distances.PSI_BINS - 1
    counts = distances.bin_counts(values, edges)
    assert counts.sum() == 1000
    assert counts.min() >= 99
    constant = np.full(50, 3.0)
    assert distances.quantile_edges(constant).tolist() == [3.0]
    assert distances.bin_counts(constant, np.array([3.0])).tolist() == [50, 0]


def test_histogram_shares_edges_and_counts_everything() -> None:
    a, b = samples(500, 300, ties=True, shift=2.0, seed=3)
    edges, ref, cur = distances.histogram(a, b, 30)
    assert edges.size == 31 and edges[0] == min(a[0], b[0]) and edges[-1] == max(a[-1], b[-1])
    assert ref.sum() == 500 and cur.sum() == 300
    one = np.array([4.0])
    edges, ref, cur = distances.histogram(one, np.empty(0))
    assert edges.tolist() == [3.5, 4.5] and ref.tolist() == [1] and cur.tolist() == [0]
    huge = np.array([-1.7e308, 1.7e308])
    edges, ref, _ = distances.histogram(huge, huge)
    assert np.isfinite(edges).all() and ref.sum() == 2
