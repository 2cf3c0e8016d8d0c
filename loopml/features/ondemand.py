"""Running on-demand views: a Python function over the columns of other features.

The same function runs for historical retrieval (over the whole result) and
online lookup (over the looked-up rows), so both give the same values.
"""

from __future__ import annotations

import math
from typing import Any

from loopml.features.errors import FeatureInputError
from loopml.features.selection import OnDemandPart


def apply_on_demand(part: OnDemandPart, frame: Any) -> None:
    """Add ``part``'s output columns to the pandas DataFrame ``frame`` (in place).

    Raises:
        FeatureInputError: naming the view and the feature its function did not return.
    """
    import pandas as pd

    inputs = pd.DataFrame({name: frame[column].to_numpy() for name, column in part.inputs.items()})
    try:
        output = part.view.resolve()(inputs)
    except Exception as exc:  # the user's function may raise anything
        raise FeatureInputError(
            f"its function failed: {type(exc).__name__}: {exc}", view=part.view.name
        ) from exc
    for feature, column in zip(part.features, part.columns, strict=True):
        try:
            values = output[feature]
        except (KeyError, TypeError, IndexError) as exc:
            raise FeatureInputError(
                "its function did not return this feature", view=part.view.name, column=feature
            ) from exc
        frame[column] = getattr(values, "to_numpy", lambda v=values: v)()


def on_demand_rows(part: OnDemandPart, columns: dict[str, list[Any]]) -> None:
    """Add ``part``'s output columns to the column lists of an online lookup (in place)."""
    import pandas as pd

    frame = pd.DataFrame({column: columns[column] for column in part.inputs.values()})
    apply_on_demand(part, frame)
    for column in part.columns:
        # missing inputs come back as NaN from pandas; online, missing is None
        values = frame[column].tolist()
        columns[column] = [None if isinstance(v, float) and math.isnan(v) else v for v in values]
