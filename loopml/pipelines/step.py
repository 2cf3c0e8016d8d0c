"""``@step``: a typed Python function that becomes a node of a pipeline.

A step's arguments are its *inputs* when a pipeline passes it another step's
output or a catalog dataset, and its *parameters* otherwise (JSON-able values,
part of the cache key). Its return value is one output named ``output``, or
several when ``outputs=("train", "test")`` names the items of a returned tuple.

Called inside a ``@pipeline`` function, a step does not run: it adds a node to
the plan being built and returns references to its outputs. Called anywhere
else it is the plain function, so steps stay unit-testable.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, ParamSpec, TypeVar

from loopml.core.errors import InvalidInputError
from loopml.pipelines.errors import PipelineDefinitionError

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_OUTPUT = "output"


@dataclasses.dataclass(frozen=True)
class StepSettings:
    """How a step runs.

    Attributes:
        retries: how many times a failing step is tried again.
        retry_delay: seconds before the first retry; doubled for each next one.
        timeout: seconds a try may take; ``None`` for no limit.
        cache: reuse outputs of an earlier run with the same cache key.
        resources: what a try needs, e.g. ``{"cpus": 2, "memory": 2e9}`` (used by Ray and Dask).
    """

    retries: int = 0
    retry_delay: float = 1.0
    timeout: float | None = None
    cache: bool = True
    resources: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.retries, int) or self.retries < 0:
            raise PipelineDefinitionError("retries is a non-negative integer")
        if self.retry_delay < 0:
            raise PipelineDefinitionError("retry_delay is a non-negative number of seconds")
        if self.timeout is not None and self.timeout <= 0:
            raise PipelineDefinitionError("timeout is a positive number of seconds, or None")
        from loopml.pipelines.executors.base import check_resources

        try:
            object.__setattr__(self, "resources", check_resources(self.resources))
        except InvalidInputError as exc:
            raise PipelineDefinitionError(f"resources: {exc}") from None


class Step(Generic[P, R]):
    """A function made a pipeline step by :func:`step`."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        outputs: Sequence[str] | None = None,
        settings: StepSettings | None = None,
    ) -> None:
        if not callable(fn) or not hasattr(fn, "__code__"):
            raise PipelineDefinitionError(f"@step needs a plain function, not {fn!r}")
        self.fn = fn
        self.name = name or fn.__name__
        self.settings = settings or StepSettings()
        self.signature = inspect.signature(fn)
        for parameter in self.signature.parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise PipelineDefinitionError(
                    f"step {self.name!r}: *args and **kwargs are not allowed; name every input"
                )
        self.hints = _type_hints(fn)
        self.outputs = _output_names(self.name, outputs, self.hints.get("return"))
        functools.update_wrapper(self, fn)

    def __repr__(self) -> str:
        return f"<step {self.name} ({self.fn.__module__}.{self.fn.__qualname__})>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        from loopml.pipelines.pipeline import current_builder

        builder = current_builder()
        if builder is None:
            return self.fn(*args, **kwargs)
        return builder.add_step(self, args, kwargs)  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        # Steps travel to workers by reference to their function, with their own
        # name, outputs and settings (a step made inline with step(fn, ...) has no
        # module attribute of its own).
        return (
            _import_step,
            (self.fn.__module__, self.fn.__qualname__, self.name, self.outputs, self.settings),
        )

    def with_options(
        self,
        *,
        name: str | None = None,
        retries: int | None = None,
        retry_delay: float | None = None,
        timeout: float | None = None,
        cache: bool | None = None,
        resources: Mapping[str, float] | None = None,
    ) -> Step[P, R]:
        """A copy of this step with another name or other settings."""
        settings = self.settings
        if retries is not None:
            settings = dataclasses.replace(settings, retries=retries)
        if retry_delay is not None:
            settings = dataclasses.replace(settings, retry_delay=retry_delay)
        if timeout is not None:
            settings = dataclasses.replace(settings, timeout=timeout)
        if cache is not None:
            settings = dataclasses.replace(settings, cache=cache)
        if resources is not None:
            settings = dataclasses.replace(settings, resources=dict(resources))
        return Step(self.fn, name=name or self.name, outputs=self.outputs, settings=settings)

    def output_type(self, output: str) -> Any:
        """The annotated type of one output, or ``Any``."""
        returned = self.hints.get("return", Any)
        if len(self.outputs) == 1:
            return returned
        args = typing.get_args(returned)
        if typing.get_origin(returned) is tuple and len(args) == len(self.outputs):
            return args[self.outputs.index(output)]
        return Any


def _import_step(
    module: str, qualname: str, name: str, outputs: tuple[str, ...], settings: StepSettings
) -> Step[Any, Any]:
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    fn = target.fn if isinstance(target, Step) else target
    return Step(fn, name=name, outputs=outputs, settings=settings)


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references: fall back to no hints
        return {}


def _output_names(step_name: str, outputs: Sequence[str] | None, returned: Any) -> tuple[str, ...]:
    if outputs is None:
        return (DEFAULT_OUTPUT,)
    if isinstance(outputs, str):
        outputs = (outputs,)
    names = tuple(outputs)
    if not names:
        return ()  # a sink: writes somewhere, returns nothing
    if len(set(names)) != len(names) or not all(
        isinstance(n, str) and n.isidentifier() for n in names
    ):
        raise PipelineDefinitionError(
            f"step {step_name!r}: outputs must be distinct identifiers, got {list(names)}"
        )
    args = typing.get_args(returned)
    fixed_tuple = typing.get_origin(returned) is tuple and args and args[-1] is not Ellipsis
    if len(names) > 1 and fixed_tuple and len(args) != len(names):
        raise PipelineDefinitionError(
            f"step {step_name!r} names {len(names)} outputs but returns a tuple of {len(args)}"
        )
    return names


@typing.overload
def step(fn: Callable[P, R], /) -> Step[P, R]: ...


@typing.overload
def step(
    *,
    name: str | None = None,
    outputs: Sequence[str] | None = None,
    retries: int = 0,
    retry_delay: float = 1.0,
    timeout: float | None = None,
    cache: bool = True,
    resources: Mapping[str, float] | None = None,
) -> Callable[[Callable[P, R]], Step[P, R]]: ...


def step(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    outputs: Sequence[str] | None = None,
    retries: int = 0,
    retry_delay: float = 1.0,
    timeout: float | None = None,
    cache: bool = True,
    resources: Mapping[str, float] | None = None,
) -> Step[P, R] | Callable[[Callable[P, R]], Step[P, R]]:
    """Make a function a pipeline step; use bare (``@step``) or with options.

    Args:
        name: the step's name in plans (the function's name if omitted).
        outputs: names of the items of a returned tuple; one output ``output`` if omitted.
        retries: how many times a failing try is repeated, with exponential backoff.
        retry_delay: seconds before the first retry.
        timeout: seconds a try may take.
        cache: reuse outputs when the cache key matches an earlier successful run.
        resources: what a try needs (``cpus``, ``gpus``, ``memory``) on Ray or Dask.
    """
    settings = StepSettings(
        retries=retries,
        retry_delay=retry_delay,
        timeout=timeout,
        cache=cache,
        resources=dict(resources or {}),
    )

    def decorate(function: Callable[P, R]) -> Step[P, R]:
        return Step(function, name=name, outputs=outputs, settings=settings)

    return decorate(fn) if fn is not None else decorate
