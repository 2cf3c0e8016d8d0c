"""The ``features:`` section of ``loopml.yaml``.

.. code-block:: yaml

    features:
      definitions: features.py                 # or features.yaml (the default: whichever exists)
      online_store: sqlite:///.loopml/online.db   # or redis://127.0.0.1:6379/0, or a mapping
      repository: default                      # the name the applied versions are kept under

``online_store`` may also be a mapping naming its ``type`` (``sqlite``,
``redis``, ``memory``) and that type's fields (see :mod:`loopml.features.online`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.core.config import Settings
from loopml.core.errors import ConfigError

DEFAULT_FILES = ("features.py", "features.yaml", "features.yml")
ONLINE_DB = "online.db"


@dataclasses.dataclass(frozen=True)
class FeaturesConfig:
    """Where the definitions and the online store of a project are.

    Attributes:
        definitions: the definitions file, or ``None`` if the project has none.
        online_store: a URI or a mapping with a ``type``.
        repository: the name applied versions are recorded under.
    """

    definitions: Path | None
    online_store: str | Mapping[str, Any]
    repository: str = "default"

    @classmethod
    def from_settings(cls, settings: Settings) -> FeaturesConfig:
        """Read the section, with defaults under the project's ``.loopml`` folder.

        Raises:
            ConfigError: if the section is not a mapping, or has unknown keys.
        """
        section = settings.sections.get("features") or {}
        if not isinstance(section, Mapping):
            raise ConfigError("the features section of loopml.yaml is a mapping")
        unknown = set(section) - {"definitions", "online_store", "repository"}
        if unknown:
            raise ConfigError(f"unknown key(s) {sorted(unknown)} in the features section")
        root = settings.project_dir
        definitions = section.get("definitions")
        path = root / str(definitions) if definitions else _default_file(root)
        online = section.get("online_store") or f"sqlite:///{settings.home / ONLINE_DB}"
        if not isinstance(online, str | Mapping):
            raise ConfigError("features.online_store is a URI or a mapping with a type")
        return cls(path, online, str(section.get("repository") or "default"))


def _default_file(root: Path) -> Path | None:
    for name in DEFAULT_FILES:
        if (root / name).is_file():
            return root / name
    return None
