"""A folder of files of any kind, read and written as a mapping of relative path -> bytes.

``load`` returns a :class:`FileFolder`: a read-only ``Mapping[str, bytes]``
whose keys are the files' ``/``-separated paths relative to the folder, listed
when it is loaded, and whose values are read when asked for. A mapping rather
than a list of local paths, because it is what ``save`` takes (so a step can
pass it on or transform it), it works the same on a local folder and on
``s3://`` (where no local path exists without a download), and it costs no
memory until a file is read. Steps that need a path (a library that only opens
files) get one with :meth:`FileFolder.path`, a local path for local folders,
or stream a large file with :meth:`FileFolder.open`.

``save`` takes a mapping of relative path -> ``bytes`` (or ``str``, written as
UTF-8, or a ``pathlib.Path`` to a local file to copy) and replaces the folder's
content with it. Paths are confined to the folder: absolute paths, ``..``,
backslashes and invisible characters are refused
(:func:`loopml.artifacts.keys.normalize_path`).

.. code-block:: yaml

    reports:
      type: files
      path: out/reports
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import PurePath
from typing import IO, Any

from loopml.artifacts.errors import InvalidKeyError
from loopml.artifacts.keys import normalize_path
from loopml.pipelines.catalog.base import FileDataset
from loopml.pipelines.catalog.config import FileDatasetConfig, FingerprintMode, parse_config
from loopml.pipelines.catalog.errors import DatasetMissingError, DatasetValueError, io_errors
from loopml.pipelines.catalog.location import Location


@dataclasses.dataclass(frozen=True, kw_only=True)
class FilesDatasetConfig(FileDatasetConfig):
    """Configuration of a :class:`FilesDataset` (only the shared fields)."""

    type: str = "files"


class FileFolder(Mapping[str, bytes]):
    """The files of a folder as a read-only mapping; each file is read when asked for.

    Compares equal to any mapping with the same paths and bytes.
    """

    def __init__(self, location: Location, names: list[str]) -> None:
        self._location = location
        self._names = names
        self._known = frozenset(names)

    def __getitem__(self, name: str) -> bytes:
        if name not in self._known:
            raise KeyError(name)
        with self.open(name) as stream:
            return stream.read()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"FileFolder({self._location.url!r}, {len(self._names)} files)"

    def path(self, name: str) -> str:
        """The file's local path (local folders) or its URL (any other), for ``fsspec.open``."""
        if name not in self._known:
            raise KeyError(name)
        return self._location.join(name)

    def open(self, name: str) -> IO[bytes]:
        """Open one file for reading as a binary stream, which the caller closes.

        Raises:
            KeyError: if the folder had no such file when it was loaded.
            DatasetMissingError: if the file was removed since.
        """
        path = self.path(name)
        with io_errors(path, reading=True):
            if self._location.local:
                return open(path, "rb")
            fs, root = self._location.filesystem()
            stream: IO[bytes] = fs.open(f"{root}/{name}", "rb")
            return stream


class FilesDataset(FileDataset):
    """A folder of files (see the module docstring for what ``load`` and ``save`` take).

    ``exists`` is true if the folder is there (on object stores, which have no
    empty folders: if it holds at least one file).

    Args:
        path: a local folder (relative to ``base_dir``) or an fsspec URL.
        storage_options: fsspec options for URLs.
        fingerprint: ``auto``, ``content`` or ``metadata`` (see ``FileDatasetConfig``).
        base_dir: the folder relative paths are resolved against (default: the current one).

    Raises:
        DatasetConfigError: on a bad field.
    """

    config_type = FilesDatasetConfig
    config: FilesDatasetConfig

    def __init__(
        self,
        path: str,
        *,
        storage_options: Mapping[str, Any] | None = None,
        fingerprint: FingerprintMode = "auto",
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        raw = {"path": path, "storage_options": storage_options or {}, "fingerprint": fingerprint}
        self.config = parse_config(FilesDatasetConfig, raw)
        self._locate(base_dir)

    def exists(self) -> bool:
        return self.location.kind() == "directory"

    def load(self) -> FileFolder:
        """List the folder's files; their bytes are read on access.

        Raises:
            DatasetMissingError: if the folder does not exist.
        """
        if not self.exists():
            raise DatasetMissingError(f"no folder at {self.location.url}")
        return FileFolder(self.location, list(self.location.list_files()))

    def save(self, obj: Any) -> None:
        """Replace the folder's content by a mapping of relative path -> bytes, str or Path.

        Raises:
            DatasetValueError: if ``obj`` is not such a mapping, or a path would leave the
                folder. Nothing was written.
        """
        files = _checked_files(obj, self)
        self.location.write_folder(lambda stage: _write_files(files, stage))


def _checked_files(obj: Any, dataset: FilesDataset) -> dict[str, Any]:
    if not isinstance(obj, Mapping):
        raise DatasetValueError(
            f"{dataset!r} saves a mapping of relative path -> bytes, not {type(obj).__name__}"
        )
    files: dict[str, Any] = {}
    for name, value in obj.items():
        try:
            key = normalize_path(name)
        except InvalidKeyError as exc:
            raise DatasetValueError(f"{dataset!r}: {exc.message}") from exc
        if not isinstance(value, bytes | bytearray | memoryview | str | PurePath):
            raise DatasetValueError(
                f"{dataset!r}: file {key!r} must be bytes, str or a Path, "
                f"not {type(value).__name__}"
            )
        if key in files:
            raise DatasetValueError(f"{dataset!r}: {name!r} and another name are both {key!r}")
        files[key] = value
    folders = {key.rsplit("/", depth)[0] for key in files for depth in range(1, key.count("/") + 1)}
    clash = sorted(folders & files.keys())
    if clash:
        raise DatasetValueError(f"{dataset!r}: {clash[0]!r} is both a file and a folder")
    return files


def _write_files(files: Mapping[str, Any], stage: str) -> None:
    for key, value in files.items():
        target = os.path.join(stage, *key.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if isinstance(value, PurePath):
            shutil.copyfile(value, target)
        else:
            with open(target, "wb") as stream:
                stream.write(value.encode() if isinstance(value, str) else value)
