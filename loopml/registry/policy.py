"""Governance policies: what a version needs before a protected alias may point at it.

A policy is YAML, one per registered model::

    required_checks: [blessing, data_validation]   # passing checks recorded on the version
    approvals: {count: 1, roles: [ml-lead]}         # approvals needed, and by whom
    four_eyes: true                                 # the author cannot approve their version
    auto_promote: {alias: production}               # move it as soon as the policy allows
    protected_aliases: [production]                 # only these aliases need the policy

Where it is read from (first found): ``registry.policies.<model>`` in
``loopml.yaml`` (a file path, or the policy inline), ``registry.policies."*"``,
``<policies folder>/<model>.yaml`` where the folder is ``registry.policies``
when it is a string, else ``policies/``. A model with no policy gets
:data:`DEFAULT_POLICY`: ``production`` is protected. Whatever the policy says,
a protected alias never points at a version without a passing ``blessing``
check. Roles come from ``registry.roles`` (``{alice: [ml-lead]}``).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loopml.core.config import Settings
from loopml.core.errors import ConfigError
from loopml.core.hashing import stable_hash

BLESSING = "blessing"
_KEYS = ("required_checks", "approvals", "four_eyes", "auto_promote", "protected_aliases")


@dataclasses.dataclass(frozen=True)
class Policy:
    """The governance rules of one registered model (see the module's docstring)."""

    required_checks: tuple[str, ...] = ()
    approvals: int = 0
    approver_roles: tuple[str, ...] = ()
    four_eyes: bool = False
    auto_promote: str | None = None
    protected_aliases: tuple[str, ...] = ("production",)
    source: str = "default"

    def checks_for(self, alias: str) -> tuple[str, ...]:
        """The checks a version needs for ``alias``: blessing first when it is protected."""
        if alias not in self.protected_aliases:
            return ()
        return (BLESSING, *(c for c in self.required_checks if c != BLESSING))

    def to_dict(self) -> dict[str, Any]:
        """The policy as its YAML reads (without where it came from)."""
        return {
            "required_checks": list(self.required_checks),
            "approvals": {"count": self.approvals, "roles": list(self.approver_roles)},
            "four_eyes": self.four_eyes,
            "auto_promote": {"alias": self.auto_promote} if self.auto_promote else None,
            "protected_aliases": list(self.protected_aliases),
        }

    @property
    def hash(self) -> str:
        """A stable hash of the rules, to notice (and audit) a change of policy."""
        return stable_hash(self.to_dict())


DEFAULT_POLICY = Policy()


def registry_section(settings: Settings) -> Mapping[str, Any]:
    """The ``registry:`` section of ``loopml.yaml`` (empty if absent)."""
    section = settings.sections.get("registry") or {}
    if not isinstance(section, Mapping):
        raise ConfigError("loopml.yaml: registry must be a mapping (policies:, roles:)")
    return section


def roles_of(settings: Settings, user: str) -> tuple[str, ...]:
    """The roles ``registry.roles`` gives ``user``."""
    roles = registry_section(settings).get("roles") or {}
    if not isinstance(roles, Mapping):
        raise ConfigError("loopml.yaml: registry.roles maps a user to a list of roles")
    held = roles.get(user) or ()
    if isinstance(held, str):
        held = (held,)
    return tuple(str(role) for role in held)


def load_policy(settings: Settings, model: str) -> Policy:
    """The policy of ``model`` from where the module's docstring says; the default if none.

    Raises:
        ConfigError: if the policy file is missing, not YAML, or has unknown keys.
    """
    configured = registry_section(settings).get("policies")
    root = settings.project_dir
    if isinstance(configured, Mapping):
        entry = configured.get(model, configured.get("*"))
        if isinstance(entry, Mapping):
            return parse_policy(entry, source="loopml.yaml")
        if entry is not None:
            return _read(root / str(entry))
        folder = root / "policies"
    else:
        folder = root / str(configured or "policies")
    path = folder / f"{model}.yaml"
    return _read(path) if path.is_file() else DEFAULT_POLICY


def _read(path: Path) -> Policy:
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read the policy file {str(path)!r}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"the policy file {str(path)!r} is not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ConfigError(f"the policy file {str(path)!r} must hold a mapping")
    return parse_policy(data, source=str(path))


def parse_policy(data: Mapping[str, Any], *, source: str) -> Policy:
    """Build a :class:`Policy` from its YAML mapping.

    Raises:
        ConfigError: on an unknown key or a value of the wrong kind.
    """
    for key in data:
        if key not in _KEYS:
            hint = difflib.get_close_matches(str(key), _KEYS, n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"policy {source}: unknown key {key!r}{also}")
    approvals = data.get("approvals") or {}
    if isinstance(approvals, int) and not isinstance(approvals, bool):
        approvals = {"count": approvals}
    if not isinstance(approvals, Mapping):
        raise ConfigError(f"policy {source}: approvals is {{count: N, roles: [...]}}")
    count = approvals.get("count", 0)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ConfigError(f"policy {source}: approvals.count is a number of approvals, 0 or more")
    auto = data.get("auto_promote")
    if isinstance(auto, Mapping):
        auto = auto.get("alias")
    protected = data.get("protected_aliases", DEFAULT_POLICY.protected_aliases)
    return Policy(
        required_checks=_names(data.get("required_checks"), "required_checks", source),
        approvals=count,
        approver_roles=_names(approvals.get("roles"), "approvals.roles", source),
        four_eyes=bool(data.get("four_eyes", False)),
        auto_promote=None if auto is None else str(auto),
        protected_aliases=_names(protected, "protected_aliases", source),
        source=source,
    )


def _names(value: Any, what: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"policy {source}: {what} is a list of names")
    return tuple(value)
