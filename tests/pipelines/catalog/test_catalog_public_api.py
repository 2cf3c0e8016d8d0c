"""The public surface of loopml.pipelines.catalog, pinned; its errors; its import cost."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Mapping
from typing import Any, Literal

import pytest

import loopml.pipelines.catalog as catalog
from loopml.core.errors import (
    BackendError,
    ConfigError,
    InvalidInputError,
    LoopMLError,
    NotFoundError,
)
from loopml.pipelines.catalog import (
    CatalogError,
    DatasetConfig,
    DatasetConfigError,
    DatasetIOError,
    DatasetMissingError,
    DatasetNotFoundError,
    DatasetTypeError,
    DatasetValueError,
    parse_config,
)

PUBLIC = [
    "Catalog",
    "CatalogError",
    "CsvDataset",
    "CsvDatasetConfig",
    "Dataset",
    "DatasetConfig",
    "DatasetConfigError",
    "DatasetIOError",
    "DatasetMissingError",
    "DatasetNotFoundError",
    "DatasetTypeError",
    "DatasetValueError",
    "FileDataset",
    "FileDatasetConfig",
    "FileFolder",
    "FilesDataset",
    "FilesDatasetConfig",
    "ParquetDataset",
    "ParquetDatasetConfig",
    "SqlDataset",
    "SqlDatasetConfig",
    "dataset_type",
    "dataset_type_names",
    "parse_config",
    "register_dataset_type",
    "unregister_dataset_type",
]


def test_all_is_pinned() -> None:
    assert sorted(catalog.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(catalog, name) is not None


def test_importing_the_catalog_loads_no_data_library() -> None:
    code = (
        "import sys, loopml.pipelines.catalog\n"
        "heavy = ['pandas', 'pyarrow', 'duckdb', 'fsspec']\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize(
    ("error", "kinds"),
    [
        (DatasetNotFoundError, (NotFoundError, KeyError)),
        (DatasetConfigError, (ConfigError,)),
        (DatasetTypeError, (InvalidInputError,)),
        (DatasetValueError, (InvalidInputError,)),
        (DatasetMissingError, (NotFoundError,)),
        (DatasetIOError, (BackendError,)),
    ],
)
def test_errors_are_catalog_errors_and_core_kinds(
    error: type[Exception], kinds: tuple[type]
) -> None:
    assert issubclass(error, CatalogError)
    assert issubclass(error, LoopMLError)
    for kind in kinds:
        assert issubclass(error, kind)
    assert error.error_code != CatalogError.error_code  # type: ignore[attr-defined]


def test_for_dataset_keeps_the_class_and_fields() -> None:
    error = DatasetConfigError("field 'path' is bad", field="path")
    named = error.for_dataset("flights")
    assert type(named) is DatasetConfigError
    assert (named.dataset, named.field) == ("flights", "path")
    assert str(named) == "dataset 'flights': field 'path' is bad"
    assert named.for_dataset("other") is named


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Every(DatasetConfig):
    type: str = "every"
    text: str
    count: int = 0
    ratio: float = 1.0
    flag: bool = False
    mode: Literal["a", "b"] = "a"
    maybe: str | None = None
    names: tuple[str, ...] = ()
    numbers: Mapping[str, int] = dataclasses.field(default_factory=dict)
    anything: Any = None


def test_parse_config_converts_and_checks_each_field_type() -> None:
    config = parse_config(
        _Every,
        {"text": "t", "count": 2, "ratio": 3, "flag": True, "names": ["x", "y"], "numbers": {}},
    )
    assert config.names == ("x", "y")
    assert config.ratio == 3
    assert parse_config(_Every, {"text": "t", "anything": object}).anything is object


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"text": 1}, "'text' must be a str"),
        ({"text": "t", "count": True}, "'count' must be an int"),
        ({"text": "t", "count": 1.5}, "'count' must be an int"),
        ({"text": "t", "ratio": "1"}, "'ratio' must be a float"),
        ({"text": "t", "flag": "yes"}, "'flag' must be a bool"),
        ({"text": "t", "mode": "c"}, "one of 'a', 'b'"),
        ({"text": "t", "maybe": 1}, "a str or null"),
        ({"text": "t", "names": ["x", 1]}, "a list of str"),
        ({"text": "t", "numbers": {"a": "1"}}, "a mapping"),
        ({"text": "t", "numbers": {1: 1}}, "a mapping"),
        ({"text": "t", "textt": "u"}, "did you mean 'text'"),
        ({}, "missing required field 'text'"),
        (["text"], "configured by a mapping"),
    ],
)
def test_parse_config_refuses_naming_the_field(raw: Any, message: str) -> None:
    with pytest.raises(DatasetConfigError, match=message):
        parse_config(_Every, raw)
