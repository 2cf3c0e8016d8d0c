"""The fitted state of a drift detector per column, and its arrays for ``.npz`` (no pickle)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    Floats = npt.NDArray[np.float64]
    Counts = npt.NDArray[np.int64]


@dataclasses.dataclass
class NumericState:
    """A numeric reference: sorted finite values, std, PSI bins."""

    values: Floats
    std: float
    edges: Floats
    counts: Counts
    missing: int
    infinite: int


@dataclasses.dataclass
class CategoricalState:
    """A categorical reference: the categories (Arrow large strings) and their counts."""

    keys: pa.Array
    counts: Counts
    missing: int


def numeric_arrays(state: NumericState, prefix: str) -> dict[str, Any]:
    import numpy as np

    scalars = np.array([state.std, state.missing, state.infinite], dtype=np.float64)
    return {
        f"{prefix}values": state.values,
        f"{prefix}edges": state.edges,
        f"{prefix}counts": state.counts,
        f"{prefix}scalars": scalars,
    }


def numeric_from_arrays(arrays: dict[str, Any], prefix: str) -> NumericState:
    std, missing, infinite = arrays[f"{prefix}scalars"].tolist()
    values = arrays[f"{prefix}values"].astype("float64", copy=False)
    edges = arrays[f"{prefix}edges"].astype("float64", copy=False)
    counts = arrays[f"{prefix}counts"].astype("int64", copy=False)
    return NumericState(values, float(std), edges, counts, int(missing), int(infinite))


def categorical_arrays(state: CategoricalState, prefix: str) -> dict[str, Any]:
    """The categories as Arrow's own layout: UTF-8 bytes and int64 offsets."""
    import numpy as np

    keys = state.keys
    _, offsets_buffer, data_buffer = keys.buffers()[:3]
    offsets = np.zeros(1, dtype=np.int64)
    if offsets_buffer is not None and len(keys):
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
            keys.offset : keys.offset + len(keys) + 1
        ]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.empty(0, np.uint8)
    )
    return {
        f"{prefix}offsets": offsets - offsets[0],
        f"{prefix}data": data[offsets[0] : offsets[-1]],
        f"{prefix}counts": state.counts,
        f"{prefix}missing": np.array([state.missing], dtype=np.int64),
    }


def categorical_from_arrays(arrays: dict[str, Any], prefix: str) -> CategoricalState:
    import pyarrow as pa

    offsets = arrays[f"{prefix}offsets"].astype("int64", copy=False)
    data = arrays[f"{prefix}data"].astype("uint8", copy=False)
    keys = pa.LargeStringArray.from_buffers(
        len(offsets) - 1, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data.tobytes())
    )
    keys.validate(full=True)  # raises ArrowInvalid (a ValueError) on tampered offsets
    counts = arrays[f"{prefix}counts"].astype("int64", copy=False)
    if counts.size != len(keys):
        raise ValueError("categories and counts differ in length")
    return CategoricalState(keys, counts, int(arrays[f"{prefix}missing"][0]))
