"""Validation fixtures: flights-like training data and a later batch (see samples.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

HERE = str(Path(__file__).parent)
# Worker processes import the steps of dvflows.py (and samples.py) by name.
if HERE not in sys.path:
    sys.path.insert(0, HERE)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [HERE, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != HERE]]
)

from samples import flights  # noqa: E402


@pytest.fixture
def train() -> pd.DataFrame:
    return flights()


@pytest.fixture
def batch() -> pd.DataFrame:
    return flights(seed=1)
