"""Errors of data validation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopml.pipelines.errors import StepRejectedError

if TYPE_CHECKING:
    from loopml.validation.anomalies import ValidationReport
    from loopml.validation.blessing import Blessing


class DataValidationError(StepRejectedError):
    """A batch has anomalies of severity ``error``: the pipeline stops for a human.

    Raised by :meth:`ValidationReport.raise_for_errors` and the validation step;
    the report travels as the rejection's evidence (stored as an artifact of
    the failed step) and as :attr:`report` where it is raised.
    """

    error_code = "data_validation_failed"

    def __init__(self, report: ValidationReport) -> None:
        errors = report.errors
        lines = [f"{a.feature or 'dataset'}: {a.kind}: {a.message}" for a in errors[:10]]
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        message = (
            f"{report.dataset} fails validation with {len(errors)} "
            f"error{'s' if len(errors) != 1 else ''}:\n  " + "\n  ".join(lines) + more
        )
        super().__init__(message, evidence={"report": report})
        self.report = report


class ModelNotBlessedError(StepRejectedError):
    """A candidate model failed its blessing: it must not replace the production version.

    Raised by :meth:`Blessing.raise_if_not_blessed` and the ``bless_model`` step;
    the blessing travels as the rejection's evidence (stored as an artifact of
    the failed step) and as :attr:`blessing` where it is raised.
    """

    error_code = "model_not_blessed"

    def __init__(self, blessing: Blessing) -> None:
        failed = blessing.failed
        lines = [f"{check.name}: {check.message}" for check in failed[:10]]
        more = f"\n  ... and {len(failed) - 10} more" if len(failed) > 10 else ""
        name = blessing.candidate.get("name") or "the candidate model"
        message = (
            f"{name} is not blessed: {len(failed)} failed "
            f"check{'s' if len(failed) != 1 else ''}:\n  " + "\n  ".join(lines) + more
        )
        super().__init__(message, evidence={"blessing": blessing})
        self.blessing = blessing
