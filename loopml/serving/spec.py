"""What to serve and how: deployment specs (YAML) and the server's options.

A deployment file lists deployments; each serves one model reference and may
split or mirror its traffic::

    deployments:
      - name: flights                      # the served name (default: the model's)
        model: flight-delays@production    # NAME@ALIAS, NAME:VERSION or NAME
        canary: {model: flight-delays@staging, percent: 10}
        ab:                                # sticky A/B by a request key, hashed
          key: carrier                     # a header or an input column
          variants: {a: flight-delays:3, b: flight-delays:4}
          weights: {a: 50, b: 50}
        shadow: {model: flight-delays@candidate, percent: 100}
        features: {service: delays, entity_keys: [origin]}

Server options come from the ``serving:`` section of ``loopml.yaml`` (see
:class:`ServingOptions`); ``LOOPML_SERVING_TOKEN`` sets the bearer token.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.core.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclasses.dataclass(frozen=True)
class CanarySpec:
    """Send ``percent`` of the requests to ``model`` instead of the primary."""

    model: str
    percent: float


@dataclasses.dataclass(frozen=True)
class ABSpec:
    """Split traffic between variants, sticky by the hashed value of ``key``.

    Attributes:
        variants: variant name -> model reference.
        weights: variant name -> relative weight (equal when omitted).
        key: a request header or input column whose value picks the variant.
    """

    variants: Mapping[str, str]
    weights: Mapping[str, float]
    key: str | None = None


@dataclasses.dataclass(frozen=True)
class ShadowSpec:
    """Mirror ``percent`` of the requests to ``model``; its answers are only logged."""

    model: str
    percent: float = 100.0


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """Complete requests from the online store: ``entity_keys`` -> the service's features."""

    service: str
    entity_keys: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class DeploymentSpec:
    """One served model and its traffic rules.

    Attributes:
        name: the name clients use in URLs.
        model: the reference the deployment follows (``NAME@ALIAS`` is hot-reloaded).
        canary, ab, shadow: optional traffic rules.
        features: optional feature enrichment.
        poll_interval: seconds between two looks at the registry (``None``: the server's).
    """

    name: str
    model: str
    canary: CanarySpec | None = None
    ab: ABSpec | None = None
    shadow: ShadowSpec | None = None
    features: FeatureSpec | None = None
    poll_interval: float | None = None

    def references(self) -> list[str]:
        """Every model reference the deployment may serve from, primary first."""
        refs = [self.model]
        if self.canary:
            refs.append(self.canary.model)
        if self.ab:
            refs.extend(self.ab.variants.values())
        if self.shadow:
            refs.append(self.shadow.model)
        return list(dict.fromkeys(refs))

    @classmethod
    def for_model(cls, ref: str, name: str | None = None) -> DeploymentSpec:
        """The spec that serves ``ref`` alone, named after its model."""
        return cls(name=name or _model_name(ref), model=ref)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeploymentSpec:
        """Build a spec from its YAML form.

        Raises:
            ConfigError: naming the key at fault.
        """
        data = _mapping(data, "a deployment")
        _known(data, {"name", "model", "canary", "ab", "shadow", "features", "poll_interval"}, "")
        model = data.get("model")
        if not isinstance(model, str) or not model:
            raise ConfigError("a deployment needs 'model: NAME@ALIAS'")
        name = str(data.get("name") or _model_name(model))
        if not _NAME.match(name):
            raise ConfigError(f"deployment name {name!r}: letters, digits, '_', '.', '-'")
        poll = data.get("poll_interval")
        return cls(
            name=name,
            model=model,
            canary=_canary(data.get("canary"), name),
            ab=_ab(data.get("ab"), name),
            shadow=_shadow(data.get("shadow"), name),
            features=_features(data.get("features"), name),
            poll_interval=None if poll is None else _positive(poll, f"{name}.poll_interval"),
        )


def load_deployments(path: str | os.PathLike[str]) -> list[DeploymentSpec]:
    """Read a deployment file (a ``deployments:`` list, or one deployment mapping).

    Raises:
        ConfigError: if the file is missing or malformed, or two deployments share a name.
    """
    import yaml

    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read deployment file {str(file)!r}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"deployment file {str(file)!r} is not YAML: {exc}") from exc
    if isinstance(data, Mapping) and "deployments" in data:
        data = data["deployments"]
    items = [data] if isinstance(data, Mapping) else data
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{str(file)!r}: give a 'deployments:' list")
    specs = [DeploymentSpec.from_dict(item) for item in items]
    names = [spec.name for spec in specs]
    twice = {n for n in names if names.count(n) > 1}
    if twice:
        raise ConfigError(f"deployment {sorted(twice)[0]!r} appears twice in {str(file)!r}")
    return specs


@dataclasses.dataclass(frozen=True)
class ServingOptions:
    """How the server behaves (the ``serving:`` section of ``loopml.yaml``).

    Attributes:
        token: the bearer token every request must carry (``None``: no auth, loopback only).
        poll_interval: seconds between two looks at the registry for alias moves.
        max_batch_size: most rows one micro-batched predict call takes.
        max_batch_wait_ms: longest wait for more requests when traffic is concurrent.
        max_request_bytes: larger bodies get 413.
        max_rows: requests with more rows get 413.
        max_concurrency: requests in flight beyond this get 429.
        timeout: seconds a prediction may take before 504.
        log_requests: whether requests are written to the prediction log.
        log_queue_size: records held in memory before new ones are dropped (and counted).
        log_flush_rows: records per Parquet segment, at most.
        log_flush_seconds: longest time a record waits before its segment is written.
    """

    token: str | None = None
    poll_interval: float = 5.0
    max_batch_size: int = 1024
    max_batch_wait_ms: float = 2.0
    max_request_bytes: int = 16 * 2**20
    max_rows: int = 10_000
    max_concurrency: int = 256
    timeout: float = 30.0
    log_requests: bool = True
    log_queue_size: int = 100_000
    log_flush_rows: int = 5_000
    log_flush_seconds: float = 1.0

    @classmethod
    def from_settings(cls, settings: Any = None, **overrides: Any) -> ServingOptions:
        """Options from ``serving:`` in ``loopml.yaml``, ``LOOPML_SERVING_TOKEN``, then overrides.

        Raises:
            ConfigError: on an unknown key or a bad value.
        """
        section = dict((getattr(settings, "sections", None) or {}).get("serving") or {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        _known(section, set(fields), "serving.")
        env_token = os.environ.get("LOOPML_SERVING_TOKEN")
        if env_token:
            section["token"] = env_token
        section.update({k: v for k, v in overrides.items() if v is not None})
        values: dict[str, Any] = {}
        for key, value in section.items():
            default = fields[key].default
            if key == "token":
                values[key] = str(value) if value else None
            elif isinstance(default, bool):
                values[key] = bool(value)
            else:
                number = _positive(value, f"serving.{key}")
                values[key] = int(number) if isinstance(default, int) else number
        return cls(**values)


def _model_name(ref: str) -> str:
    return ref.partition("@")[0].partition(":")[0]


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{what} is a mapping, not {value!r}")
    return value


def _known(data: Mapping[str, Any], known: set[str], prefix: str) -> None:
    unknown = sorted(str(k) for k in set(data) - known)
    if unknown:
        raise ConfigError(f"unknown key {prefix}{unknown[0]} (known: {', '.join(sorted(known))})")


def _positive(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} is a number, not {value!r}") from None
    if not number >= 0:
        raise ConfigError(f"{what} is 0 or more, not {value!r}")
    return number


def _percent(value: Any, what: str) -> float:
    number = _positive(value, what)
    if number > 100:
        raise ConfigError(f"{what} is a percentage (0-100), not {value!r}")
    return number


def _canary(data: Any, name: str) -> CanarySpec | None:
    if data is None:
        return None
    data = _mapping(data, f"{name}.canary")
    _known(data, {"model", "percent"}, f"{name}.canary.")
    return CanarySpec(str(data.get("model", "")), _percent(data.get("percent"), f"{name}.canary"))


def _shadow(data: Any, name: str) -> ShadowSpec | None:
    if data is None:
        return None
    data = _mapping(data, f"{name}.shadow")
    _known(data, {"model", "percent"}, f"{name}.shadow.")
    return ShadowSpec(str(data.get("model", "")), _percent(data.get("percent", 100), name))


def _ab(data: Any, name: str) -> ABSpec | None:
    if data is None:
        return None
    data = _mapping(data, f"{name}.ab")
    _known(data, {"variants", "weights", "key"}, f"{name}.ab.")
    variants = {str(k): str(v) for k, v in _mapping(data.get("variants"), "ab.variants").items()}
    if len(variants) < 2:
        raise ConfigError(f"{name}.ab needs two variants or more")
    raw = data.get("weights") or {v: 1 for v in variants}
    weights = {str(k): _positive(w, f"{name}.ab.weights") for k, w in _mapping(raw, "w").items()}
    if set(weights) != set(variants) or not sum(weights.values()) > 0:
        raise ConfigError(f"{name}.ab.weights name every variant, with a positive total")
    key = data.get("key")
    return ABSpec(variants, weights, None if key is None else str(key))


def _features(data: Any, name: str) -> FeatureSpec | None:
    if data is None:
        return None
    data = _mapping(data, f"{name}.features")
    _known(data, {"service", "entity_keys"}, f"{name}.features.")
    keys = data.get("entity_keys")
    if not data.get("service") or not isinstance(keys, list) or not keys:
        raise ConfigError(f"{name}.features needs 'service' and an 'entity_keys' list")
    return FeatureSpec(str(data["service"]), tuple(str(k) for k in keys))
