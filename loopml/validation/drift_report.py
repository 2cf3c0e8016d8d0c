"""What a drift detector says about a current batch: per feature, and overall.

:class:`DriftReport` and :class:`FeatureDrift` are frozen dataclasses of plain
Python values: ``to_dict()`` is JSON-safe (a statistic that cannot be computed,
or is not finite, is ``None``) and ``from_dict(to_dict())`` gives an equal
object back. No NumPy in here, so reading a stored report is cheap.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

DRIFT = "drift"
NO_DRIFT = "no_drift"
INSUFFICIENT_DATA = "insufficient_data"
TYPE_MISMATCH = "type_mismatch"
MISSING_IN_CURRENT = "missing_in_current"
NEW_IN_CURRENT = "new_in_current"
NOT_COMPARABLE = "not_comparable"
STATUSES = (
    DRIFT,
    NO_DRIFT,
    INSUFFICIENT_DATA,
    TYPE_MISMATCH,
    MISSING_IN_CURRENT,
    NEW_IN_CURRENT,
    NOT_COMPARABLE,
)

NUMERIC = "numeric"
CATEGORICAL = "categorical"
NUMERIC_STATISTICS = ("ks", "ks_pvalue", "wasserstein", "wasserstein_normalized", "psi")
CATEGORICAL_STATISTICS = ("jensen_shannon", "l_infinity", "chi2", "chi2_pvalue", "new_share")
# Per kind: (the test's p-value, the effect size compared to the threshold).
VERDICT_STATISTICS = {
    NUMERIC: ("ks_pvalue", "wasserstein_normalized"),
    CATEGORICAL: ("chi2_pvalue", "jensen_shannon"),
}


def finite_or_none(value: Any) -> float | None:
    """``value`` as a float, or None if it is None, NaN or infinite (JSON has neither)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclasses.dataclass(frozen=True)
class FeatureDrift:
    """The verdict on one feature, with every statistic behind it.

    Attributes:
        name: the column.
        status: one of :data:`STATUSES`.
        kind: ``"numeric"``, ``"categorical"``, or None when not compared.
        reference_type: the column's logical type in the reference (None if absent).
        current_type: its logical type in the current batch (None if absent).
        reference_values: values compared on the reference side (finite for numbers).
        current_values: values compared on the current side.
        reference_missing: nulls and NaNs in the reference.
        current_missing: nulls and NaNs in the current batch.
        reference_infinite: infinities in the reference (excluded from the distribution).
        current_infinite: infinities in the current batch.
        statistics: numbers: ``ks``, ``ks_pvalue``, ``wasserstein``,
            ``wasserstein_normalized``, ``psi``; categories: ``jensen_shannon``,
            ``l_infinity``, ``chi2``, ``chi2_pvalue``, ``new_share`` (share of the
            current values in categories the reference never had). All keys of
            the kind are present; a value is None when it cannot be computed.
        new_categories: up to 20 categories unseen in the reference, with their
            share of the current values, largest first.
        missing_categories: up to 20 reference categories absent from the
            current batch, most frequent first.
        plot: numbers: ``edges``, ``reference`` and ``current`` counts per bin;
            categories: ``labels`` and ``reference``/``current`` frequencies
            (the last label ``"other"`` when there are more). None if nothing to plot.
        reason: why the feature got its status, in words.
    """

    name: str
    status: str
    kind: str | None = None
    reference_type: str | None = None
    current_type: str | None = None
    reference_values: int = 0
    current_values: int = 0
    reference_missing: int = 0
    current_missing: int = 0
    reference_infinite: int = 0
    current_infinite: int = 0
    statistics: dict[str, float | None] = dataclasses.field(default_factory=dict)
    new_categories: dict[str, float] = dataclasses.field(default_factory=dict)
    missing_categories: tuple[str, ...] = ()
    plot: dict[str, list[Any]] | None = None
    reason: str = ""

    @property
    def pvalue(self) -> float | None:
        """The p-value of the feature's test (KS for numbers, chi-square for categories)."""
        names = VERDICT_STATISTICS.get(self.kind or "")
        return self.statistics.get(names[0]) if names else None

    @property
    def effect(self) -> float | None:
        """The effect size judged against the threshold (Wasserstein / std, or JS distance)."""
        names = VERDICT_STATISTICS.get(self.kind or "")
        return self.statistics.get(names[1]) if names else None

    def to_dict(self) -> dict[str, Any]:
        """The feature as JSON-safe plain values."""
        data = dataclasses.asdict(self)
        data["missing_categories"] = list(self.missing_categories)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureDrift:
        """The inverse of :meth:`to_dict`."""
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in fields}
        values["missing_categories"] = tuple(values.get("missing_categories", ()))
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class DriftReport:
    """Drift between a reference and a current batch, per feature and overall.

    Attributes:
        features: one :class:`FeatureDrift` per column, in the reference's order,
            then the columns only the current batch has.
        drifted: the names of the features whose status is ``drift``.
        share: drifted features / judged features (status ``drift`` or
            ``no_drift``); 0 when none could be judged.
        dataset_drift: ``share >= drift_share`` (and at least one feature judged).
        reference_rows: rows of the reference the detector was fitted on.
        current_rows: rows of the current batch.
        sampled: the reference had more than ``max_reference_rows`` rows and a
            seeded uniform sample of ``reference_rows_used`` rows was fitted.
        reference_rows_used: rows of the reference actually used.
        params: the detector's parameters.
    """

    features: tuple[FeatureDrift, ...]
    drifted: tuple[str, ...]
    share: float
    dataset_drift: bool
    reference_rows: int
    current_rows: int
    sampled: bool = False
    reference_rows_used: int = 0
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def feature(self, name: str) -> FeatureDrift:
        """The feature called ``name``.

        Raises:
            KeyError: if there is none.
        """
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)

    @property
    def statuses(self) -> dict[str, str]:
        """Feature name -> status."""
        return {feature.name: feature.status for feature in self.features}

    def rows(self) -> list[dict[str, Any]]:
        """One plain row per feature, for a table (the CLI, the HTML summary).

        Returns:
            Dicts with the keys ``feature``, ``kind``, ``status``, ``test``,
            ``p_value``, ``effect``, ``effect_name``, ``threshold``,
            ``reference_values``, ``current_values``, ``reference_missing``,
            ``current_missing``, ``reason``, in that order.
        """
        return [self._row(feature) for feature in self.features]

    def _row(self, feature: FeatureDrift) -> dict[str, Any]:
        numeric = feature.kind == NUMERIC
        categorical = feature.kind == CATEGORICAL
        thresholds = {
            NUMERIC: self.params.get("numeric_threshold"),
            CATEGORICAL: self.params.get("categorical_threshold"),
        }
        return {
            "feature": feature.name,
            "kind": feature.kind,
            "status": feature.status,
            "test": "KS" if numeric else "chi2" if categorical else None,
            "p_value": feature.pvalue,
            "effect": feature.effect,
            "effect_name": "wasserstein/std" if numeric else "JS" if categorical else None,
            "threshold": thresholds.get(feature.kind or ""),
            "reference_values": feature.reference_values,
            "current_values": feature.current_values,
            "reference_missing": feature.reference_missing,
            "current_missing": feature.current_missing,
            "reason": feature.reason,
        }

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe plain values."""
        data = dataclasses.asdict(self)
        data["features"] = [feature.to_dict() for feature in self.features]
        data["drifted"] = list(self.drifted)
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (NaN and infinities never appear)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """The inverse of :meth:`to_dict`."""
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in fields}
        values["features"] = tuple(FeatureDrift.from_dict(f) for f in data.get("features", ()))
        values["drifted"] = tuple(values.get("drifted", ()))
        return cls(**values)

    def to_html(self, *, title: str = "Drift report") -> str:
        """A self-contained HTML page: summary, then one plot and the statistics per feature."""
        from loopml.validation.drift_html import drift_report_html

        return drift_report_html(self, title=title)


def summarise(
    features: Sequence[FeatureDrift], drift_share: float
) -> tuple[tuple[str, ...], float, bool]:
    """``(drifted, share, dataset_drift)`` of the features (see :class:`DriftReport`)."""
    drifted = tuple(feature.name for feature in features if feature.status == DRIFT)
    judged = sum(1 for feature in features if feature.status in (DRIFT, NO_DRIFT))
    share = len(drifted) / judged if judged else 0.0
    return drifted, share, bool(judged) and share >= drift_share
