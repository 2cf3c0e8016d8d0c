"""Definitions check themselves, round-trip through dicts, and load from Python or YAML."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loopml.features import (
    Definitions,
    Entity,
    Feature,
    FeatureDefinitionError,
    FeatureInputError,
    FeatureNotFoundError,
    FeatureService,
    FeatureView,
    FileSource,
    definitions_from_dict,
    load_definitions,
)
from loopml.features.definitions import parse_duration
from loopml.features.serialize import source_to_dict


def test_round_trip_through_the_stored_form(definitions) -> None:
    again = definitions_from_dict(definitions.to_dict())
    assert again.to_dict() == definitions.to_dict()
    assert again.views == definitions.views
    assert again.on_demand[0].resolve()(__import__("pandas").DataFrame({"temp": [0.0]}))[
        "temp_f"
    ].tolist() == [32.0]


@pytest.mark.parametrize(
    ("text", "seconds"), [("90m", 5400), ("3h", 10800), ("2d", 172800), (30, 30), ("1.5s", 1.5)]
)
def test_durations(text, seconds) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["soon", "-3h", 0, True])
def test_bad_durations(bad) -> None:
    with pytest.raises(FeatureDefinitionError):
        parse_duration(bad)


def test_definitions_refuse_dangling_and_duplicate_names() -> None:
    source = FileSource("x.parquet", "ts")
    view = FeatureView("v", ("e",), (Feature("a"),), source)
    with pytest.raises(FeatureNotFoundError, match="unknown entity 'e'"):
        Definitions(views=(view,))
    entity = Entity("e", "k")
    with pytest.raises(FeatureDefinitionError, match="defined twice"):
        Definitions((entity, entity))
    with pytest.raises(FeatureNotFoundError, match="no feature 'b'"):
        Definitions((entity,), (view,), services=(FeatureService("s", ("v:b",)),))
    with pytest.raises(FeatureDefinitionError, match="dtype"):
        Feature("a", "decimal")
    with pytest.raises(FeatureDefinitionError, match="identifier"):
        FeatureView("bad name", ("e",), (Feature("a"),), source)
    with pytest.raises(FeatureDefinitionError, match="twice"):
        FeatureView("v", ("e",), (Feature("a"), Feature("a")), source)


def test_yaml_definitions(isolated_project) -> None:
    (isolated_project / "features.yaml").write_text(
        """
entities:
  - {name: airport, join_keys: [origin]}
views:
  - name: weather
    entities: [airport]
    source: {path: weather.csv, timestamp: time_hour, options: {nullstr: NA}}
    ttl: 3h
    features: {temp: float64, humid: float64}
services:
  - {name: delays, features: [weather]}
"""
    )
    loaded = load_definitions(isolated_project / "features.yaml")
    assert loaded.view("weather").ttl == timedelta(hours=3)
    assert [f.name for f in loaded.view("weather").features] == ["temp", "humid"]
    assert loaded.views[0].source.options == {"nullstr": "NA"}


def test_python_definitions_collect_module_objects(isolated_project) -> None:
    (isolated_project / "feats_mod.py").write_text(
        """
from loopml.features import Entity, Feature, FeatureView, FileSource, FeatureService
airport = Entity("airport", ["origin"])
weather = FeatureView("weather", ["airport"], [Feature("temp")], FileSource("w.csv", "time_hour"))
delays = FeatureService("delays", ["weather"])
"""
    )
    loaded = load_definitions(isolated_project / "feats_mod.py")
    assert [v.name for v in loaded.views] == ["weather"]
    assert loaded.service("delays").features == ("weather",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("views: 3", "must be a list"),
        ("colours: []", "unknown section"),
        ("views: [{name: v, entities: [e], features: {a: float64}}]", "with a source"),
        ("entities: [{name: e, join_keys: [k], colour: red}]", "colour"),
    ],
)
def test_bad_yaml_is_refused(isolated_project, content, message) -> None:
    path = isolated_project / "f.yaml"
    path.write_text(content)
    with pytest.raises(FeatureDefinitionError, match=message):
        load_definitions(path)


def test_missing_definitions_file(isolated_project) -> None:
    with pytest.raises(FeatureNotFoundError):
        load_definitions(isolated_project / "nope.yaml")


@pytest.mark.parametrize(
    "name", ["key", "secret", "token", "password", "credentials", "aws_secret_access_key"]
)
def test_credentials_in_storage_options_are_refused(name) -> None:
    # Regression (credentials in artifacts): storage options were stored as written in
    # the definitions artifact, secrets included.
    with pytest.raises(FeatureDefinitionError, match=rf"{name}.*environment variable"):
        FileSource("s3://bucket/weather/", "time_hour", storage_options={name: "hunter2"})
    with pytest.raises(FeatureDefinitionError, match="credential"):
        definitions_from_dict(
            {
                "entities": [{"name": "airport", "join_keys": ["origin"]}],
                "views": [
                    {
                        "name": "weather",
                        "entities": ["airport"],
                        "source": {
                            "path": "s3://b/w/",
                            "timestamp": "t",
                            "storage_options": {name: "x${OOPS}"},
                        },
                        "features": {"temp": "float64"},
                    }
                ],
            }
        )


def test_credentials_as_environment_references_are_stored_and_replaced_when_read(
    monkeypatch,
) -> None:
    from loopml.features.sources import storage_options

    source = FileSource(
        "memory://weather.parquet",
        "time_hour",
        storage_options={"secret": "${WEATHER_SECRET}", "endpoint_url": "http://x"},
    )
    assert source_to_dict(source)["storage_options"]["secret"] == "${WEATHER_SECRET}"
    monkeypatch.setenv("WEATHER_SECRET", "hunter2")
    assert storage_options(source) == {"secret": "hunter2", "endpoint_url": "http://x"}
    monkeypatch.delenv("WEATHER_SECRET")
    with pytest.raises(FeatureInputError, match="WEATHER_SECRET"):
        storage_options(source)
