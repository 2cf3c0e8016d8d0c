"""Skew and drift: a detector fitted on a reference dataset scores current batches.

:class:`DriftDetector` follows scikit-learn's conventions: the constructor only
stores its arguments, :meth:`~DriftDetector.fit` learns from the reference
(state ending in ``_``) and returns the detector, :meth:`~DriftDetector.score`
judges a current batch and returns a :class:`~loopml.validation.drift_report.DriftReport`.
A fitted detector is bytes (:meth:`~DriftDetector.to_bytes`: a NumPy ``.npz``
with a JSON header, never a pickle), so it can be stored as an artifact and
reused by monitoring.

**The verdict.** Numbers are compared with the two-sample Kolmogorov-Smirnov
test and the Wasserstein-1 distance divided by the reference's standard
deviation; categories (strings, booleans, mixed columns, and numbers named in
``categorical``) with the chi-square test of the 2 x k table of counts and the
Jensen-Shannon distance (base 2). A feature drifts only when the change is
both *significant* (p-value < ``alpha``) and *material* (effect >=
``numeric_threshold`` or ``categorical_threshold``): on huge samples a
negligible shift is significant but not material, on tiny samples a large
difference can be chance. Fewer than ``min_rows`` values on either side gives
``insufficient_data``. PSI and L-infinity are reported but do not vote. A
constant reference (std 0) is normalised by the std of reference and current
pooled, so a constant that moves is material; two equal constants are at 0.
Timestamps and dates move between any two batches by construction: they are
``not_comparable`` unless named in ``columns``, then compared as numbers
(seconds since the epoch).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidInputError
from loopml.validation import _drift_columns as cols
from loopml.validation import _drift_state as state
from loopml.validation.drift_report import (
    CATEGORICAL,
    INSUFFICIENT_DATA,
    MISSING_IN_CURRENT,
    NEW_IN_CURRENT,
    NUMERIC,
    DriftReport,
    FeatureDrift,
    summarise,
)

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT = "loopml.drift_detector/1"


class DriftDetector:
    """Fit on a reference dataset, then score current batches for drift, feature by feature.

    Datasets are anything :func:`loopml.validation.sources.open_source` opens:
    a pandas DataFrame, a pyarrow Table, the path of a Parquet or CSV file.

    Args:
        columns: the columns to watch (default: every column of the reference,
            and the current batch's extra columns are reported ``new_in_current``).
        categorical: numeric columns to compare as categories (codes, ids).
        alpha: significance level of the KS and chi-square tests, in (0, 1).
        numeric_threshold: least Wasserstein distance, in reference standard
            deviations, that counts as material.
        categorical_threshold: least Jensen-Shannon distance (base 2, 0 to 1)
            that counts as material.
        min_rows: fewest values on each side to judge a feature.
        max_reference_rows: above this many rows the reference is replaced by a
            seeded uniform sample of this size (the report says ``sampled``).
        drift_share: the dataset drifts when at least this share of the judged
            features drift, in (0, 1].
        seed: seed of the reference sample.

    Example:
        >>> detector = DriftDetector(alpha=0.01).fit(train_frame)  # doctest: +SKIP
        >>> detector.score(todays_batch).drifted  # doctest: +SKIP
        ('fare', 'pickup_zone')
    """

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        categorical: Sequence[str] = (),
        alpha: float = 0.05,
        numeric_threshold: float = 0.1,
        categorical_threshold: float = 0.1,
        min_rows: int = 30,
        max_reference_rows: int = 1_000_000,
        drift_share: float = 0.5,
        seed: int = 0,
    ) -> None:
        self.columns = columns
        self.categorical = categorical
        self.alpha = alpha
        self.numeric_threshold = numeric_threshold
        self.categorical_threshold = categorical_threshold
        self.min_rows = min_rows
        self.max_reference_rows = max_reference_rows
        self.drift_share = drift_share
        self.seed = seed

    def __repr__(self) -> str:
        fitted = f", fitted on {len(self.columns_)} columns" if self.fitted else ""
        return f"<DriftDetector alpha={self.alpha}{fitted}>"

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` (or :meth:`from_bytes`) has run."""
        return hasattr(self, "columns_")

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments, as plain JSON values."""
        return {
            "columns": None if self.columns is None else list(self.columns),
            "categorical": list(self.categorical),
            "alpha": self.alpha,
            "numeric_threshold": self.numeric_threshold,
            "categorical_threshold": self.categorical_threshold,
            "min_rows": self.min_rows,
            "max_reference_rows": self.max_reference_rows,
            "drift_share": self.drift_share,
            "seed": self.seed,
        }

    def fit(self, reference: Any) -> DriftDetector:
        """Learn the reference's distributions.

        Args:
            reference: the reference dataset (training data, or the last batch).

        Returns:
            The detector itself.

        Raises:
            InvalidInputError: if a parameter is invalid, ``columns`` or
                ``categorical`` name a column the reference lacks, or the
                reference cannot be read.
        """
        self._check_params()
        table, types = cols.read(reference, self.columns)
        absent = [c for c in (*(self.columns or ()), *self.categorical) if c not in types]
        if absent:
            raise InvalidInputError(f"the reference has no column {', '.join(map(repr, absent))}")
        self.reference_rows_ = table.num_rows
        table = cols.sample(table, self.max_reference_rows, self.seed)
        self.reference_rows_used_ = table.num_rows
        self.sampled_ = self.reference_rows_used_ < self.reference_rows_
        self.columns_ = tuple(table.column_names)
        self.types_ = {name: types[name] for name in self.columns_}
        self.kinds_ = {name: self._kind(name, kind) for name, kind in self.types_.items()}
        self.numeric_ = {
            name: cols.fit_numeric(table.column(name))
            for name, kind in self.kinds_.items()
            if kind == NUMERIC
        }
        self.categorical_ = {
            name: cols.fit_categorical(table.column(name))
            for name, kind in self.kinds_.items()
            if kind == CATEGORICAL
        }
        return self

    def score(self, current: Any) -> DriftReport:
        """Judge ``current`` against the reference, feature by feature.

        Odd data never raises: a feature that cannot be judged gets a status
        saying why (see :data:`~loopml.validation.drift_report.STATUSES`) and the
        others are still judged.

        Args:
            current: the current batch.

        Returns:
            The report.

        Raises:
            InvalidInputError: if the detector is not fitted or ``current``
                cannot be read.
        """
        if not self.fitted:
            raise InvalidInputError("fit the DriftDetector on a reference before scoring")
        table, types = cols.read(current, self.columns_)
        features = [self._judge(name, table, types.get(name)) for name in self.columns_]
        if self.columns is None:
            features += [
                FeatureDrift(
                    name,
                    NEW_IN_CURRENT,
                    current_type=kind,
                    reason="the reference has no such column",
                )
                for name, kind in types.items()
                if name not in self.types_
            ]
        drifted, share, dataset_drift = summarise(features, self.drift_share)
        return DriftReport(
            features=tuple(features),
            drifted=drifted,
            share=share,
            dataset_drift=dataset_drift,
            reference_rows=self.reference_rows_,
            current_rows=table.num_rows,
            sampled=self.sampled_,
            reference_rows_used=self.reference_rows_used_,
            params=self.get_params(),
        )

    def _kind(self, name: str, logical: str) -> str:
        explicit = self.columns is not None and name in self.columns
        return cols.kind_of(logical, categorical=name in self.categorical, explicit=explicit)

    def _judge(self, name: str, table: pa.Table, current_type: str | None) -> FeatureDrift:
        types: dict[str, Any] = {"reference_type": self.types_[name], "current_type": current_type}
        if current_type is None:
            reason = "the current batch has no such column"
            return FeatureDrift(name, MISSING_IN_CURRENT, reason=reason, **types)
        kind = self.kinds_[name]
        refused = cols.incomparable(kind, self.types_[name], current_type)
        if refused is not None:
            return FeatureDrift(name, refused[0], reason=refused[1], **types)
        column = table.column(name)
        if kind == NUMERIC:
            found = cols.score_numeric(self.numeric_[name], column)
        else:
            found = cols.score_categorical(self.categorical_[name], column)
        status, reason = self._verdict(kind, found)
        return FeatureDrift(name, status, kind=kind, reason=reason, **types, **found)

    def _verdict(self, kind: str, found: dict[str, Any]) -> tuple[str, str]:
        smallest = min(found["reference_values"], found["current_values"])
        if smallest < self.min_rows:
            return INSUFFICIENT_DATA, (
                f"{found['reference_values']} reference and {found['current_values']} current "
                f"values; judging needs at least {self.min_rows} on each side"
            )
        threshold = self.numeric_threshold if kind == NUMERIC else self.categorical_threshold
        return cols.verdict(kind, found["statistics"], self.alpha, threshold)

    def _check_params(self) -> None:
        def fraction(name: str, value: Any, *, closed: bool = False) -> None:
            ok = (isinstance(value, int | float) and 0 < value < 1) or (closed and value == 1)
            if isinstance(value, bool) or not ok:
                bound = "(0, 1]" if closed else "(0, 1)"
                raise InvalidInputError(f"{name} must be a number in {bound}, not {value!r}")

        fraction("alpha", self.alpha)
        fraction("drift_share", self.drift_share, closed=True)
        for name in ("numeric_threshold", "categorical_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise InvalidInputError(f"{name} must be a number >= 0, not {value!r}")
        for name in ("min_rows", "max_reference_rows", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (name != "seed"):
                least = 0 if name == "seed" else 1
                raise InvalidInputError(f"{name} must be an integer >= {least}, not {value!r}")
        for name in ("columns", "categorical"):
            value = getattr(self, name)
            if value is None and name == "columns":
                continue
            if isinstance(value, str) or not all(isinstance(c, str) for c in value):
                raise InvalidInputError(f"{name} must be a list of column names, not {value!r}")

    def to_bytes(self) -> bytes:
        """The fitted detector as bytes: a NumPy ``.npz`` (no pickle) with a JSON header.

        Raises:
            InvalidInputError: if the detector is not fitted.
        """
        if not self.fitted:
            raise InvalidInputError("fit the DriftDetector before saving it")
        import numpy as np

        header: dict[str, Any] = {
            "format": FORMAT,
            "params": self.get_params(),
            "columns": list(self.columns_),
            "types": self.types_,
            "kinds": self.kinds_,
            "reference_rows": self.reference_rows_,
            "reference_rows_used": self.reference_rows_used_,
            "numeric": list(self.numeric_),
            "categorical": list(self.categorical_),
        }
        arrays: dict[str, Any] = {}
        for index, numeric in enumerate(self.numeric_.values()):
            arrays.update(state.numeric_arrays(numeric, f"numeric_{index}_"))
        for index, categorical in enumerate(self.categorical_.values()):
            arrays.update(state.categorical_arrays(categorical, f"categorical_{index}_"))
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> DriftDetector:
        """A fitted detector back from :meth:`to_bytes`.

        Raises:
            InvalidInputError: if ``data`` is not a saved detector.
        """
        import numpy as np

        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
            header = json.loads(arrays.pop("header").tobytes())
            if header.get("format") != FORMAT:
                raise ValueError(f"format {header.get('format')!r}")
            detector = cls(**header["params"])
            detector._restore(header, arrays)
        except (ValueError, KeyError, TypeError, EOFError, OSError, zipfile.BadZipFile) as exc:
            raise InvalidInputError(f"these bytes are not a saved DriftDetector: {exc}") from exc
        return detector

    def _restore(self, header: dict[str, Any], arrays: dict[str, Any]) -> None:
        self.columns_ = tuple(header["columns"])
        self.types_ = dict(header["types"])
        self.kinds_ = dict(header["kinds"])
        self.reference_rows_ = int(header["reference_rows"])
        self.reference_rows_used_ = int(header["reference_rows_used"])
        self.sampled_ = self.reference_rows_used_ < self.reference_rows_
        self.numeric_ = {
            name: state.numeric_from_arrays(arrays, f"numeric_{index}_")
            for index, name in enumerate(header["numeric"])
        }
        self.categorical_ = {
            name: state.categorical_from_arrays(arrays, f"categorical_{index}_")
            for index, name in enumerate(header["categorical"])
        }


def detect_drift(reference: Any, current: Any, **params: Any) -> DriftReport:
    """Fit a :class:`DriftDetector` with ``params`` on ``reference`` and score ``current``.

    Args:
        reference: the reference dataset.
        current: the current batch.
        **params: :class:`DriftDetector`'s arguments.

    Returns:
        The report.

    Raises:
        InvalidInputError: as :meth:`DriftDetector.fit` and :meth:`DriftDetector.score`.
    """
    try:
        detector = DriftDetector(**params)
    except TypeError as exc:
        raise InvalidInputError(f"detect_drift: {exc}") from exc
    return detector.fit(reference).score(current)


__all__ = ["DriftDetector", "DriftReport", "FeatureDrift", "detect_drift"]
