"""Blessing policies: the bounds a candidate model must satisfy to be blessed.

A policy is written as a dict or YAML: one key per metric with its rules,
``slices`` with one rule or a list, and ``require_infra_check``. Mistakes
(an unknown metric or rule, a drop bound on a metric that is better lower)
are refused when the policy is read, not when a model is judged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidInputError
from loopml.validation.metrics import (
    CLASSIFICATION_METRICS,
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    REGRESSION_METRICS,
    finite,
)

ABSOLUTE = {
    ">=": lambda value, bound: value >= bound,
    ">": lambda value, bound: value > bound,
    "<=": lambda value, bound: value <= bound,
    "<": lambda value, bound: value < bound,
}
DROPS = ("max_drop", "max_drop_ratio")
INCREASES = ("max_increase", "max_increase_ratio")
RELATIVE = DROPS + INCREASES
AGAINST = ("overall", "baseline")
METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
EPSILON = 1e-12


@dataclasses.dataclass(frozen=True)
class Rule:
    """One bound on one metric: ``metric op bound`` (``roc_auc >= 0.8``, ``f1 max_drop 0.005``)."""

    metric: str
    op: str
    bound: float

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise InvalidInputError(
                f"unknown metric {self.metric!r} in the policy (metrics: {', '.join(METRICS)})"
            )
        if self.op not in ABSOLUTE and self.op not in RELATIVE:
            known = ", ".join([*ABSOLUTE, *RELATIVE])
            raise InvalidInputError(f"{self.metric}: unknown rule {self.op!r} (rules: {known})")
        bound = self.bound
        if (
            isinstance(bound, bool)
            or not isinstance(bound, int | float)
            or not math.isfinite(bound)
        ):
            raise InvalidInputError(f"{self.metric} {self.op}: the bound must be a finite number")
        if self.op in RELATIVE and bound < 0:
            raise InvalidInputError(f"{self.metric} {self.op}: the bound must be >= 0")
        if self.op in DROPS and self.metric in LOWER_IS_BETTER:
            raise InvalidInputError(
                f"{self.metric} is better lower: bound it with max_increase or max_increase_ratio"
            )
        if self.op in INCREASES and self.metric in HIGHER_IS_BETTER:
            raise InvalidInputError(
                f"{self.metric} is better higher: bound it with max_drop or max_drop_ratio"
            )

    @property
    def relative(self) -> bool:
        """Compares with a reference value (the baseline's, or the overall's for slices)."""
        return self.op in RELATIVE

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}"


@dataclasses.dataclass(frozen=True)
class SliceRule:
    """No sufficient slice group worse than its reference by more than ``rule`` allows."""

    rule: Rule
    against: str = "overall"

    def __post_init__(self) -> None:
        if not self.rule.relative:
            raise InvalidInputError(
                f"a slice rule bounds a change: {', '.join(RELATIVE)}, not {self.rule.op!r}"
            )
        if self.against not in AGAINST:
            raise InvalidInputError(f"slice rule: against must be one of {', '.join(AGAINST)}")

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.rule.metric, self.rule.op: self.rule.bound, "against": self.against}


@dataclasses.dataclass(frozen=True)
class BlessingPolicy:
    """What a candidate must satisfy to be blessed; build it with :meth:`from_dict` or :meth:`load`.

    Attributes:
        rules: bounds on the overall metrics.
        slice_rules: bounds on the slice groups.
        require_infra_check: the model must have passed an infrastructure check
            (loaded in a fresh process, its signature exercised).
    """

    rules: tuple[Rule, ...] = ()
    slice_rules: tuple[SliceRule, ...] = ()
    require_infra_check: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BlessingPolicy:
        """A policy from its dict (the module's docstring shows the form).

        Raises:
            InvalidInputError: on an unknown metric or rule, a bad bound, a drop rule on a
                metric better lower (or the reverse).
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"a blessing policy is a mapping, not {type(data).__name__}")
        rules: list[Rule] = []
        slice_rules: list[SliceRule] = []
        for key, value in data.items():
            if key == "require_infra_check":
                continue
            if key == "slices":
                items = value if isinstance(value, list) else [value]
                slice_rules += [_slice_rule(item) for item in items]
            elif isinstance(value, Mapping):
                rules += [Rule(key, op, bound) for op, bound in value.items()]
            else:
                raise InvalidInputError(f"{key}: rules are a mapping such as {{'>=': 0.8}}")
        infra = data.get("require_infra_check", False)
        if not isinstance(infra, bool):
            raise InvalidInputError("require_infra_check must be true or false")
        return cls(tuple(rules), tuple(slice_rules), infra)

    @classmethod
    def from_yaml(cls, text: str) -> BlessingPolicy:
        """A policy from YAML text (the dict form)."""
        import yaml

        return cls.from_dict(yaml.safe_load(text) or {})

    @classmethod
    def load(cls, path: str | Path) -> BlessingPolicy:
        """A policy from a YAML file."""
        return cls.from_yaml(Path(path).read_text(encoding="utf-8"))

    def to_dict(self) -> dict[str, Any]:
        """The dict form (:meth:`from_dict` gives an equal policy back)."""
        data: dict[str, Any] = {}
        for rule in self.rules:
            data.setdefault(rule.metric, {})[rule.op] = rule.bound
        if self.slice_rules:
            data["slices"] = [rule.to_dict() for rule in self.slice_rules]
        data["require_infra_check"] = self.require_infra_check
        return data


def _slice_rule(item: Any) -> SliceRule:
    if not isinstance(item, Mapping) or "metric" not in item:
        raise InvalidInputError("slices: give {'metric': ..., 'max_drop': ...} (and 'against')")
    ops = [key for key in item if key not in ("metric", "against")]
    if len(ops) != 1:
        raise InvalidInputError(f"slices: give exactly one bound for {item['metric']}, not {ops}")
    rule = Rule(item["metric"], ops[0], item[ops[0]])
    return SliceRule(rule, item.get("against", "overall"))


def compare(rule: Rule, before: float, after: float) -> tuple[bool, float | None, str]:
    """Whether ``after`` is within ``rule`` of ``before``: ``(passed, change, words)``."""
    worse = before - after if rule.op in DROPS else after - before
    word = "drop" if rule.op in DROPS else "increase"
    if rule.op.endswith("_ratio"):
        change = worse / abs(before) if before else (math.inf if worse > 0 else 0.0)
        amount = f"{change:.2%}" if math.isfinite(change) else "from 0"
    else:
        change, amount = worse, f"{worse:.4g}"
    passed = change <= rule.bound + EPSILON
    if change <= 0:
        return passed, finite(change), f"no {word}"
    limit = f"{rule.bound:.2%}" if rule.op.endswith("_ratio") else f"{rule.bound:g}"
    verdict = f"within {rule.op} {limit}" if passed else f"more than {rule.op} {limit} allows"
    article = "a" if word == "drop" else "an"
    return passed, finite(change), f"{article} {word} of {amount}, {verdict}"
