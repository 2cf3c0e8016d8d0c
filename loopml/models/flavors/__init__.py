"""Flavors: how each kind of model is written to and read from a package.

:class:`Flavor` is the one loader interface; :func:`flavors` lists the
registered ones (built-ins are imported only when first used, so listing
them imports no machine-learning library).
"""

from __future__ import annotations

from loopml.models.flavors.base import (
    Flavor,
    flavor_for,
    flavors,
    get_flavor,
    register_flavor,
)

__all__ = ["Flavor", "flavor_for", "flavors", "get_flavor", "register_flavor"]
