"""Distances between two samples of a feature, on sorted arrays and count vectors.

Pure NumPy functions (scipy only for two p-value distributions), written so a
drift detector sorts each sample once and shares the work: the reference is
sorted when the detector is fitted, the current batch once per score, and
:func:`ks_wasserstein` gets both the Kolmogorov-Smirnov statistic and the
Wasserstein-1 distance from one merge of the two sorted arrays.

Every function agrees with its scipy counterpart on the same data (the tests
check it to 1e-9):

==========================  ==============================================================
:func:`ks_test`             ``scipy.stats.ks_2samp(a, b)`` (two-sided, ``method="auto"``)
:func:`ks_wasserstein`      its statistic, and ``scipy.stats.wasserstein_distance(a, b)``
:func:`jensen_shannon`      ``scipy.spatial.distance.jensenshannon(p, q, base=2)``
:func:`chi2_test`           ``scipy.stats.chi2_contingency([p, q])`` (Yates for 2 categories)
==========================  ==============================================================

:func:`psi` (population stability index over reference-quantile bins) and
:func:`l_infinity` (TFDV's categorical distance) have no scipy counterpart.
Inputs are float64 arrays of finite values sorted ascending, or integer count
vectors aligned on the same categories; functions do not check that.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]
    Counts = npt.NDArray[np.int64]

# scipy's ``ks_2samp(method="auto")`` computes the exact p-value up to this size.
KS_EXACT_MAX_N = 10_000
PSI_BINS = 10
PSI_EPSILON = 1e-4


def ks_wasserstein(reference: Floats, current: Floats) -> tuple[float, float]:
    """The two-sample KS statistic and the Wasserstein-1 distance, from one merge.

    Args:
        reference: sorted finite values (not empty).
        current: sorted finite values (not empty).

    Returns:
        ``(ks, wasserstein)``: the largest gap between the two empirical CDFs, and
        the area between them.
    """
    import numpy as np

    merged, gap = _merge_gap(reference, current)
    # Inside a run of equal values the counts are partial: only the run's last
    # position holds the CDFs (scipy's side="right"); its width there is 0 anyway.
    last = np.empty(merged.size, dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=last[:-1])
    last[-1] = True
    gaps = gap if last.all() else gap[last]
    ks = max(float(gaps.max()), min(max(float(-gaps.min()), 0.0), 1.0))
    np.abs(gap, out=gap)
    wasserstein = float(np.dot(gap[:-1], np.diff(merged)))
    return ks, wasserstein


def _merge_gap(a: Floats, b: Floats) -> tuple[Floats, Floats]:
    """``a`` and ``b`` merged, and ``F_a - F_b`` (empirical CDFs) at every merged position.

    A stable argsort of two sorted runs is a single merge pass (timsort finds
    the runs), cheaper than sorting the concatenation and searching it twice.
    The two CDFs are computed as scipy does (``i/n`` and ``(k-i)/m`` after ``k``
    values, ``i`` of them from ``a``), so equal samples give exactly 0.
    """
    import numpy as np

    both = np.concatenate((a, b))
    order = np.argsort(both, kind="stable")
    merged = both[order]
    count_a = np.cumsum(order < a.size)
    gap = count_a / a.size
    cdf_b = np.arange(1, both.size + 1, dtype=np.float64)
    cdf_b -= count_a
    cdf_b /= b.size
    gap -= cdf_b
    return merged, gap


def ks_pvalue(statistic: float, n_reference: int, n_current: int) -> float:
    """The asymptotic two-sided KS p-value, as ``ks_2samp`` computes it above 10,000 values.

    Args:
        statistic: the KS statistic.
        n_reference: the size of the reference sample.
        n_current: the size of the current sample.

    Returns:
        ``scipy.stats.kstwo.sf(statistic, round(n * m / (n + m)))``, clipped to [0, 1].
    """
    from scipy import stats

    large, small = max(n_reference, n_current), min(n_reference, n_current)
    effective = float(large) * small / (large + small)
    pvalue = float(stats.kstwo.sf(statistic, round(effective)))
    return min(max(pvalue, 0.0), 1.0)


def ks_test(reference: Floats, current: Floats) -> tuple[float, float, float]:
    """KS statistic and p-value as ``scipy.stats.ks_2samp(method="auto")``, and Wasserstein-1.

    Up to 10,000 values on both sides scipy computes the exact p-value (and
    rounds the statistic to the lattice of the two sizes): then ``ks_2samp``
    itself is called, which costs little at that size. Above, the statistic
    comes from the shared merge and the p-value from :func:`ks_pvalue`.

    Args:
        reference: sorted finite values (not empty).
        current: sorted finite values (not empty).

    Returns:
        ``(ks, ks_pvalue, wasserstein)``.
    """
    ks, wasserstein = ks_wasserstein(reference, current)
    if max(reference.size, current.size) > KS_EXACT_MAX_N:
        return ks, ks_pvalue(ks, reference.size, current.size), wasserstein
    from scipy import stats

    with warnings.catch_warnings():
        # scipy warns when the exact computation fails and it falls back to the
        # asymptotic one; the value it returns is the one to agree with.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue), wasserstein


def quantile_edges(reference: Floats, bins: int = PSI_BINS) -> Floats:
    """The inner edges of ``bins`` reference-quantile bins, duplicates dropped.

    Args:
        reference: sorted finite values (not empty).
        bins: how many bins (before dropping duplicate edges).

    Returns:
        The distinct quantiles at ``1/bins, ..., (bins-1)/bins`` (linear
        interpolation); a constant sample gives one edge, so two bins.
    """
    import numpy as np

    inner = np.quantile(reference, np.arange(1, bins) / bins)
    return np.unique(inner)


def bin_counts(values: Floats, edges: Floats) -> Counts:
    """How many sorted ``values`` fall in ``(-inf, e0], (e0, e1], ..., (e_last, inf)``.

    Args:
        values: sorted values.
        edges: increasing inner edges.

    Returns:
        ``len(edges) + 1`` counts.
    """
    import numpy as np

    cumulative = np.searchsorted(values, edges, side="right")
    return np.diff(cumulative, prepend=0, append=values.size).astype(np.int64)


def psi(reference_counts: Counts, current_counts: Counts, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two count vectors over the same bins.

    ``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)`` where ``r_i`` and ``c_i`` are the
    shares of the reference and current values in bin ``i``, each floored at
    ``epsilon`` so that an empty bin adds a large but finite term. Rules of
    thumb: below 0.1 stable, 0.1-0.25 moderate shift, above 0.25 large shift.

    Args:
        reference_counts: counts per bin of the reference (not all zero).
        current_counts: counts per bin of the current batch (not all zero).
        epsilon: the floor of a bin's share.

    Returns:
        The index (0 for identical shares).
    """
    import numpy as np

    ref = np.maximum(reference_counts / reference_counts.sum(), epsilon)
    cur = np.maximum(current_counts / current_counts.sum(), epsilon)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def jensen_shannon(reference_counts: Counts, current_counts: Counts) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) of two count vectors.

    Args:
        reference_counts: counts per category (not all zero).
        current_counts: counts of the same categories (not all zero).

    Returns:
        The square root of the Jensen-Shannon divergence in bits.
    """
    import numpy as np

    p = reference_counts / np.sum(reference_counts)
    q = current_counts / np.sum(current_counts)
    m = (p + q) / 2.0
    divergence = _relative_entropy(p, m) + _relative_entropy(q, m)
    return float(np.sqrt(divergence / math.log(2.0) / 2.0))


def _relative_entropy(p: Floats, m: Floats) -> float:
    import numpy as np

    # Where p is 0 the term is 0 (scipy's rel_entr); m > 0 wherever p > 0.
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / m[mask])))


def l_infinity(reference_counts: Counts, current_counts: Counts) -> float:
    """The largest difference of a category's frequency between the two (TFDV's distance).

    Args:
        reference_counts: counts per category (not all zero).
        current_counts: counts of the same categories (not all zero).

    Returns:
        ``max_i |p_i - q_i|`` of the normalised frequencies, in [0, 1].
    """
    import numpy as np

    p = reference_counts / np.sum(reference_counts)
    q = current_counts / np.sum(current_counts)
    return float(np.max(np.abs(p - q))) if p.size else 0.0


def chi2_test(reference_counts: Counts, current_counts: Counts) -> tuple[float, float]:
    """Chi-square test of independence of the 2 x k table ``[reference, current]``.

    As ``scipy.stats.chi2_contingency`` (Yates' correction when k is 2);
    categories absent from both rows are dropped first, one category left
    gives ``(0.0, 1.0)``.

    Args:
        reference_counts: counts per category (not all zero).
        current_counts: counts of the same categories (not all zero).

    Returns:
        ``(statistic, pvalue)``; NaNs if a row is all zero.
    """
    import numpy as np
    from scipy import special

    observed = np.array([reference_counts, current_counts], dtype=np.float64)
    observed = observed[:, observed.sum(axis=0) > 0]
    rows = observed.sum(axis=1)
    if observed.size == 0 or rows.min() <= 0:
        return math.nan, math.nan
    dof = observed.shape[1] - 1
    if dof < 1:
        return 0.0, 1.0
    expected = np.outer(rows, observed.sum(axis=0)) / rows.sum()
    if dof == 1:
        # Yates: move each count half a unit towards its expectation, never past it.
        diff = expected - observed
        observed = observed + np.sign(diff) * np.minimum(0.5, np.abs(diff))
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    return statistic, float(special.chdtrc(dof, statistic))


def histogram(reference: Floats, current: Floats, bins: int = 30) -> tuple[Floats, Counts, Counts]:
    """Common equal-width bins over the pooled range, and each sample's counts in them.

    Args:
        reference: sorted finite values.
        current: sorted finite values (at least one of the two not empty).
        bins: how many bins.

    Returns:
        ``(edges, reference_counts, current_counts)``: ``bins + 1`` edges, bins
        closed on the left except the last, closed on both sides. A single
        pooled value gets one bin of width 1 around it.
    """
    import numpy as np

    ends = [x for sample in (reference, current) if sample.size for x in (sample[0], sample[-1])]
    low, high = float(min(ends)), float(max(ends))
    if low == high:
        edges = np.array([low - 0.5, low + 0.5])
    else:
        share = np.linspace(0.0, 1.0, bins + 1)
        # Written as a weighted mean so that a range wider than the float range does not overflow.
        edges = low * (1.0 - share) + high * share
    return edges, _bin_left(reference, edges), _bin_left(current, edges)


def _bin_left(values: Floats, edges: Floats) -> Counts:
    import numpy as np

    cumulative = np.searchsorted(values, edges[1:-1], side="left")
    return np.diff(cumulative, prepend=0, append=values.size).astype(np.int64)
