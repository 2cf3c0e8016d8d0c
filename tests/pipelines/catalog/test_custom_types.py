"""Users add dataset types: registered by name, configured from YAML like the built-in ones."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from loopml.pipelines.catalog import (
    Catalog,
    Dataset,
    DatasetConfig,
    DatasetConfigError,
    DatasetMissingError,
    DatasetTypeError,
    FileDataset,
    FileDatasetConfig,
    dataset_type,
    dataset_type_names,
    parse_config,
    register_dataset_type,
    unregister_dataset_type,
)
from loopml.pipelines.catalog.errors import io_errors


@dataclasses.dataclass(frozen=True, kw_only=True)
class JsonDatasetConfig(FileDatasetConfig):
    type: str = "json"
    indent: int | None = None


class JsonDataset(FileDataset):
    """A JSON file: a user's type built on FileDataset gets atomic writes and fingerprints."""

    config_type = JsonDatasetConfig
    config: JsonDatasetConfig

    def __init__(
        self,
        path: str,
        *,
        indent: int | None = None,
        storage_options: Mapping[str, Any] | None = None,
        fingerprint: str = "auto",
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        raw = {
            "path": path,
            "indent": indent,
            "storage_options": storage_options or {},
            "fingerprint": fingerprint,
        }
        self.config = parse_config(JsonDatasetConfig, raw)
        self._locate(base_dir)

    def load(self) -> Any:
        with io_errors(self.location.url, reading=True), open(self.location.url) as stream:
            return json.load(stream)

    def save(self, obj: Any) -> None:
        text = json.dumps(obj, indent=self.config.indent)
        self.location.write_file(lambda temp: Path(temp).write_text(text))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConstantConfig(DatasetConfig):
    type: str = "constant"
    value: Any = None


class ConstantDataset(Dataset):
    """A dataset not stored anywhere, built directly on the ABC."""

    config_type = ConstantConfig
    writable = False

    def __init__(self, value: Any = None, *, base_dir: Any = None) -> None:
        self.config = ConstantConfig(value=value)

    def load(self) -> Any:
        return self.config.value  # type: ignore[attr-defined]

    def save(self, obj: Any) -> None:
        self._refuse_save()

    def exists(self) -> bool:
        return True

    def fingerprint(self) -> str:
        return self._config_hash("value")


@pytest.fixture
def registered() -> Iterator[None]:
    register_dataset_type("json", JsonDataset)
    register_dataset_type("constant", ConstantDataset)
    yield
    unregister_dataset_type("json")
    unregister_dataset_type("constant")


def test_a_registered_type_is_configured_from_yaml(
    registered: None, isolated_project: Path
) -> None:
    config = {
        "params": {"type": "json", "path": "conf/params.json", "indent": 2},
        "answer": {"type": "constant", "value": {"x": [1, 2]}},
    }
    catalog = Catalog.from_config(config, base_dir=isolated_project)
    assert "json" in dataset_type_names()
    assert dataset_type("json") is JsonDataset

    with pytest.raises(DatasetMissingError, match="dataset 'params'"):
        catalog.load("params")
    catalog.save("params", {"alpha": 0.5})
    assert catalog.load("params") == {"alpha": 0.5}
    assert (isolated_project / "conf" / "params.json").read_text() == '{\n  "alpha": 0.5\n}'
    fingerprint = catalog.fingerprint("params")
    catalog.save("params", {"alpha": 0.6})
    assert catalog.fingerprint("params") != fingerprint

    assert catalog.load("answer") == {"x": [1, 2]}
    assert catalog.describe()["answer"]["value"] == {"x": [1, 2]}
    assert catalog.fingerprint("answer") == catalog.fingerprint("answer")


def test_a_registered_type_checks_its_fields(registered: None) -> None:
    with pytest.raises(DatasetConfigError, match="'indent' must be an int or null") as caught:
        Catalog.from_config({"p": {"type": "json", "path": "p.json", "indent": "2"}}, base_dir=".")
    assert caught.value.field == "indent"
    with pytest.raises(DatasetConfigError, match="did you mean 'json'"):
        Catalog.from_config({"p": {"type": "jsn", "path": "p.json"}}, base_dir=".")


def test_names_are_not_taken_twice_unless_replaced(registered: None) -> None:
    with pytest.raises(DatasetTypeError, match="already registered"):
        register_dataset_type("json", JsonDataset)
    with pytest.raises(DatasetTypeError, match="already registered"):
        register_dataset_type("csv", JsonDataset)
    register_dataset_type("csv", JsonDataset, replace=True)
    try:
        assert dataset_type("csv") is JsonDataset
    finally:
        unregister_dataset_type("csv")
    from loopml.pipelines.catalog import CsvDataset

    assert dataset_type("csv") is CsvDataset


@pytest.mark.parametrize(
    ("name", "cls", "message"),
    [
        ("Bad Name", JsonDataset, "lowercase"),
        ("", JsonDataset, "lowercase"),
        ("thing", dict, "Dataset subclass"),
        ("thing", JsonDataset(path="x"), "Dataset subclass"),
    ],
)
def test_bad_registrations_are_refused(name: str, cls: Any, message: str) -> None:
    with pytest.raises(DatasetTypeError, match=message):
        register_dataset_type(name, cls)


def test_a_type_without_a_config_dataclass_is_refused() -> None:
    class NoConfig(ConstantDataset):
        config_type = dict  # type: ignore[assignment]

    with pytest.raises(DatasetTypeError, match="config_type must be a DatasetConfig dataclass"):
        register_dataset_type("noconfig", NoConfig)
