"""A schema file as a catalog dataset: ``type: schema`` in loopml.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
from samples import flights

from loopml.pipelines.catalog import Catalog, DatasetMissingError, DatasetValueError
from loopml.validation import SchemaError, infer_schema


def test_type_schema_loads_saves_and_fingerprints_the_yaml_file(tmp_path: Path) -> None:
    catalog = Catalog.from_config(
        {"flights_schema": {"type": "schema", "path": "schemas/flights.yaml"}}, base_dir=tmp_path
    )
    dataset = catalog["flights_schema"]
    assert not dataset.exists()
    with pytest.raises(DatasetMissingError):
        dataset.load()
    schema = infer_schema(flights())
    dataset.save(schema)
    assert (tmp_path / "schemas" / "flights.yaml").read_text().startswith("# loopml data schema")
    assert dataset.load() == schema
    before = dataset.fingerprint()
    dataset.save(schema.with_feature("temp", max=120.0))
    assert dataset.fingerprint() != before
    with pytest.raises(DatasetValueError, match="saves a loopml Schema"):
        dataset.save({"features": {}})


def test_a_malformed_schema_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("features: {x: {type: decimal}}")
    catalog = Catalog.from_config({"s": {"type": "schema", "path": "bad.yaml"}}, base_dir=tmp_path)
    with pytest.raises(SchemaError, match=r"bad\.yaml: feature 'x'"):
        catalog["s"].load()
