"""Model cards, generated from what the registry and the metadata store know.

:func:`build_card` gathers a version's lineage (the run that produced its
artifact, the training data it consumed, the code version), metrics (the
run's and the model package's), checks (with the blessing's evidence loaded
and shown as its ``to_dict()``), approvals, alias history, and the model's
user-written ``intended_use``, ``limitations`` and ``license`` (set with
``describe``). :meth:`ModelCard.markdown` writes YAML front matter that the
Hugging Face tools read (``huggingface_hub.ModelCard``: ``library_name``,
``tags``, ``license``, ``model-index``); :meth:`ModelCard.html` a standalone
page built from the blocks of :mod:`loopml.reports`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loopml.metadata import AliasMove, Check, Decision, ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from loopml.registry.registry import RegistryCore

_FLAVOR_LIBRARIES = {
    "sklearn": "sklearn",
    "scikit-learn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "onnx": "onnx",
}
_CLASSIFICATION = ("auc", "accuracy", "f1", "precision", "recall", "log_loss", "logloss")
_REGRESSION = ("rmse", "mae", "r2", "mape", "mse")


@dataclasses.dataclass(frozen=True)
class ModelCard:
    """What a model card says about one version; render it with :meth:`markdown` or :meth:`html`."""

    model: RegisteredModel
    version: ModelVersion
    artifact_type: str
    flavor: str | None
    run: Mapping[str, Any] | None
    training_data: tuple[Mapping[str, Any], ...]
    metrics: Mapping[str, float]
    checks: Mapping[str, Check]
    evidence: Mapping[str, Any]
    decisions: tuple[Decision, ...]
    alias_history: tuple[AliasMove, ...]

    @property
    def intended_use(self) -> str | None:
        return _text(self.model.properties.get("intended_use"))

    @property
    def limitations(self) -> str | None:
        return _text(self.model.properties.get("limitations"))

    @property
    def license(self) -> str | None:
        return _text(self.model.properties.get("license"))

    @property
    def title(self) -> str:
        return f"{self.model.name} version {self.version.version}"

    def front_matter(self) -> dict[str, Any]:
        """The card's metadata, in the Hugging Face model card's YAML keys."""
        data: dict[str, Any] = {
            "library_name": _FLAVOR_LIBRARIES.get(self.flavor or "", "loopml"),
            "tags": ["loopml", *sorted({*self.model.tags, *self.version.tags})],
        }
        if self.license:
            data["license"] = self.license
        if self.metrics:
            data["model-index"] = [{"name": self.model.name, "results": [self._result()]}]
        return data

    def _result(self) -> dict[str, Any]:
        keys = {key.lower() for key in self.metrics}
        task = "tabular-regression" if keys & set(_REGRESSION) else "tabular-classification"
        if not keys & {*_CLASSIFICATION, *_REGRESSION}:
            task = "other"
        data = self.training_data[0] if self.training_data else {"name": "data", "id": "unknown"}
        return {
            "task": {"type": task},
            "dataset": {"name": str(data["name"]), "type": str(data["id"])[:12]},
            "metrics": [
                {"type": key, "value": value, "name": key} for key, value in self.metrics.items()
            ],
        }

    def markdown(self) -> str:
        """The card as Markdown with YAML front matter (a Hugging Face ``README.md``)."""
        from loopml.registry.card_text import card_markdown

        return card_markdown(self)

    def html(self) -> str:
        """The card as one standalone HTML page (inline CSS, no script, no external URL)."""
        from loopml.registry.card_text import card_html

        return card_html(self)


def build_card(registry: RegistryCore, name: str, number: int) -> ModelCard:
    """Gather everything the card of version ``number`` of ``name`` shows."""
    metadata = registry.workspace.metadata
    model = registry.get_model(name)
    version = registry.get_version(name, number)
    artifact = metadata.get_artifact(version.artifact_id)
    run, training, metrics = _lineage(registry, version)
    metrics = {**metrics, **_numbers(artifact.properties.get("metrics"))}
    checks = registry.checks(name, number)
    evidence = {c.name: _evidence(registry, c) for c in checks.values() if c.evidence_artifact_id}
    # The blessing evaluated the version on held-out data: its metrics are the card's.
    candidate = evidence.get("blessing", {}).get("candidate")
    if isinstance(candidate, Mapping):
        metrics = {**metrics, **_numbers(candidate.get("metrics"))}
    return ModelCard(
        model=model,
        version=version,
        artifact_type=artifact.type,
        flavor=_text(artifact.properties.get("flavor")),
        run=run,
        training_data=tuple(training),
        metrics=metrics,
        checks=checks,
        evidence=evidence,
        decisions=tuple(registry.decisions(name, number)),
        alias_history=tuple(registry.alias_history(name)),
    )


def _lineage(
    registry: RegistryCore, version: ModelVersion
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, float]]:
    """The run that produced the version, the data it consumed, and its metrics."""
    metadata = registry.workspace.metadata
    run_id = version.run_id
    if run_id is None:
        graph = metadata.lineage(version.artifact_id, direction="upstream", depth=1)
        producers = sorted(
            e.execution_id
            for e in graph.events
            if e.artifact_id == version.artifact_id and e.kind == "output"
        )
        run_id = producers[0] if producers else None
    if run_id is None:
        return None, [], {}
    execution = metadata.get_execution(run_id)
    training = []
    for event in metadata.list_events(execution_id=run_id):
        if event.kind == "input":
            artifact = metadata.get_artifact(event.artifact_id)
            training.append(
                {
                    "name": event.name,
                    "id": artifact.id,
                    "type": artifact.type,
                    "properties": dict(artifact.properties),
                }
            )
    run = {
        "id": execution.id,
        "name": execution.name,
        "type": execution.type,
        "status": str(execution.status),
        "user": execution.user,
        "git_commit": execution.git_commit,
        "git_dirty": execution.git_dirty,
        "started_at": execution.started_at.isoformat(),
        "params": dict(execution.params),
    }
    return run, training, _numbers(execution.metrics)


def _evidence(registry: RegistryCore, check: Check) -> dict[str, Any]:
    """The evidence artifact of a check as a mapping (its ``to_dict()``), or why it is not."""
    assert check.evidence_artifact_id is not None
    try:
        loaded = registry.workspace.load(check.evidence_artifact_id)
    except Exception as exc:  # The card still renders without the evidence.
        return {"artifact_id": check.evidence_artifact_id, "error": f"not loaded: {exc}"}
    to_dict = getattr(loaded, "to_dict", None)
    if callable(to_dict):
        loaded = to_dict()
    if not isinstance(loaded, Mapping):
        loaded = {"value": repr(loaded)}
    plain: dict[str, Any] = json.loads(json.dumps(loaded, default=str))
    return plain


def _numbers(values: Any) -> dict[str, float]:
    if not isinstance(values, Mapping):
        return {}
    found = {}
    for key, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            found[str(key)] = float(value)
    return found


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
