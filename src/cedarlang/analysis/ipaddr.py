"""``ipaddr`` values as 137-bit vectors: the IPv4 flag, the address (128 bits, an IPv4
address in the low 32) and the prefix length (8 bits), so that Cedar's equality of
``ipaddr`` values (same version, address and prefix: ``extensions/ipaddr.py``) is
equality of terms.  The methods follow ``IPAddr`` in ``extensions/ipaddr.py``.
"""

from __future__ import annotations

from typing import Any

from ..extensions.ipaddr import PREFIX_MAX_LEN_V4, PREFIX_MAX_LEN_V6, IPAddr

__all__ = ["WIDTH", "IpEncoding"]

WIDTH = 1 + 128 + 8
Term = Any


class IpEncoding:
    def __init__(self, tm: Any, kind: Any) -> None:
        self.tm = tm
        self.K = kind

    # -- layout -----------------------------------------------------------------------------

    def constant(self, value: IPAddr) -> Term:
        packed = (int(value.is_v4) << 136) | (value.addr << 8) | value.prefix
        return self.tm.mkBitVector(WIDTH, packed)

    def unpack(self, packed: int) -> IPAddr:
        return IPAddr(bool(packed >> 136), (packed >> 8) & ((1 << 128) - 1), packed & 0xFF)

    def _extract(self, t: Term, high: int, low: int) -> Term:
        op = self.tm.mkOp(self.K.BITVECTOR_EXTRACT, high, low)
        return self.tm.mkTerm(op, t)

    def is_v4(self, t: Term) -> Term:
        return self._eq(self._extract(t, 136, 136), self.tm.mkBitVector(1, 1))

    def addr(self, t: Term) -> Term:
        return self._extract(t, 135, 8)

    def prefix(self, t: Term) -> Term:
        return self._extract(t, 7, 0)

    def _eq(self, a: Term, b: Term) -> Term:
        return self.tm.mkTerm(self.K.EQUAL, a, b)

    def _bv(self, width: int, value: int) -> Term:
        return self.tm.mkBitVector(width, value)

    def _ule(self, a: Term, b: Term) -> Term:
        return self.tm.mkTerm(self.K.BITVECTOR_ULE, a, b)

    def _ite(self, c: Term, a: Term, b: Term) -> Term:
        return self.tm.mkTerm(self.K.ITE, c, a, b)

    def _and(self, *ts: Term) -> Term:
        return self.tm.mkTerm(self.K.AND, *ts)

    # -- well-formedness of a symbolic value ----------------------------------------------------

    def well_formed(self, t: Term) -> Term:
        v4 = self._and(
            self._ule(self.addr(t), self._bv(128, (1 << 32) - 1)),
            self._ule(self.prefix(t), self._bv(8, PREFIX_MAX_LEN_V4)),
        )
        v6 = self._ule(self.prefix(t), self._bv(8, PREFIX_MAX_LEN_V6))
        return self._ite(self.is_v4(t), v4, v6)

    # -- the methods ---------------------------------------------------------------------------

    def is_loopback(self, t: Term) -> Term:
        addr, prefix = self.addr(t), self.prefix(t)
        v4 = self._and(
            self._eq(self._extract(addr, 31, 24), self._bv(8, 127)), self._ule(self._bv(8, 8), prefix)
        )
        v6 = self._and(self._eq(addr, self._bv(128, 1)), self._ule(self._bv(8, PREFIX_MAX_LEN_V6), prefix))
        return self._ite(self.is_v4(t), v4, v6)

    def is_multicast(self, t: Term) -> Term:
        addr, prefix = self.addr(t), self.prefix(t)
        top4 = self._extract(addr, 31, 24)
        v4 = self._and(
            self._ule(self._bv(8, 224), top4),
            self._ule(top4, self._bv(8, 239)),
            self._ule(self._bv(8, 4), prefix),
        )
        v6 = self._and(
            self._eq(self._extract(addr, 127, 120), self._bv(8, 0xFF)), self._ule(self._bv(8, 8), prefix)
        )
        return self._ite(self.is_v4(t), v4, v6)

    def _hostmask(self, t: Term) -> Term:
        """``(1 << (bits - prefix)) - 1`` in 128 bits (a shift by 128 is 0: all ones)."""
        bits = self._ite(self.is_v4(t), self._bv(128, PREFIX_MAX_LEN_V4), self._bv(128, PREFIX_MAX_LEN_V6))
        prefix = self.tm.mkTerm(self.tm.mkOp(self.K.BITVECTOR_ZERO_EXTEND, 120), self.prefix(t))
        shift = self.tm.mkTerm(self.K.BITVECTOR_SUB, bits, prefix)
        one = self._bv(128, 1)
        return self.tm.mkTerm(self.K.BITVECTOR_SUB, self.tm.mkTerm(self.K.BITVECTOR_SHL, one, shift), one)

    def is_in_range(self, t: Term, other: Term) -> Term:
        full = self._ite(self.is_v4(t), self._bv(128, (1 << 32) - 1), self._bv(128, (1 << 128) - 1))

        def network(x: Term) -> Term:
            mask = self.tm.mkTerm(self.K.BITVECTOR_XOR, full, self._hostmask(x))
            return self.tm.mkTerm(self.K.BITVECTOR_AND, self.addr(x), mask)

        def broadcast(x: Term) -> Term:
            return self.tm.mkTerm(self.K.BITVECTOR_OR, self.addr(x), self._hostmask(x))

        return self._and(
            self._eq(self.is_v4(t), self.is_v4(other)),
            self._ule(network(other), network(t)),
            self._ule(broadcast(t), broadcast(other)),
        )
