"""The policy store: what a PDP decides with, how it is read, checked and swapped.

A store's *sources* are text: Cedar policies (one or more named texts, policy ids from
``@id``), an optional Cedar schema, optional entities JSON and an optional AuthZEN
mapping (see :mod:`cedarlang_serve.mapping`). :func:`build_snapshot` turns sources into
a :class:`Snapshot` (parsed, linked to the schema, validated) or raises
:class:`StoreError` saying why; a :class:`StoreHolder` holds the snapshot in service and
swaps it atomically (one reference assignment), so a request sees either the old or the
new store, never a mix.

Backends: :class:`DirectoryStore` (a folder: ``*.cedar``, at most one ``*.cedarschema``,
``entities.json``, ``authzen.json``) here, and the PostgreSQL store in
:mod:`cedarlang_serve.pg_store`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from cedarlang import CedarError, DiagnosticError, Entities, PolicySet, Schema, Validator

from .errors import StoreError, StoreUnavailable
from .mapping import Mapping

log = logging.getLogger("cedarlang_serve.store")

PARTS = ("policies", "schema", "entities", "mapping")
"""The parts of a store that can be read and replaced one at a time."""

ENTITIES_FILE = "entities.json"
MAPPING_FILE = "authzen.json"
POLICIES_FILE = "policies.cedar"
SCHEMA_FILE = "schema.cedarschema"


@dataclass(frozen=True)
class Sources:
    """The text of a store. ``policies`` maps a name (file name) to Cedar text."""

    policies: MappingABC[str, str]
    schema: str | None = None
    entities: str | None = None
    mapping: str | None = None

    def digest(self) -> str:
        """A short hash of everything: equal on every replica that serves the same store."""
        h = hashlib.sha256()
        for name in sorted(self.policies):
            h.update(b"P\0" + name.encode() + b"\0" + self.policies[name].encode() + b"\0")
        for part in (self.schema, self.entities, self.mapping):
            h.update(b"-" if part is None else b"+" + part.encode() + b"\0")
        return h.hexdigest()[:16]

    def policy_text(self) -> str:
        """All policies as one text (the admin API's view of them)."""
        return "\n".join(self.policies[name] for name in sorted(self.policies))


@dataclass(frozen=True)
class Snapshot:
    """A checked store, ready to decide with (never changed once built)."""

    sources: Sources
    policies: PolicySet
    schema: Schema | None
    entities: Entities
    mapping: Mapping
    version: str
    loaded_at: float = field(default_factory=time.time)


def parse_policies(text: str, name: str, into: PolicySet) -> None:
    """Parse ``text`` and add its policies to ``into``, each named by its ``@id``
    annotation (a policy without one keeps ``<name>#policyN``)."""
    parsed = PolicySet.from_str(text, name)
    for template in parsed.templates():
        into.add_template(template, template.annotations.get("id") or f"{name}#{template.id}")
    for policy in parsed.policies():
        into.add(policy, policy.annotation("id") or f"{name}#{policy.id}")


def build_snapshot(sources: Sources) -> Snapshot:
    """Parse and check ``sources``; :class:`StoreError` says what is wrong."""
    schema: Schema | None = None
    if sources.schema is not None:
        schema = _load(lambda: Schema.from_str_or_json(sources.schema or "", "schema"), "the schema")
    policies = PolicySet()
    for name in sorted(sources.policies):
        text = sources.policies[name]
        _load(lambda text=text, name=name: parse_policies(text, name, policies), f"policies {name}")  # type: ignore[misc]
    if schema is not None:
        result = Validator(schema).validate(policies)
        if not result.passed:
            details = [d.render() for d in result.errors]
            raise StoreError(
                f"the policies do not validate against the schema ({len(details)} errors)", details
            )
    entities = _load(
        lambda: Entities.from_json(sources.entities or "[]", schema=schema), f"entities ({ENTITIES_FILE})"
    )
    mapping = _load(lambda: Mapping.from_json(sources.mapping), f"the mapping ({MAPPING_FILE})")
    return Snapshot(sources, policies, schema, entities, mapping, sources.digest())


T = TypeVar("T")


def _load(build: Callable[[], T], what: str) -> T:
    try:
        return build()
    except DiagnosticError as err:
        raise StoreError(f"cannot load {what}: {err.diagnostics[0].headline()}", [err.render()]) from err
    except CedarError as err:
        raise StoreError(f"cannot load {what}: {err}") from err


class Backend(Protocol):
    """Where a store's sources live (a folder, a database)."""

    def describe(self) -> str: ...

    def read(self) -> Sources: ...

    def write(self, part: str, text: str | None) -> None:
        """Replace one part (``policies``, ``schema``, ``entities``, ``mapping``);
        ``None`` removes an optional part."""
        ...

    def changed(self) -> bool:
        """Whether the sources may have changed since the last :meth:`read` (cheap; polled)."""
        ...


class DirectoryStore:
    """A folder: ``*.cedar`` policies, at most one ``*.cedarschema``, ``entities.json``
    and ``authzen.json``. Writes go through a temporary file and a rename."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise StoreError(f"the policy store `{self.path}` is not a directory")
        self._signature: tuple[tuple[str, int, int], ...] | None = None

    def describe(self) -> str:
        return str(self.path)

    def _files(self) -> list[Path]:
        names = (POLICIES_FILE, ENTITIES_FILE, MAPPING_FILE)
        return sorted(
            p for p in self.path.iterdir() if p.suffix in (".cedar", ".cedarschema") or p.name in names
        )

    def _signature_now(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for p in self._files():
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            found.append((p.name, st.st_mtime_ns, st.st_size))
        return tuple(found)

    def changed(self) -> bool:
        return self._signature_now() != self._signature

    def read(self) -> Sources:
        signature = self._signature_now()
        policies: dict[str, str] = {}
        schemas: list[Path] = []
        entities = mapping = None
        try:
            for p in self._files():
                if p.suffix == ".cedar":
                    policies[p.name] = p.read_text(encoding="utf-8")
                elif p.suffix == ".cedarschema":
                    schemas.append(p)
                elif p.name == ENTITIES_FILE:
                    entities = p.read_text(encoding="utf-8")
                elif p.name == MAPPING_FILE:
                    mapping = p.read_text(encoding="utf-8")
            if len(schemas) > 1:
                raise StoreError(
                    f"the policy store `{self.path}` has {len(schemas)} schema files; at most one "
                    "*.cedarschema is allowed: " + ", ".join(p.name for p in schemas)
                )
            schema = schemas[0].read_text(encoding="utf-8") if schemas else None
        except (OSError, UnicodeDecodeError) as err:
            raise StoreError(f"cannot read the policy store `{self.path}`: {err}") from err
        if not policies:
            raise StoreError(f"the policy store `{self.path}` has no *.cedar policy file")
        self._signature = signature
        return Sources(policies, schema, entities, mapping)

    def write(self, part: str, text: str | None) -> None:
        try:
            self._write(part, text)
        except OSError as err:
            raise StoreUnavailable(f"cannot write the policy store `{self.path}`: {err}") from err

    def _write(self, part: str, text: str | None) -> None:
        if part == "policies":
            assert text is not None
            self._put(POLICIES_FILE, text)
            for p in self.path.glob("*.cedar"):
                if p.name != POLICIES_FILE:
                    p.unlink()
            return
        if part == "schema":
            existing = sorted(self.path.glob("*.cedarschema"))
            name = existing[0].name if existing else SCHEMA_FILE
            for p in existing[1:] if text is not None else existing:
                p.unlink()
            if text is not None:
                self._put(name, text)
            return
        name = {"entities": ENTITIES_FILE, "mapping": MAPPING_FILE}[part]
        if text is None:
            (self.path / name).unlink(missing_ok=True)
        else:
            self._put(name, text)

    def _put(self, name: str, text: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, self.path / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class StoreHolder:
    """The snapshot in service, swapped whole; the last load failure, if any."""

    def __init__(self, backend: Backend, snapshot: Snapshot) -> None:
        self.backend = backend
        self.snapshot = snapshot
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, backend: Backend) -> StoreHolder:
        """Read and check the store; a bad store at start-up is an error (nothing to serve)."""
        return cls(backend, build_snapshot(backend.read()))

    def reload(self) -> bool:
        """Read the backend again; swap in the result if it is good. A bad store keeps the
        snapshot in service and is logged (and kept in ``last_error``). True if swapped."""
        with self._lock:
            try:
                snapshot = build_snapshot(self.backend.read())
            except StoreError as err:
                self.last_error, self.last_error_at = err.render(), time.time()
                log.error(
                    "policy store %s not reloaded, still serving version %s: %s",
                    self.backend.describe(),
                    self.snapshot.version,
                    err.render(),
                )
                return False
            self.last_error = self.last_error_at = None
            if snapshot.version == self.snapshot.version:
                return False
            self.snapshot = snapshot
            log.info("policy store %s reloaded: version %s", self.backend.describe(), snapshot.version)
            return True

    def replace(self, part: str, text: str | None) -> Snapshot:
        """Check a store with ``part`` replaced, write it to the backend, serve it.
        Raises :class:`StoreError` (nothing written) if the result would not load."""
        with self._lock:
            current = self.snapshot.sources
            if part == "policies":
                if text is None:
                    raise StoreError("the policies cannot be removed")
                sources = Sources({POLICIES_FILE: text}, current.schema, current.entities, current.mapping)
            else:
                values = {"schema": current.schema, "entities": current.entities, "mapping": current.mapping}
                values[part] = text
                sources = Sources(current.policies, **values)
            snapshot = build_snapshot(sources)
            self.backend.write(part, text)
            self.snapshot = snapshot
            self.last_error = self.last_error_at = None
            log.info(
                "policy store %s: %s replaced, version %s", self.backend.describe(), part, snapshot.version
            )
            return snapshot
