"""The model's way from a training pipeline into the registry, as pipeline steps.

.. code-block:: python

    from loopml.registry import steps as reg
    from loopml.validation import steps as mv

    package = reg.package_model(model, test, features=FEATURES)
    candidate = mv.evaluate_model(package, test, "delayed", features=FEATURES)
    production = mv.evaluate_baseline(reg.production_model("flights"), test, "delayed",
                                      features=FEATURES)
    blessing = mv.bless_model(candidate, POLICY, baseline=production, model_artifact=package)
    reg.register_version("flights", package, blessing, validation=report)

:func:`package_model` turns a fitted model into a model package (an artifact
the server can load safely) whose lineage reaches the training step;
:func:`production_model` looks up what serves now (never from cache);
:func:`register_version` registers the package, records its checks (the
blessing, and data validation when given) with their artifacts as evidence,
and lets the model's policy promote it. All of them write to the run's stores
(:func:`loopml.pipelines.current_step`).
"""

from __future__ import annotations

from typing import Any

from loopml.pipelines import current_step, step


@step
def package_model(
    model: Any,
    example: Any,
    features: list[str] | None = None,
    metrics: dict[str, float] | None = None,
) -> str:
    """Package a fitted model with an example of its input; return the package's artifact id.

    Args:
        model: a fitted model (another step's output).
        example: a frame of inputs (the test set, say): the signature is inferred from
            all of its rows (so a column with gaps is nullable), the first ones are kept
            as the package's example.
        features: the columns the model takes (default: all of ``example``).
        metrics: metrics to write in the manifest.

    The package is an output of this step (event ``package``), next to the id itself.
    """
    from loopml.models import Lineage, log_model

    context = current_step()
    workspace = context.workspace()
    frame = example[list(features)] if features else example
    lineage = Lineage(pipeline_run=context.run_id)
    # The whole frame goes in: the signature (types, which columns may be null) is
    # inferred from all of it; the package keeps its first rows as the example.
    artifact_id = log_model(
        model, example=frame, workspace=workspace, metrics=metrics, lineage=lineage
    )
    if context.execution_id is not None:
        workspace.record_events(context.execution_id, outputs={"package": artifact_id})
    return artifact_id


@step(cache=False)
def production_model(name: str, alias: str = "production") -> str | None:
    """The model package ``name@alias`` points at now, or None (no such model or alias yet).

    Never served from cache: the alias moves between runs.
    """
    from loopml.core.errors import NotFoundError
    from loopml.registry.actions import ModelRegistry

    registry = ModelRegistry(current_step().workspace())
    try:
        return registry.resolve(f"{name}@{alias}").artifact_id
    except NotFoundError:
        return None


@step
def register_version(
    name: str,
    package: str,
    blessing: Any,
    validation: Any = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Register ``package`` as a version of ``name`` and record its checks; the policy may promote.

    Registering a package that is already a live version of ``name`` records the
    checks on that version instead of adding another. The ``blessing`` check is
    read from the blessing artifact; ``data_validation`` passes when the validation
    report (if given) has no error.

    Returns:
        ``{"model", "version", "aliases", "blessed"}`` after the checks.
    """
    from loopml.registry.actions import ModelRegistry

    context = current_step()
    registry = ModelRegistry(context.workspace())
    run_id = _training_execution(context.workspace(), package) or context.execution_id
    version = _existing(registry, name, package) or registry.register_model(
        name, package, run_id=run_id, description=description
    )
    registry.record_blessing(name, version.version, context.inputs["blessing"])
    if validation is not None:
        evidence = context.inputs.get("validation")
        registry.record_check(
            name, version.version, "data_validation", bool(validation.ok), evidence
        )
    final = registry.get_version(name, version.version)
    return {
        "model": name,
        "version": final.version,
        "aliases": sorted(final.aliases),
        "blessed": bool(getattr(blessing, "blessed", False)),
    }


def _training_execution(workspace: Any, package: str) -> str | None:
    """The execution that trained the packaged model: the producer of ``package_model``'s input.

    The package is an output (``package``) of the step that packaged it; that step's
    input ``model`` was produced by the training step, whose inputs are the training data.
    """
    store = workspace.metadata
    for event in store.list_events(artifact_id=package):
        if event.kind != "output":
            continue
        inputs = store.list_events(execution_id=event.execution_id)
        model = next((e for e in inputs if e.kind == "input" and e.name == "model"), None)
        if model is None:
            continue
        producers = store.list_events(artifact_id=model.artifact_id)
        trained = next((e for e in producers if e.kind == "output"), None)
        if trained is not None:
            return str(trained.execution_id)
    return None


def _existing(registry: Any, name: str, package: str) -> Any:
    from loopml.core.errors import NotFoundError

    try:
        versions = registry.list_versions(name)
    except NotFoundError:
        return None
    return next((v for v in versions if v.artifact_id == package), None)
