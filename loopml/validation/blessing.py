"""Validate a candidate model against production: a policy of checks, and the blessing it gives.

.. code-block:: python

    policy = BlessingPolicy.from_dict({
        "roc_auc": {">=": 0.80},                         # absolute
        "f1": {"max_drop": 0.005},                       # relative to production
        "log_loss": {"max_increase_ratio": 0.02},        # at most 2% worse
        "slices": {"metric": "roc_auc", "max_drop": 0.05},
        "require_infra_check": True,
    })
    blessing = bless(candidate, policy, baseline=production, infra=infra_check(model_id))
    blessing.blessed, [c.message for c in blessing.failed]

Rules on a metric: ``>=``, ``>``, ``<=``, ``<`` (absolute); ``max_drop`` and
``max_drop_ratio`` for metrics that are better higher, ``max_increase`` and
``max_increase_ratio`` for those better lower (relative to the baseline: the
production model's evaluation, best on the same test set). A slice rule
bounds how far any slice group may fall behind the candidate's overall value
(``against: overall``, the default) or behind the baseline's same group
(``against: baseline``); groups with ``insufficient_data`` are skipped. With
no baseline (the first model), relative checks pass and say so.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from loopml.validation.evaluation import OK, Evaluation, SliceMetrics
from loopml.validation.metrics import finite
from loopml.validation.policy import ABSOLUTE, BlessingPolicy, Rule, SliceRule, compare

NO_BASELINE = "no production version to compare with"
# A judged slice group: key, reference value, its value, change, passed.
Judged = tuple[str, float, float, float | None, bool]


@dataclasses.dataclass(frozen=True)
class Check:
    """One check of a blessing.

    Attributes:
        name: the rule (``"roc_auc >= 0.8"``, ``"slices: roc_auc max_drop 0.05 vs overall"``,
            ``"comparable"``, ``"infra"``).
        passed: whether it holds.
        value: what was measured: the metric (absolute), its change (relative),
            the worst group's change (slices), seconds (infra); None if nothing was.
        threshold: the bound.
        message: what was compared and, on failure, what missed which threshold.
    """

    name: str
    passed: bool
    value: float | None
    threshold: float | None
    message: str


@dataclasses.dataclass(frozen=True)
class Blessing:
    """The verdict on a candidate model: blessed when every check passes.

    Attributes:
        blessed: every check passed.
        checks: the checks, in the policy's order (then slices, then infra).
        candidate: the candidate evaluation's summary (name, task, rows, metrics).
        baseline: the baseline's summary, or None when there was no production version.
        policy: the policy, in its dict form.
        infra: the infrastructure check (``passed``, ``seconds``, ``error``), if one ran.
    """

    blessed: bool
    checks: tuple[Check, ...]
    candidate: dict[str, Any]
    baseline: dict[str, Any] | None = None
    policy: dict[str, Any] = dataclasses.field(default_factory=dict)
    infra: dict[str, Any] | None = None

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that did not pass."""
        return tuple(check for check in self.checks if not check.passed)

    def raise_if_not_blessed(self) -> Blessing:
        """This blessing, if blessed.

        Raises:
            ModelNotBlessedError: if not, with this blessing as evidence.
        """
        if not self.blessed:
            from loopml.validation.errors import ModelNotBlessedError

            raise ModelNotBlessedError(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The blessing as JSON-safe plain values."""
        data = dataclasses.asdict(self)
        data["checks"] = [dataclasses.asdict(check) for check in self.checks]
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Blessing:
        """The inverse of :meth:`to_dict`.

        Raises:
            ValueError: if ``data`` is not a blessing's dict.
        """
        try:
            fields = {field.name for field in dataclasses.fields(cls)}
            values = {key: value for key, value in data.items() if key in fields}
            values["checks"] = tuple(Check(**check) for check in data["checks"])
            return cls(**values)
        except (TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"not a blessing: {exc}") from None

    def to_html(self, *, title: str | None = None) -> str:
        """A self-contained HTML page: verdict, checks, candidate against baseline."""
        from loopml.validation.model_reports import blessing_html

        return blessing_html(self, title=title)


def bless(
    candidate: Evaluation,
    policy: BlessingPolicy | Mapping[str, Any],
    *,
    baseline: Evaluation | None = None,
    infra: Any | None = None,
) -> Blessing:
    """Check ``candidate`` against ``policy`` (and ``baseline``, the production version's).

    Args:
        candidate: the new model's evaluation.
        policy: a :class:`BlessingPolicy` or its dict form.
        baseline: the production model's evaluation (best: on the same test set);
            None when nothing is in production yet.
        infra: the result of :func:`loopml.models.infra_check` (anything with
            ``passed``, ``seconds`` and ``error``), or None if none ran.

    Returns:
        The :class:`Blessing`; ``blessed`` is true when every check passed.
    """
    rules = policy if isinstance(policy, BlessingPolicy) else BlessingPolicy.from_dict(policy)
    checks: list[Check] = []
    comparable = True
    if baseline is not None:
        check = _comparable(candidate, baseline)
        comparable = check.passed
        checks.append(check)
    for rule in rules.rules:
        if rule.relative:
            checks.append(_relative_check(rule, candidate, baseline if comparable else None))
        else:
            checks.append(_absolute_check(rule, candidate))
    checks += [_slice_check(rule, candidate, baseline) for rule in rules.slice_rules]
    infra_summary = _infra_summary(infra)
    if rules.require_infra_check or infra_summary is not None:
        checks.append(_infra_check(infra_summary))
    return Blessing(
        blessed=all(check.passed for check in checks),
        checks=tuple(checks),
        candidate=candidate.summary(),
        baseline=None if baseline is None else baseline.summary(),
        policy=rules.to_dict(),
        infra=infra_summary,
    )


def _comparable(candidate: Evaluation, baseline: Evaluation) -> Check:
    same = (candidate.task, candidate.target) == (baseline.task, baseline.target)
    if not same:
        message = (
            f"the production evaluation is {baseline.task} on {baseline.target!r}, the "
            f"candidate's {candidate.task} on {candidate.target!r}: relative checks cannot compare"
        )
        return Check("comparable", False, None, None, message)
    message = f"both {candidate.task} on {candidate.target!r}"
    if candidate.data_fingerprint and candidate.data_fingerprint == baseline.data_fingerprint:
        message += ", evaluated on the same rows"
    else:
        message += (
            f"; evaluated on different rows ({candidate.rows:,} and {baseline.rows:,}): "
            "evaluate the production model on the candidate's test set for a fair comparison"
        )
    return Check("comparable", True, None, None, message)


def _absolute_check(rule: Rule, candidate: Evaluation) -> Check:
    value, missing = _value(candidate, rule.metric, "the candidate")
    if missing:
        return Check(str(rule), False, None, rule.bound, missing)
    assert value is not None
    passed = bool(ABSOLUTE[rule.op](value, rule.bound))
    verdict = "" if passed else f", missing the threshold {rule.op} {rule.bound:g}"
    message = f"{rule.metric} = {value:.4g}{verdict}"
    return Check(str(rule), passed, value, rule.bound, message)


def _relative_check(rule: Rule, candidate: Evaluation, baseline: Evaluation | None) -> Check:
    after, missing = _value(candidate, rule.metric, "the candidate")
    if missing:
        return Check(str(rule), False, None, rule.bound, missing)
    if baseline is None:
        return Check(str(rule), True, None, rule.bound, NO_BASELINE)
    before, absent = _value(baseline, rule.metric, "the production version")
    if absent or before is None or after is None:
        return Check(str(rule), True, None, rule.bound, f"{absent}: nothing to compare with")
    passed, change, text = compare(rule, before, after)
    message = f"{rule.metric} {before:.4g} in production -> {after:.4g}: {text}"
    return Check(str(rule), passed, change, rule.bound, message)


def _slice_check(rule: SliceRule, candidate: Evaluation, baseline: Evaluation | None) -> Check:
    """One check over every slice group of ``candidate`` (groups with too few rows skipped)."""
    name = f"slices: {rule.rule} vs {rule.against}"
    metric, bound = rule.rule.metric, rule.rule.bound
    if metric not in candidate.metrics:
        message = f"{metric} is not a metric of a {candidate.task} evaluation"
        return Check(name, False, None, bound, message)
    if rule.against == "baseline" and baseline is None:
        return Check(name, True, None, bound, NO_BASELINE)
    overall = candidate.metrics[metric]
    if rule.against == "overall" and overall is None:
        why = candidate.notes.get(metric, "undefined")
        return Check(name, False, None, bound, f"{metric} overall is undefined: {why}")
    judged: list[Judged] = []
    skipped = {"insufficient data": 0, f"{metric} undefined": 0, "not in production": 0}
    for group in candidate.slices:
        before = overall if rule.against == "overall" else _baseline_value(baseline, group, metric)
        if group.status != OK:
            skipped["insufficient data"] += 1
        elif group.metrics.get(metric) is None:
            skipped[f"{metric} undefined"] += 1
        elif before is None:
            skipped["not in production"] += 1
        else:
            after = group.metrics[metric]
            assert after is not None
            passed, change, _ = compare(rule.rule, before, after)
            judged.append((group.key, before, after, change, passed))
    return _verdict(name, rule, judged, skipped)


def _baseline_value(baseline: Evaluation | None, group: SliceMetrics, metric: str) -> float | None:
    if baseline is None:
        return None
    try:
        same = baseline.group(group.key)
    except KeyError:
        return None
    return same.metrics.get(metric) if same.status == OK else None


def _verdict(name: str, rule: SliceRule, judged: list[Judged], skipped: dict[str, int]) -> Check:
    metric, bound = rule.rule.metric, rule.rule.bound
    reference = "the overall value" if rule.against == "overall" else "the production slice"
    skips = ", ".join(f"{count} {why}" for why, count in skipped.items() if count)
    tail = f" (skipped: {skips})" if skips else ""
    if not judged:
        return Check(name, True, None, bound, f"no slice group to judge{tail}")
    changes = [change for *_, change, _ in judged if change is not None]
    worst = max(changes) if changes else None
    failures = [item for item in judged if not item[-1]]
    if not failures:
        message = f"{len(judged)} groups within {rule.rule.op} {bound:g} of {reference}{tail}"
        return Check(name, True, worst, bound, message)
    shown = "; ".join(
        f"{key}: {metric} {after:.4g} vs {before:.4g}" for key, before, after, _, _ in failures[:5]
    )
    more = f"; and {len(failures) - 5} more" if len(failures) > 5 else ""
    message = (
        f"{len(failures)} of {len(judged)} groups fall behind {reference} by more than "
        f"{rule.rule.op} {bound:g}: {shown}{more}{tail}"
    )
    return Check(name, False, worst, bound, message)


def _value(evaluation: Evaluation, metric: str, whose: str) -> tuple[float | None, str]:
    """``(value, "")``, or ``(None, why there is none)``."""
    if metric not in evaluation.metrics:
        return None, f"{metric} is not a metric of a {evaluation.task} evaluation ({whose})"
    value = evaluation.metrics[metric]
    if value is None:
        why = evaluation.notes.get(metric, "undefined")
        return None, f"{metric} is undefined for {whose}: {why}"
    return value, ""


def _infra_summary(infra: Any | None) -> dict[str, Any] | None:
    if infra is None:
        return None
    error = getattr(infra, "error", None)
    return {
        "passed": bool(infra.passed),
        "seconds": finite(getattr(infra, "seconds", None)),
        "error": None if error is None else str(error),
    }


def _infra_check(infra: dict[str, Any] | None) -> Check:
    if infra is None:
        message = "the policy requires an infrastructure check and none ran (give the model)"
        return Check("infra", False, None, None, message)
    seconds = infra["seconds"]
    took = f" in {seconds:.2f} s" if seconds is not None else ""
    if infra["passed"]:
        message = f"loaded in a fresh process and its signature exercised{took}"
        return Check("infra", True, seconds, None, message)
    return Check(
        "infra", False, seconds, None, f"the infrastructure check failed: {infra['error']}"
    )
