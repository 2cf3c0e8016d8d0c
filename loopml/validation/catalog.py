"""A schema file as a catalog dataset, so pipelines read the curated schema with the data.

.. code-block:: yaml

    catalog:
      flights_schema:
        type: schema
        path: schemas/flights.yaml

``dataset("flights_schema")`` gives a step the :class:`~loopml.validation.Schema`;
its fingerprint is the file's, so editing the schema reruns the validation
that used it instead of serving a stale result from cache. ``save`` writes a
schema (an inferred one, say) as YAML, atomically.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from loopml.pipelines.catalog import DatasetValueError, FileDataset, FileDatasetConfig, parse_config
from loopml.pipelines.catalog.config import FingerprintMode
from loopml.pipelines.catalog.errors import io_errors
from loopml.validation.schema import Schema


@dataclasses.dataclass(frozen=True, kw_only=True)
class SchemaDatasetConfig(FileDatasetConfig):
    """Configuration of a :class:`SchemaDataset` (only the shared fields)."""

    type: str = "schema"


class SchemaDataset(FileDataset):
    """A schema YAML file, loaded as a :class:`~loopml.validation.Schema`.

    Args:
        path: a local path (relative to ``base_dir``) or an fsspec URL.
        storage_options: fsspec options for URLs.
        fingerprint: ``auto``, ``content`` or ``metadata``.
        base_dir: the folder relative paths are resolved against (default: the current one).
    """

    config_type = SchemaDatasetConfig
    config: SchemaDatasetConfig

    def __init__(
        self,
        path: str,
        *,
        storage_options: Mapping[str, Any] | None = None,
        fingerprint: FingerprintMode = "auto",
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        raw = {"path": path, "storage_options": storage_options or {}, "fingerprint": fingerprint}
        self.config = parse_config(SchemaDatasetConfig, raw)
        self._locate(base_dir)

    def load(self) -> Schema:
        """Read and check the schema.

        Raises:
            DatasetMissingError: if there is no file.
            SchemaError: if it is not a valid schema (the message names the file).
        """
        fs, path = self.location.filesystem()
        with io_errors(self.location.url, reading=True):
            text = fs.cat_file(path).decode("utf-8")
        return _parse(text, self.location.url)

    def save(self, obj: Any) -> None:
        """Write ``obj`` (a :class:`~loopml.validation.Schema`) as YAML, atomically.

        Raises:
            DatasetValueError: if ``obj`` is not a schema.
        """
        if not isinstance(obj, Schema):
            raise DatasetValueError(f"{self!r} saves a loopml Schema, not {type(obj).__name__}")
        text = obj.to_yaml()
        self.location.write_file(lambda temp: _write(temp, text))


def _parse(text: str, where: str) -> Schema:
    from loopml.validation.schema import SchemaError

    try:
        return Schema.from_yaml(text)
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(text)
