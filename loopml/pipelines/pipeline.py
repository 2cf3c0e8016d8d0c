"""``@pipeline``: plain Python that calls steps, compiled into a :class:`Plan`.

Inside a pipeline function, calling a step records a node and returns
references to its outputs; passing a reference to another step connects them.
``dataset("name")`` reads a catalog dataset and ``save(ref, "name")`` writes
one. A pipeline called inside another is inlined with its steps' names
prefixed by its own (``features.scale``), so pipelines compose and reuse.
"""

from __future__ import annotations

import contextvars
import importlib
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from loopml.core.hashing import canonical_json
from loopml.pipelines.errors import PipelineDefinitionError
from loopml.pipelines.plan import Node, OutputRef, Plan
from loopml.pipelines.step import Step, StepSettings

_builder: contextvars.ContextVar[_Builder | None] = contextvars.ContextVar(
    "loopml_pipeline_builder", default=None
)

LOAD_PREFIX = "load"
SAVE_PREFIX = "save"


def current_builder() -> _Builder | None:
    """The plan being built in this context, if a pipeline is compiling."""
    return _builder.get()


class _Builder:
    def __init__(self, pipeline_name: str) -> None:
        self.pipeline_name = pipeline_name
        self.nodes: list[Node] = []
        self.outputs: dict[tuple[str, str], Any] = {}
        self.prefix: list[str] = []
        self.namespaces: set[str] = set()

    def qualify(self, name: str) -> str:
        return ".".join([*self.prefix, name])

    def unique(self, name: str) -> str:
        taken = {node.name for node in self.nodes}
        if name not in taken:
            return name
        index = 2
        while f"{name}_{index}" in taken:
            index += 1
        return f"{name}_{index}"

    def add_step(self, step: Step[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        name = self.unique(self.qualify(step.name))
        try:
            bound = step.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise PipelineDefinitionError(f"step {name!r}: {exc}") from None
        bound.apply_defaults()
        inputs: dict[str, OutputRef] = {}
        params: dict[str, Any] = {}
        for arg, value in bound.arguments.items():
            if isinstance(value, tuple) and value and all(isinstance(v, OutputRef) for v in value):
                raise PipelineDefinitionError(
                    f"step {name!r} input {arg!r} got all outputs of a multi-output step: "
                    "unpack them (a, b = step(...)) and pass one"
                )
            if isinstance(value, OutputRef):
                self._check_types(name, step, arg, value)
                inputs[arg] = value
            else:
                params[arg] = _check_param(name, arg, value)
        self.nodes.append(Node(name, step, inputs, params, step.outputs))
        refs = tuple(OutputRef(name, output) for output in step.outputs)
        for ref, output in zip(refs, step.outputs, strict=True):
            self.outputs[(name, ref.output)] = step.output_type(output)
        return refs[0] if len(refs) == 1 else refs

    def _check_types(self, name: str, step: Step[Any, Any], arg: str, ref: OutputRef) -> None:
        produced = self.outputs.get((ref.node, ref.output), Any)
        expected = step.hints.get(arg, Any)
        if not _compatible(produced, expected):
            raise PipelineDefinitionError(
                f"step {name!r} input {arg!r} expects {_type_name(expected)}, but {ref!r} "
                f"returns {_type_name(produced)}: convert it in a step between them"
            )


def _check_param(step: str, arg: str, value: Any) -> Any:
    try:
        canonical_json(value)
    except (TypeError, ValueError):
        raise PipelineDefinitionError(
            f"step {step!r} parameter {arg!r} is a {type(value).__name__}, which is not JSON-able: "
            "pass data as the output of a step or a catalog dataset, and keep parameters to "
            "numbers, strings, booleans, lists and dicts"
        ) from None
    return value


def _compatible(produced: Any, expected: Any) -> bool:
    if produced is Any or expected is Any or produced is None:
        return True
    if _is_union(produced):  # every value it may produce must fit
        return all(_compatible(option, expected) for option in typing.get_args(produced))
    if _is_union(expected):
        return any(_compatible(produced, option) for option in typing.get_args(expected))
    out_origin = typing.get_origin(produced) or produced
    in_origin = typing.get_origin(expected) or expected
    if not isinstance(out_origin, type) or not isinstance(in_origin, type):
        return True
    return issubclass(out_origin, in_origin)


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) is typing.Union or isinstance(hint, types.UnionType)


def _type_name(value: Any) -> str:
    return getattr(value, "__qualname__", None) or repr(value)


def dataset(name: str) -> Any:
    """Read the catalog dataset ``name`` in a pipeline; returns a reference to its data."""
    builder = current_builder()
    if builder is None:
        raise PipelineDefinitionError("dataset() is used inside a @pipeline function")
    node_name = f"{LOAD_PREFIX}.{name}"
    if not any(node.name == node_name for node in builder.nodes):
        builder.nodes.append(Node(node_name, LOAD_DATASET, {}, {"name": name}, ("output",)))
    return OutputRef(node_name, "output")


def save(ref: Any, name: str) -> None:
    """Write the output ``ref`` to the catalog dataset ``name`` when the pipeline runs."""
    builder = current_builder()
    if builder is None:
        raise PipelineDefinitionError("save() is used inside a @pipeline function")
    if not isinstance(ref, OutputRef):
        raise PipelineDefinitionError(f"save({name!r}) takes the output of a step")
    node_name = builder.unique(f"{SAVE_PREFIX}.{name}")
    builder.nodes.append(Node(node_name, SAVE_DATASET, {"data": ref}, {"name": name}, ()))


def _load_dataset(name: str) -> Any:  # pragma: no cover - run by the worker
    raise RuntimeError("catalog loads are run by the pipeline worker")


def _save_dataset(data: Any, name: str) -> None:  # pragma: no cover - run by the worker
    raise RuntimeError("catalog saves are run by the pipeline worker")


LOAD_DATASET = Step(_load_dataset, name="load_dataset", settings=StepSettings(cache=True))
SAVE_DATASET = Step(
    _save_dataset, name="save_dataset", outputs=(), settings=StepSettings(cache=False)
)


class Pipeline:
    """A function made a pipeline by :func:`pipeline`; compile it to a :class:`Plan`."""

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.signature = inspect.signature(fn)
        for parameter in self.signature.parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise PipelineDefinitionError(
                    f"pipeline {self.name!r}: *args and **kwargs are not allowed"
                )
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __repr__(self) -> str:
        return f"<pipeline {self.name} ({self.fn.__module__}.{self.fn.__qualname__})>"

    @property
    def reference(self) -> str:
        """How runs find this pipeline again (``loopml runs resume``).

        ``module:qualname``, or ``/absolute/file.py:qualname`` for a pipeline loaded from a file.
        """
        import sys

        module = sys.modules.get(self.fn.__module__)
        source = getattr(module, "__loopml_file__", None)
        return f"{source or self.fn.__module__}:{self.fn.__qualname__}"

    def parameters(self) -> dict[str, Any]:
        """The pipeline's parameters and their defaults (``inspect.Parameter.empty`` if none)."""
        return {name: p.default for name, p in self.signature.parameters.items()}

    def compile(self, **params: Any) -> Plan:
        """Build the plan for these parameter values (defaults for the rest).

        Raises:
            PipelineDefinitionError: for an unknown or missing parameter, or a malformed graph.
        """
        bound = self._bind(params)
        builder = _Builder(self.name)
        token = _builder.set(builder)
        try:
            self.fn(**bound)
        finally:
            _builder.reset(token)
        if not builder.nodes:
            raise PipelineDefinitionError(f"pipeline {self.name!r} calls no step")
        return Plan.build(self.name, builder.nodes, bound)

    def _bind(self, params: Mapping[str, Any]) -> dict[str, Any]:
        known = self.signature.parameters
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise PipelineDefinitionError(
                f"pipeline {self.name!r} has no parameter {unknown[0]!r}; "
                f"its parameters are {sorted(known) or 'none'}"
            )
        bound: dict[str, Any] = {}
        for name, parameter in known.items():
            if name in params:
                bound[name] = _check_param(self.name, name, params[name])
            elif parameter.default is inspect.Parameter.empty:
                raise PipelineDefinitionError(
                    f"pipeline {self.name!r} needs parameter {name!r} (--param {name}=...)"
                )
            else:
                bound[name] = parameter.default
        return bound

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = current_builder()
        if builder is None:
            raise PipelineDefinitionError(
                f"pipeline {self.name!r} is run with loopml.pipelines.run({self.name}) "
                "or `loopml run`; inside another pipeline it is called like a step"
            )
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise PipelineDefinitionError(f"pipeline {self.name!r}: {exc}") from None
        bound.apply_defaults()
        namespace = builder.qualify(self.name)
        index = 2
        while namespace in builder.namespaces:
            namespace = builder.qualify(f"{self.name}_{index}")
            index += 1
        builder.namespaces.add(namespace)
        builder.prefix.append(namespace.rsplit(".", 1)[-1])
        try:
            return self.fn(*bound.args, **bound.kwargs)
        finally:
            builder.prefix.pop()


@typing.overload
def pipeline(fn: Callable[..., Any], /) -> Pipeline: ...


@typing.overload
def pipeline(*, name: str | None = None) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    fn: Callable[..., Any] | None = None, /, *, name: str | None = None
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Make a function a pipeline; use bare (``@pipeline``) or with ``name=``."""

    def decorate(function: Callable[..., Any]) -> Pipeline:
        return Pipeline(function, name=name)

    return decorate(fn) if fn is not None else decorate


def load_pipeline(reference: str) -> Pipeline:
    """Find a pipeline by ``module:attribute`` (or ``path/to/file.py:attribute``).

    Raises:
        PipelineDefinitionError: if it cannot be imported or is not a pipeline.
    """
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise PipelineDefinitionError(
            f"{reference!r} is not a pipeline reference: write module:function"
        )
    try:
        if module_name.endswith(".py"):
            module = _import_file(module_name)
        else:
            module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module may raise anything while importing
        raise PipelineDefinitionError(
            f"cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
    if not isinstance(target, Pipeline):
        raise PipelineDefinitionError(f"{reference!r} is not a @pipeline function")
    return target


def declared_pipelines(settings: Any) -> dict[str, str]:
    """Pipelines named in the ``pipelines:`` section of ``loopml.yaml``: name -> reference.

    ::

        pipelines:
          training: flights.pipelines:training
          scoring: pipelines/score.py:score

    Raises:
        PipelineDefinitionError: if the section is not a mapping of names to references.
    """
    section = settings.sections.get("pipelines") or {}
    if not isinstance(section, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in section.items()
    ):
        raise PipelineDefinitionError(
            "the pipelines section of loopml.yaml maps names to module:function references"
        )
    return dict(section)


def find_pipeline(name: str, settings: Any) -> Pipeline:
    """A pipeline by its name in ``loopml.yaml`` or by a ``module:function`` reference.

    Relative file references are taken from the project folder.

    Raises:
        PipelineDefinitionError: naming the known pipelines if ``name`` is none of them.
    """
    declared = declared_pipelines(settings)
    reference = declared.get(name, name)
    if ":" not in reference:
        known = ", ".join(sorted(declared)) or "none declared in loopml.yaml"
        raise PipelineDefinitionError(
            f"no pipeline named {name!r} (known: {known}); or give module:function"
        )
    module, _, attribute = reference.partition(":")
    if module.endswith(".py") and not module.startswith("/"):
        module = str(settings.project_dir / module)
    import sys

    project = str(settings.project_dir)
    if project not in sys.path:
        sys.path.insert(0, project)
    return load_pipeline(f"{module}:{attribute}")


def _import_file(path: str) -> Any:
    import importlib.util
    import pathlib
    import sys

    file = pathlib.Path(path).resolve()
    name = file.stem
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"no Python file at {path}")
    module = importlib.util.module_from_spec(spec)
    module.__loopml_file__ = str(file)  # type: ignore[attr-defined]
    sys.modules[name] = module
    # Appended, not prepended: a pipelines/logging.py must not shadow the standard library.
    # Worker processes import the file's module by name from this folder.
    if str(file.parent) not in sys.path:
        sys.path.append(str(file.parent))
    spec.loader.exec_module(module)
    return module
