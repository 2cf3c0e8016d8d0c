"""Settings of a loopml project and where they come from.

Precedence, highest first:

1. explicit arguments (``Settings.load(metadata_uri=...)``),
2. ``LOOPML_*`` environment variables,
3. ``loopml.yaml`` in the project folder,
4. defaults, which keep everything under ``<project>/.loopml/``.

The project folder is ``LOOPML_PROJECT_DIR`` if set, else the nearest folder
from the current one upwards that holds a ``loopml.yaml``, else the current
folder. Relative paths are taken relative to the project folder.

=====================  ==============================  ====================================
setting                environment variable            default
=====================  ==============================  ====================================
``home``               ``LOOPML_HOME``                 ``<project>/.loopml``
``metadata_uri``       ``LOOPML_METADATA_URI``         ``sqlite:///<home>/metadata.db``
``artifact_uri``       ``LOOPML_ARTIFACT_URI``         ``<home>/artifacts``
``artifact_options``   ``LOOPML_ARTIFACT_OPTIONS``     ``{}`` (fsspec storage options, JSON)
``flush_interval``     ``LOOPML_FLUSH_INTERVAL``       ``0.5`` seconds between metric writes
``user``               ``LOOPML_USER``                 the login name
``executor``           ``LOOPML_EXECUTOR``             ``local`` (``process``, ``ray``, ``dask``,
                                                       ``ray://host:port``, ``tcp://host:8786``)
=====================  ==============================  ====================================

Other top-level keys of ``loopml.yaml`` are sections owned by capabilities
(``catalog``, ``features``, ...); they are kept raw in ``Settings.sections``.
"""

from __future__ import annotations

import dataclasses
import difflib
import getpass
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.core.errors import ConfigError

CONFIG_FILE = "loopml.yaml"
ENV_PREFIX = "LOOPML_"
SECTIONS = frozenset(
    {
        "catalog",
        "pipelines",
        "features",
        "validation",
        "registry",
        "serving",
        "monitoring",
        "triggers",
    }
)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Resolved settings of one loopml project. Build it with :meth:`load`."""

    project_dir: Path
    home: Path
    metadata_uri: str
    artifact_uri: str
    # Storage options may hold credentials: never shown in repr.
    artifact_options: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    flush_interval: float = 0.5
    user: str = "unknown"
    executor: str = "local"
    sections: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def load(
        cls,
        project_dir: str | os.PathLike[str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Resolve settings by the documented precedence.

        Args:
            project_dir: the project folder; found as described above if omitted.
            environ: the environment to read (``os.environ`` if omitted).
            **overrides: explicit values for any field; ``None`` values are ignored.

        Raises:
            ConfigError: on an unknown setting, a malformed ``loopml.yaml`` or a bad value.
        """
        env = os.environ if environ is None else environ
        root = _project_dir(project_dir, env)
        layers = [_read_yaml(root / CONFIG_FILE), _read_env(env), overrides]
        merged: dict[str, Any] = {}
        sections: dict[str, Any] = {}
        for layer in layers:
            for key, value in layer.items():
                if value is None:
                    continue
                if key in SECTIONS:
                    sections[key] = value
                else:
                    merged[key] = value
        return cls._build(root, merged, sections)

    @classmethod
    def _build(cls, root: Path, values: dict[str, Any], sections: dict[str, Any]) -> Settings:
        home = _resolve_path(root, values.get("home", ".loopml"))
        metadata_uri = str(values.get("metadata_uri") or f"sqlite:///{home / 'metadata.db'}")
        artifact_uri = str(values.get("artifact_uri") or (home / "artifacts"))
        if "://" not in artifact_uri:
            artifact_uri = str(_resolve_path(root, artifact_uri))
        if metadata_uri.startswith("sqlite:///") and not metadata_uri.startswith("sqlite:////"):
            relative = metadata_uri.removeprefix("sqlite:///")
            if relative and relative != ":memory:" and not relative.startswith("file:"):
                metadata_uri = f"sqlite:///{_resolve_path(root, relative)}"
        options = values.get("artifact_options") or {}
        if not isinstance(options, Mapping):
            raise ConfigError("artifact_options must be a mapping of fsspec storage options")
        try:
            interval = float(values.get("flush_interval", 0.5))
        except (TypeError, ValueError) as exc:
            raise ConfigError("flush_interval must be a number of seconds") from exc
        if not 0 < interval <= 60:
            raise ConfigError("flush_interval must be between 0 and 60 seconds")
        return cls(
            project_dir=root,
            home=home,
            metadata_uri=metadata_uri,
            artifact_uri=artifact_uri,
            artifact_options=dict(options),
            flush_interval=interval,
            user=str(values.get("user") or _login_name()),
            executor=str(values.get("executor") or "local"),
            sections=sections,
        )


_FIELDS = (
    "home",
    "metadata_uri",
    "artifact_uri",
    "artifact_options",
    "flush_interval",
    "user",
    "executor",
)


def _project_dir(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    if explicit is not None:
        return Path(explicit).expanduser().resolve()
    if env.get("LOOPML_PROJECT_DIR"):
        return Path(env["LOOPML_PROJECT_DIR"]).expanduser().resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    return here


def _resolve_path(root: Path, value: Any) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else (root / path).resolve()


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, not {type(data).__name__}")
    for key in data:
        if key not in _FIELDS and key not in SECTIONS:
            hint = difflib.get_close_matches(str(key), [*_FIELDS, *SECTIONS], n=1)
            did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"{path}: unknown setting {key!r}{did_you_mean}")
    return data


def _read_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in _FIELDS:
        raw = env.get(ENV_PREFIX + field.upper())
        if raw is None or raw == "":
            continue
        if field == "artifact_options":
            try:
                values[field] = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError("LOOPML_ARTIFACT_OPTIONS must be a JSON object") from exc
        else:
            values[field] = raw
    return values


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
