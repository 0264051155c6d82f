"""``cedarpy.pst`` on cedarlang: the policy syntax tree nodes of :mod:`cedarlang.pst`
(the same classes), under the names cedarpy 4.12.2's module has."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Literal, NoReturn, TypeVar

from ...pst import *  # noqa: F403  (the node types and entity_uids)
from ...pst import _K, _V, _is_node
from ...pst import __all__ as _pst_all

__all__ = [name for name in _pst_all if name not in ("MAX_DEPTH", "from_pst", "policies_to_pst", "to_pst")]

# cedarpy.pst's namespace also holds its imports
_IMPORTED_NAMES = (
    Any,
    Literal,
    Mapping,
    NoReturn,
    TypeVar,
    dataclass,
    fields,
    is_dataclass,
    _is_node,
    _K,
    _V,
)
