"""What every extension value shares: immutable, and written back out (as Cedar text or
JSON) as the constructor call with the argument it was built from, as Rust does."""

from __future__ import annotations

from typing import Any, ClassVar

from ..lexical import quote


class ExtensionValue:
    """Base of :class:`~.Decimal`, :class:`~.IPAddr` and :class:`~.Duration` (a computed
    :class:`~.Datetime` is written as an expression, so it has its own printing).
    ``constructor`` is the Cedar function that builds one, ``_src`` its argument (``None``
    for a computed value, which :meth:`canonical` then writes)."""

    __slots__ = ("_src",)

    cedar_type: ClassVar[str]
    constructor: ClassVar[str]
    _src: str | None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r})"

    def __str__(self) -> str:
        return self.to_cedar()

    @property
    def source(self) -> str:
        """The constructor argument (the canonical text if there was none)."""
        return self._src if self._src is not None else self.canonical()

    def canonical(self) -> str:
        """The constructor argument Rust's ``Display`` writes for this value."""
        raise NotImplementedError(type(self).__name__)

    def to_cedar(self) -> str:
        return f"{self.constructor}({quote(self.source)})"

    def to_json(self) -> dict[str, Any]:
        return {"__extn": {"fn": self.constructor, "arg": self.source}}
