"""Errors of the model registry.

::

    ConflictError
    └── RegistryConflictError         an alias moved meanwhile; a version is in use
        └── GovernanceError           the policy refuses: names the rule and how to satisfy it

:class:`GovernanceError` is a :class:`~loopml.core.errors.ConflictError`
because the request is well formed but conflicts with the state of the
version (not blessed yet, not approved yet, rejected): the same call succeeds
once the state changes. Servers answer 409; the CLI exits with 2.
"""

from __future__ import annotations

from loopml.core.errors import ConflictError


class RegistryConflictError(ConflictError):
    """The registry changed under the caller (a concurrent alias move won) or forbids the move."""

    error_code = "registry_conflict"


class GovernanceError(RegistryConflictError):
    """The model's policy refuses the action; ``rule`` names the rule that refused it.

    Nothing changed, except that the refusal was written to the audit log.
    """

    error_code = "governance_refused"

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule
