"""Pipelines that validate data; worker processes import them (tests/validation is on sys.path)."""

from __future__ import annotations

import pandas as pd
from samples import flights

from loopml.pipelines import dataset, pipeline, step
from loopml.validation import steps as dv


@step
def load(rows: int = 2000, seed: int = 0, drop: str = "", shift: float = 0.0) -> pd.DataFrame:
    frame = flights(rows, seed)
    frame["temp"] = frame["temp"] + shift
    return frame.drop(columns=[drop]) if drop else frame


@pipeline
def checked(drop: str = "", shift: float = 0.0):
    train = load()
    batch = load.with_options(name="load_batch")(seed=1, drop=drop, shift=shift)
    schema = dv.infer_schema(dv.compute_statistics(train))
    dv.validate_data(batch, schema)
    dv.detect_drift(train, batch)


@pipeline
def curated():
    batch = load(seed=1)
    dv.validate_data(batch, dataset("flights_schema"))
